"""Time as a parameter: every pacer, backoff and timestamp reads one of these.

``SystemClock`` reads the monotonic clock and really sleeps; ``VirtualClock``
jumps straight to the deadline, so tests can assert exact schedules.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol

from ._checks import number

__all__ = ["Clock", "SystemClock", "VirtualClock"]


class Clock(Protocol):
    """Where pacing, backoff and timestamps read the time: :class:`SystemClock` in use,
    :class:`VirtualClock` in tests (its time moves only when a test or a sleep moves it)."""

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences matter)."""

    def wall(self) -> float:
        """Seconds since the Unix epoch, for timestamps that leave the process."""

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))

    def __repr__(self) -> str:
        return "SystemClock()"


class VirtualClock:
    """A clock that only moves when slept on or advanced; sleeping costs no real time.

    >>> clock = VirtualClock(start=10.0)
    >>> clock.sleep(0.5); clock.now()
    10.5
    """

    def __init__(self, start: float = 0.0, *, epoch: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._epoch = float(epoch) - float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._epoch + self._now

    def advance(self, seconds: float) -> None:
        number(seconds, "seconds", low=0.0)  # time never runs backwards
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # still yield, so other tasks run in a deterministic order

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now!r})"
