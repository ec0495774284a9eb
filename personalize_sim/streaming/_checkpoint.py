"""A self-describing, append-only record of delivered request ids, so a stream can resume.

The file is one header line, then one request id per line::

    {"personalize_sim_checkpoint": 1, "input": "blake2b:…", "tracking_id": "…", "requests": 400}
    3f2a…
    …

The header names the format version, a fingerprint of the input (:func:`fingerprint`) and
the tracking id. A file is refused (:class:`~personalize_sim.errors.ConfigError`, nothing
written) when it is not a checkpoint (an events file, binary data, a header-less file of an
older version), has CRLF line endings, was written for another input or another tracking
id, or is not a regular file (it is read back on resume).

Each delivered id is written with one ``os.write`` on an ``O_APPEND`` descriptor the moment
its response arrives, so it survives the process being killed (even ``SIGKILL``: the data
is in the kernel); ``fsync`` runs at most every ``sync_every`` seconds and on close, for
power loss. On resume the ids are read back and those requests are skipped; at most the
requests that were in flight are sent again, which deterministic event ids make harmless.
A torn last line (killed mid-write) is ignored, and cut off before anything is appended.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import stat
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DeliveryError
from ._wire import request_id

__all__ = ["Checkpoint", "InputIdentity", "fingerprint"]

FORMAT_KEY = "personalize_sim_checkpoint"
VERSION = 1
#: requests sampled by the fingerprint (evenly spaced over a sized input; the first of an iterator)
SAMPLED = 64
_ID_LENGTH = 20  # hex digits of a request id (blake2b, 10 bytes)
_HEX_AND_NEWLINE = b"0123456789abcdef\n"


@dataclass(frozen=True)
class InputIdentity:
    """What a checkpoint belongs to: ``fingerprint`` of the input and its ``tracking_id``."""

    fingerprint: str
    tracking_id: str | None
    requests: int | None  # None for an iterator (its length is unknown until it ends)


Requests = list[Mapping[str, Any]] | Iterator[Mapping[str, Any]]


def fingerprint(requests: Requests, tracking_id: str | None) -> tuple[InputIdentity, Requests]:
    """The identity of an input, and the input to use from now on (an iterator is peeked).

    The fingerprint hashes the number of requests and the ids of :data:`SAMPLED` requests
    spread evenly over them (first and last included); of an iterator, only its first
    :data:`SAMPLED` requests (read ahead and put back). Request ids hash the tracking id,
    session id and event ids, so the same events give the same fingerprint whatever the
    file format; the cost does not grow with the input. Two inputs that differ only between
    the sampled requests (and have the same length) share a fingerprint: that is the price
    of not reading a 10 GB input twice.

    >>> reqs = [{"trackingId": "t", "sessionId": "s", "eventList": [{"eventId": str(i)}]}
    ...         for i in range(100)]
    >>> a, _ = fingerprint(reqs, "t")
    >>> b, _ = fingerprint(reqs[:99], "t")
    >>> a.requests, a == b, a.fingerprint.startswith("blake2b:")
    (100, False, True)
    """
    h = hashlib.blake2b(digest_size=16)
    rest: Requests = requests
    count: int | None = None
    if isinstance(requests, list):
        n = len(requests)
        picks = sorted({i * (n - 1) // (SAMPLED - 1) for i in range(SAMPLED)}) if n else []
        sample = [requests[i] for i in picks]
        h.update(f"requests={n}".encode())
        count = n
    else:
        sample = list(itertools.islice(requests, SAMPLED))
        h.update(b"iterator")
        rest = itertools.chain(sample, requests)
    for request in sample:
        h.update(b"\n" + request_id(request).encode())
    if tracking_id is None and sample:
        tracking_id = sample[0].get("trackingId")
    identity = InputIdentity(f"blake2b:{h.hexdigest()}", tracking_id, count)
    return identity, rest


class Checkpoint:
    """Delivered request ids on disk; ``with Checkpoint(path, identity) as cp: cp.add(id)``.

    ``identity`` (from :func:`fingerprint`) is what the file must belong to; a new file gets
    it as its header. Without it (a worker process appending to its parent's file) the file
    must already have a header, whatever it names.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        identity: InputIdentity | None = None,
        *,
        sync_every: float = 0.2,
    ) -> None:
        self.path = Path(path)
        self.identity = identity
        self.sync_every = sync_every
        self._torn_at: int | None = None  # where a torn last line starts, cut off on open
        self.done: set[str] = self._read()
        self._fd: int | None = None
        self._last_sync = 0.0
        self._dirty = False

    # -- reading and checking -------------------------------------------------------------
    def _refuse(self, why: str) -> ConfigError:
        return ConfigError("checkpoint", str(self.path), why)

    def _read(self) -> set[str]:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return self._new_file()
        if not stat.S_ISREG(info.st_mode):
            raise self._refuse("a regular file (it is read back on resume), not a directory "
                               "or a device/pipe")  # fmt: skip
        with open(self.path, "rb") as f:
            data = f.read()
        if not data:
            return self._new_file()
        end = data.find(b"\n")
        if end < 0:
            raise self._refuse(self._not_a_checkpoint(data))
        self._check_header(data[:end], data)
        body = data[end + 1 :]
        if b"\r" in body:
            raise self._refuse(self._crlf())
        lines = body.split(b"\n")
        if lines[-1]:  # a torn write: ignored now, cut off before appending
            self._torn_at = len(data) - len(lines[-1])
        complete = body[: len(body) - len(lines[-1])]
        lines = lines[:-1]
        if complete.translate(None, _HEX_AND_NEWLINE) or any(len(x) != _ID_LENGTH for x in lines):
            bad = next(i for i, x in enumerate(lines, 2) if not _is_id(x))
            raise self._refuse(f"a request id per line after the header; line {bad} is "
                               f"{lines[bad - 2][:40]!r}: the file was edited or is not a "
                               "checkpoint")  # fmt: skip
        return {x.decode("ascii") for x in lines}

    def _new_file(self) -> set[str]:
        if self.identity is None:
            raise self._refuse("an existing checkpoint with a header (a new one needs the "
                               "identity of its input)")  # fmt: skip
        parent = self.path.parent
        if parent.exists() and not os.access(parent, os.W_OK):
            raise self._refuse(f"a path in a writable folder ({parent} is not writable)")
        return set()

    def _check_header(self, line: bytes, data: bytes) -> None:
        if line.endswith(b"\r"):
            raise self._refuse(self._crlf())
        try:
            header = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            header = None
        if not isinstance(header, dict) or FORMAT_KEY not in header:
            raise self._refuse(self._not_a_checkpoint(data))
        if header[FORMAT_KEY] != VERSION:
            version = header[FORMAT_KEY]
            why = f"checkpoint format {VERSION}; this file has format {version!r}"
            raise self._refuse(why + " (another personalize-sim version)")
        size = header.get("requests")
        if size is not None and (type(size) is not int or size < 0):
            raise self._refuse(f"a header whose \"requests\" is a count (or null); it is "
                               f"{size!r}: the file was edited or is not a checkpoint")  # fmt: skip
        mine = self.identity
        if mine is None:
            return
        theirs = header.get("tracking_id")
        if theirs != mine.tracking_id:
            raise self._refuse(
                f"a checkpoint of tracking id {mine.tracking_id!r}; this one was written for "
                f"{theirs!r}: pass another checkpoint path (or the tracking id it was made for)"
            )
        if header.get("input") != mine.fingerprint:
            was = f"{size:,} requests" if isinstance(size, int) else "an iterator"
            now = f"{mine.requests:,} requests" if mine.requests is not None else "an iterator"
            raise self._refuse(
                f"a checkpoint of this input; it was written for another input ({was}; this "
                f"one has {now}, fingerprint {mine.fingerprint} vs {header.get('input')}): "
                "pass a new checkpoint path"
            )
        if size != mine.requests:  # the fingerprint counts them: the header was edited
            raise self._refuse(f"a header naming this input's {mine.requests} requests; it "
                               f"says {size!r}: the file was edited")  # fmt: skip

    def _not_a_checkpoint(self, data: bytes) -> str:
        first = data.split(b"\n", 1)[0]
        if len(first.rstrip(b"\r")) == _ID_LENGTH and _is_id(first.rstrip(b"\r")):
            return ("a checkpoint with a header; this one is a list of ids from an older "
                    "personalize-sim that cannot be matched to its input: delete it or pass "
                    "a new path")  # fmt: skip
        try:
            data[:4096].decode("utf-8")
        except UnicodeDecodeError as e:
            return (f"a checkpoint file; this is not one (binary data: byte {e.start} is not "
                    "UTF-8 text). Is it the input or another file? Pass a new path")  # fmt: skip
        return (f"a checkpoint file; this is not one (its first line is "
                f"{first[:60].decode('utf-8', 'replace')!r}). Is it the input or another "
                "file? Pass a new path")  # fmt: skip

    def _crlf(self) -> str:
        return ("a checkpoint with Unix line endings; this one has CRLF (Windows) line endings, "
                f"so its ids cannot be trusted: convert it back (dos2unix {self.path}) or pass a "
                "new path")  # fmt: skip

    def __contains__(self, request_id: str) -> bool:
        return request_id in self.done

    # -- writing ----------------------------------------------------------------------------
    def open(self) -> Checkpoint:
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                os.write(fd, self._header())
                os.fsync(fd)
            elif self._torn_at is not None and self.identity is not None:
                os.ftruncate(fd, self._torn_at)  # so the next id starts on a line of its own
                self._torn_at = None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def _header(self) -> bytes:
        if self.identity is None:
            raise self._refuse("a checkpoint with a header (it was emptied while in use)")
        header = {
            FORMAT_KEY: VERSION,
            "input": self.identity.fingerprint,
            "tracking_id": self.identity.tracking_id,
            "requests": self.identity.requests,
        }
        return json.dumps(header).encode() + b"\n"

    def add(self, request_id: str) -> None:
        if self._fd is None:
            raise RuntimeError("Checkpoint is not open")
        # ids of this run are not kept in memory: only an earlier run's ids are ever skipped
        try:
            os.write(self._fd, request_id.encode() + b"\n")
        except OSError as e:  # a torn id is cut off when the file is next opened
            raise DeliveryError(
                f"writing the checkpoint {self.path} failed: {e.strerror or e}; the stream "
                "stopped there (a resume sends its last request again, which the same event "
                "ids make harmless)"
            ) from None
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


def _is_id(line: bytes) -> bool:
    return len(line) == _ID_LENGTH and not line.translate(None, _HEX_AND_NEWLINE)
