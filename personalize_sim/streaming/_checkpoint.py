"""An append-only record of delivered request ids, so an interrupted stream can resume.

Each delivered id is written with one ``os.write`` on an ``O_APPEND`` descriptor the moment
its response arrives, so it survives the process being killed (even ``SIGKILL``: the data
is in the kernel); ``fsync`` runs at most every ``sync_every`` seconds and on close, for
power loss. On resume the ids are read back and those requests are skipped; at most the
requests that were in flight are sent again, which deterministic event ids make harmless.
A torn last line (killed mid-write) is ignored.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["Checkpoint"]


class Checkpoint:
    """Delivered request ids on disk; ``with Checkpoint(path) as cp: cp.add(id)``."""

    def __init__(self, path: str | os.PathLike[str], *, sync_every: float = 0.2) -> None:
        self.path = Path(path)
        self.sync_every = sync_every
        self.done: set[str] = self._read()
        self._fd: int | None = None
        self._last_sync = 0.0
        self._dirty = False

    def _read(self) -> set[str]:
        if not self.path.exists():
            return set()
        with open(self.path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        # the last piece is "" after a complete line, or a torn write: drop it either way
        return {line.decode() for line in lines[:-1] if line}

    def __contains__(self, request_id: str) -> bool:
        return request_id in self.done

    def open(self) -> Checkpoint:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return self

    def add(self, request_id: str) -> None:
        if self._fd is None:
            raise RuntimeError("Checkpoint is not open")
        # ids of this run are not kept in memory: only an earlier run's ids are ever skipped
        os.write(self._fd, request_id.encode() + b"\n")
        self._dirty = True
        now = time.monotonic()
        if now - self._last_sync >= self.sync_every:
            self.sync(now)

    def sync(self, now: float | None = None) -> None:
        if self._fd is not None and self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        self._last_sync = time.monotonic() if now is None else now

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Checkpoint:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r}, delivered={len(self.done)})"
