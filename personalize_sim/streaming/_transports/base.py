"""What every transport is: a :class:`Target` that sends a prepared request and answers a
:class:`Response`.

The project's transports are frozen dataclasses of their settings (checked in
``__post_init__``); what one acquires while it runs (a connection pool, credentials, a thread
pool) lives in a non-init field. So a copy (``dataclasses.replace``, or the pickle a worker
process gets) has the same settings and none of the run-time state: a new setting is copied
without being named, and nothing live crosses a process boundary.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigTypeError
from .._wire import Prepared

__all__ = ["OK", "Response", "Target", "monotonic", "settings_of", "tls_failure"]

monotonic = time.monotonic  # the clock of SystemClock: wire stamps compare with its times


@dataclass(frozen=True)
class Response:
    """What one attempt got back: HTTP status (0 if none), error code and message.

    ``acquired`` is the monotonic time the transport got a connection or a worker thread for
    it, ``started``/``ended`` when the request went on the wire and its answer came back,
    when the transport knows them (NaN: the sender stamps them itself).
    """

    status: int = 200
    error_code: str = ""
    message: str = ""
    sdk_retries: int = 0
    started: float = math.nan
    ended: float = math.nan
    acquired: float = math.nan


OK = Response()


class Target:
    """Base class: override :meth:`send`; ``open``/``close`` are optional."""

    name = "target"
    #: the transport's own concurrency limit, as (what, how many): ("connections", 64)
    pool: tuple[str, int] | None = None

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages."""
        return repr(self)

    def prepare(self) -> None:
        """Check settings and credentials before the first send (in the caller's process)."""

    async def open(self) -> None:
        """Acquire resources (called on the stream's own event loop)."""

    async def send(self, prepared: Prepared) -> Response:
        raise NotImplementedError

    async def close(self) -> None:
        """Release resources."""

    def for_worker(self, index: int) -> Target:
        """A copy for worker process ``index`` (``processes=N``); must be picklable."""
        raise ConfigTypeError(
            "target", self,
            "a target built from settings to share across processes (processes=N): "
            "target='fast', or Boto3Target(profile=…, region=…) rather than a live client",
        )  # fmt: skip

    def __reduce_ex__(self, protocol: Any) -> Any:
        """A dataclass transport pickles as its settings (a fresh copy, nothing acquired)."""
        if dataclasses.is_dataclass(self):
            return (_rebuild, (type(self), settings_of(self)))
        return super().__reduce_ex__(protocol)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def settings_of(target: Any) -> dict[str, Any]:
    """The settings a dataclass transport was built with (its init fields)."""
    return {f.name: getattr(target, f.name) for f in dataclasses.fields(target) if f.init}


def _rebuild(cls: type, settings: dict[str, Any]) -> Any:
    return cls(**settings)


def tls_failure(url: str, why: str, fix: str) -> str:
    """What a transport says when the TLS handshake with ``url`` fails (``fix``: how to trust
    a private CA with it): one message, whichever transport, so the CLI reads alike."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname
    return (
        f"TLS with {url} failed ({why}): its certificate is not signed by a trusted CA or does "
        f"not name {host}, or it does not speak TLS; {fix}, or check the URL"
    )
