"""What every transport is: a :class:`Target` that sends a prepared request and answers a
:class:`Response`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ...errors import ConfigTypeError
from .._wire import Prepared

__all__ = ["OK", "Response", "Target", "monotonic"]

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
