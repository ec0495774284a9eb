"""Open-model pacing arithmetic: when the next request is due, and whether it is late.

Pure logic, no I/O and no sleeping: the driver asks :meth:`Pacer.due` for the next
request's due time on the monotonic clock, waits until then (and for a free in-flight
slot), and calls :meth:`Pacer.release` as it sends. Due times are absolute
(``start + offsets + schedule time``), so a late send never delays the ones after it.

When the sender falls more than ``max_lag`` seconds behind (CPU saturated, or every
in-flight slot taken), the pacer does *not* fire the backlog in a burst: it slips the
schedule forward to "now" and counts every request whose planned time had already
passed as a **missed send** (k6 calls them dropped iterations). The request itself is
still sent, later; missed sends measure how much the client, not the service, limited
the rate.

>>> from personalize_sim.streaming import constant
>>> p = Pacer(constant(10).cursor(), start=100.0)
>>> p.due(1), p.release(100.0).intended, p.due(1)
(100.0, 100.0, 100.1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._checks import positive
from ._schedules import Cursor

__all__ = ["Pacer", "Release"]


@dataclass(frozen=True)
class Release:
    """One released send: its intended time, its due time after slips, and whether it missed."""

    schedule_time: float
    intended: float
    due: float
    missed: bool


class Pacer:
    """Due times on an absolute schedule, with pause offsets, rate changes and a lag cap."""

    def __init__(self, cursor: Cursor, *, start: float, max_lag: float = 1.0) -> None:
        positive(max_lag, "max_lag")
        self.cursor = cursor
        self.start = float(start)
        self.max_lag = float(max_lag)
        self.pause_offset = 0.0  # time spent paused: intentional, moves intended times too
        self.slip_offset = 0.0  # time slipped when late: not intended, so latency still counts it
        self.missed = 0
        self.slips = 0
        self.paused_at: float | None = None
        self._missed_until = -math.inf  # schedule times below this had passed at a slip
        self._pending: tuple[float, float] | None = None  # (schedule time, events)
        self._released: tuple[float | None, float] = (None, 0.0)

    # -- the schedule ------------------------------------------------------------------------
    def due(self, events: int, sent_at: float | None = None) -> float:
        """Monotonic time the next request (of ``events`` events) is due; stable until released."""
        if self._pending is None:
            self._pending = (self.cursor.next(events, sent_at), events)
        return self._at(self._pending[0]) + self.slip_offset

    def release(self, now: float, *, held: bool = False) -> Release:
        """The pending request is sent at ``now``: check its lag, slip if it is too late.

        ``held``: the sender held it back on purpose (the adaptive rate), so lateness slips the
        schedule without counting a missed send.
        """
        if self._pending is None:
            raise RuntimeError("release() called with no pending request; call due() first")
        s, _events = self._pending
        self._pending = None
        self._released = (self.cursor.last_time, self.cursor.last_weight)
        intended = self._at(s)
        due = intended + self.slip_offset
        missed = s < self._missed_until and not held
        if held and now - due > self.max_lag:
            self.slip_offset += now - due
        elif not missed and now - due > self.max_lag:
            missed = True
            self.slips += 1
            # every slot planned up to now has passed unsent; from here the schedule restarts
            self._missed_until = now - self.start - self.pause_offset - self.slip_offset
            self.slip_offset += now - due
        if missed:
            self.missed += 1
        return Release(schedule_time=s, intended=intended, due=due, missed=missed)

    def _at(self, s: float) -> float:
        return self.start + self.pause_offset + s

    def schedule_time(self, now: float) -> float:
        """Where on the schedule ``now`` falls (inverse of the due-time arithmetic)."""
        return now - self.start - self.pause_offset - self.slip_offset

    # -- control -----------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def pause(self, now: float) -> None:
        if self.paused_at is None:
            self.paused_at = now

    def resume(self, now: float) -> None:
        """Shift everything not yet sent by the time spent paused."""
        if self.paused_at is not None:
            self.pause_offset += max(now - self.paused_at, 0.0)
            self.paused_at = None

    def set_rate(self, rate: float, now: float) -> None:
        """Continue at ``rate`` from the last released request (the pending one is re-planned)."""
        last_time, last_weight = self._released
        self.cursor.last_time, self.cursor.last_weight = last_time, last_weight
        now_s = self.schedule_time(now if self.paused_at is None else self.paused_at)
        self.cursor = self.cursor.with_rate(rate, now=now_s)
        if self._pending is not None:
            _, events = self._pending
            self._pending = (self.cursor.next(int(events)), events)

    def rate_at(self, now: float) -> float | None:
        return self.cursor.rate_at(self.schedule_time(now))
