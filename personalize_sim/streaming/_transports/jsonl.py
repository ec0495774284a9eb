"""JsonlTarget: a dry run, one JSON body per line as the service would receive it."""

from __future__ import annotations

import dataclasses
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import DeliveryError
from .._wire import Prepared
from .base import OK, Response, Target

__all__ = ["JsonlTarget"]


@dataclass
class _Live:
    fd: int | None = None


@dataclass(frozen=True, eq=False, repr=False)
class JsonlTarget(Target):
    """Dry run: append each request's JSON body (as on the wire) to ``path``, one per line."""

    name = "jsonl"

    path: str | os.PathLike[str]
    _live: _Live = field(init=False, repr=False, default_factory=_Live)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    async def open(self) -> None:
        self._live.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def send(self, prepared: Prepared) -> Response:
        fd = self._live.fd
        if fd is None:
            raise RuntimeError("JsonlTarget is not open")
        line = memoryview(prepared.body + b"\n")
        done = 0
        try:  # one write per line with O_APPEND, so several processes can share the file
            while done < len(line):  # a pipe, or a file system near its end, may take a part
                done += os.write(fd, line[done:])
        except OSError as e:  # the disk is full, the file too large for its file system…
            raise DeliveryError(
                f"writing {self.path} failed: {e.strerror or e}; the stream stopped there, and "
                f"{self.path} holds exactly the requests counted as delivered, each a whole "
                "line" + _cut_off(fd, done)
            ) from None
        return OK

    async def close(self) -> None:
        fd, self._live.fd = self._live.fd, None
        if fd is not None:
            if stat.S_ISREG(os.fstat(fd).st_mode):  # a pipe or a tty cannot fsync
                os.fsync(fd)
            os.close(fd)

    def for_worker(self, index: int) -> Target:
        return dataclasses.replace(self)

    def __repr__(self) -> str:
        return f"JsonlTarget({str(self.path)!r})"


def _cut_off(fd: int, torn: int) -> str:
    """Remove the ``torn`` bytes of a line that did not fit (a file's last ones); what to add
    to the message when they cannot be (a pipe: its reader has them already)."""
    if not torn:
        return ""
    try:
        os.ftruncate(fd, os.lseek(fd, 0, os.SEEK_END) - torn)
    except OSError:
        return f" (but for the first {torn} bytes of the next one, which it could not take back)"
    return ""
