"""JsonlTarget: a dry run, one JSON body per line as the service would receive it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .._wire import Prepared
from .base import OK, Response, Target

__all__ = ["JsonlTarget"]


class JsonlTarget(Target):
    """Dry run: append each request's JSON body (as on the wire) to ``path``, one per line."""

    name = "jsonl"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    async def open(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def send(self, prepared: Prepared) -> Response:
        if self._fd is None:
            raise RuntimeError("JsonlTarget is not open")
        # one write per line with O_APPEND, so several processes can share the file
        os.write(self._fd, prepared.body + b"\n")
        return OK

    async def close(self) -> None:
        if self._fd is not None:
            if stat.S_ISREG(os.fstat(self._fd).st_mode):  # a pipe or a tty cannot fsync
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def for_worker(self, index: int) -> Target:
        return JsonlTarget(self.path)

    def __repr__(self) -> str:
        return f"JsonlTarget({str(self.path)!r})"
