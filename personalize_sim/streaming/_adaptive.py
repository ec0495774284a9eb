"""A client-side send rate that backs off on throttling and probes back up (pure logic).

The algorithm of botocore's *adaptive* retry mode (``botocore/retries/adaptive.py``,
``bucket.py``, ``throttling.py``), on the stream's injected clock instead of a lock and a
sleeping thread: a token bucket gates every send once the tracker has throttled; each
throttle sets the bucket's rate to ``beta`` (0.7) × the rate measured when it came, and
each success grows it again along a CUBIC curve back towards, then past, that rate (capped
at twice the measured rate), so the stream settles just under what the tracker accepts.

>>> limiter = AdaptiveRate(now=0.0)
>>> limiter.ready_at(0.0)  # no throttling seen yet: no limit
0.0
>>> for t in range(20):  # 10 answers a second, then a throttle
...     limiter.on_response(t / 10, throttled=False)
>>> limiter.on_response(2.0, throttled=True)
>>> round(limiter.measured, 2), round(limiter.rate, 2)  # 0.7 × the measured rate
(10.0, 7.0)
"""

from __future__ import annotations

import math

__all__ = ["AdaptiveRate"]

_EPSILON = 1e-9


class AdaptiveRate:
    """CUBIC rate adjustment over a token bucket, as botocore's ``ClientRateLimiter``."""

    MIN_RATE = 0.5
    BETA = 0.7
    SCALE = 0.4
    MAX_SCALE = 2.0  # never more than twice the measured rate
    SMOOTHING = 0.8
    BUCKET_S = 0.5  # the measured rate is updated every half second

    def __init__(self, *, now: float) -> None:
        self.enabled = False  # the bucket gates sends only after the first throttle
        self.rate = math.inf
        self._capacity = 1.0
        self._tokens = 0.0
        self._last_fill = now
        self._w_max = 0.0
        self._k = 0.0
        self._last_throttle = now
        self.measured = 0.0
        self._count = 0
        self._last_bucket = float(math.floor(now))
        self.throttles = 0

    # -- gating sends ------------------------------------------------------------------------
    def ready_at(self, now: float) -> float:
        """When the next send may start (``now`` if it may start at once)."""
        if not self.enabled:
            return now
        self._refill(now)
        if self._tokens >= 1.0 - _EPSILON:  # rounding must not leave a send a hair short
            return now
        return now + (1.0 - self._tokens) / self.rate

    def take(self, now: float) -> None:
        """One send starts now (call only when :meth:`ready_at` allows it)."""
        if self.enabled:
            self._refill(now)
            self._tokens = max(self._tokens - 1.0, 0.0)

    def _refill(self, now: float) -> None:
        if now > self._last_fill:
            self._tokens = min(self._capacity, self._tokens + (now - self._last_fill) * self.rate)
            self._last_fill = now

    def _set_rate(self, rate: float, now: float) -> None:
        self._refill(now)
        self.rate = max(rate, self.MIN_RATE)
        self._capacity = max(rate, 1.0)
        self._tokens = min(self._tokens, self._capacity)

    # -- learning from answers ----------------------------------------------------------------
    def on_response(self, now: float, *, throttled: bool) -> None:
        """An answer came back: grow the rate on success, cut it on a throttle."""
        measured = self._measure(now)
        if throttled:
            rate = measured if not self.enabled else min(measured, self.rate)
            self._w_max = rate
            self._k = (rate * (1 - self.BETA) / self.SCALE) ** (1 / 3)
            self._last_throttle = now
            new_rate = rate * self.BETA
            self.enabled = True
            self.throttles += 1
        else:
            new_rate = self.SCALE * (now - self._last_throttle - self._k) ** 3 + self._w_max
        if self.enabled:
            self._set_rate(min(new_rate, self.MAX_SCALE * measured), now)

    def _measure(self, now: float) -> float:
        """Answers per second, smoothed over half-second buckets (botocore's RateClocker)."""
        bucket = math.floor(now / self.BUCKET_S) * self.BUCKET_S
        self._count += 1
        if bucket > self._last_bucket:
            current = self._count / (bucket - self._last_bucket)
            self.measured = current * self.SMOOTHING + self.measured * (1 - self.SMOOTHING)
            self._count = 0
            self._last_bucket = bucket
        return self.measured

    def __repr__(self) -> str:
        state = f"rate={self.rate:.4g}/s" if self.enabled else "not limiting"
        return f"AdaptiveRate({state}, measured={self.measured:.4g}/s)"
