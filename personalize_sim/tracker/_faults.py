"""Quotas and injected faults of the local tracker: a token bucket and a seeded fault plan.

Both are pure: the bucket reads an injected clock, the plan draws from an
injected ``numpy.random.Generator``, so tests can assert exact outcomes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from personalize_sim._checks import check, number, one_of, positive, probability
from personalize_sim.clock import Clock, SystemClock
from personalize_sim.errors import ConfigError, ConfigTypeError

__all__ = ["Fault", "FaultPlan", "Latency", "TokenBucket"]


class TokenBucket:
    """A requests-per-second quota: ``rate`` tokens a second, at most ``burst`` saved up.

    The bucket starts full. ``burst`` defaults to one second of tokens, so a
    client may send ``rate`` requests at once and then ``rate`` per second.

    >>> from personalize_sim.clock import VirtualClock
    >>> clock = VirtualClock()
    >>> bucket = TokenBucket(2, clock=clock)
    >>> [bucket.take() for _ in range(3)]
    [True, True, False]
    >>> clock.advance(0.5); bucket.take()
    True
    """

    def __init__(self, rate: float, *, burst: float | None = None, clock: Clock | None = None):
        self.rate = positive(rate, "rate")
        self.burst = max(self.rate, 1.0) if burst is None else number(burst, "burst", low=1.0)
        self._clock = clock or SystemClock()
        self._tokens = self.burst
        self._last = self._clock.now()

    @property
    def tokens(self) -> float:
        """Tokens available now (refilled up to the present)."""
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock.now()
        if now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now

    def take(self, n: float = 1.0) -> bool:
        """Spend ``n`` tokens if they are there; False (and spend nothing) if not."""
        self._refill()
        if self._tokens >= n:
            self._tokens -= n
            return True
        return False

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst:g})"


_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_SPECS = {
    "fixed": re.compile(rf"^{_NUMBER}$"),
    "uniform": re.compile(rf"^{_NUMBER}\.\.{_NUMBER}$"),
    "exponential": re.compile(rf"^exp:{_NUMBER}$"),
    "lognormal": re.compile(rf"^lognormal:{_NUMBER},{_NUMBER}$"),
}
# z-score of the 99th percentile of a standard normal: lognormal(median, p99) → sigma
_Z99 = 2.3263478740408408


@dataclass(frozen=True, kw_only=True)
class Latency:
    """Added response latency, in milliseconds, as a distribution.

    Spelled on the command line as ``5`` (always 5 ms), ``2..8`` (uniform),
    ``exp:5`` (exponential, mean 5 ms) or ``lognormal:5,50`` (median 5 ms, p99 50 ms).
    """

    kind: str = "fixed"
    a: float = 0.0
    b: float = 0.0

    def __post_init__(self) -> None:
        one_of(self.kind, "latency_ms.kind", tuple(_SPECS))
        object.__setattr__(self, "a", number(self.a, "latency_ms.a", low=0.0))
        object.__setattr__(self, "b", number(self.b, "latency_ms.b", low=0.0))
        rules = {
            "uniform": (self.a <= self.b, "LOW..HIGH with LOW <= HIGH"),
            "exponential": (self.a > 0, "exp:MEAN with a MEAN > 0 ms"),
            "lognormal": (0 < self.a <= self.b, "lognormal:MEDIAN,P99 with 0 < MEDIAN <= P99"),
        }
        ok, allowed = rules.get(self.kind, (True, ""))
        check(ok, "latency_ms", str(self), allowed)

    @classmethod
    def parse(cls, spec: Any) -> Latency:
        """A latency from a number of ms, a ``(low, high)`` pair, a spec string or a Latency."""
        if isinstance(spec, Latency):
            return spec
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            return cls(kind="fixed", a=float(spec))
        if isinstance(spec, tuple | list) and len(spec) == 2:
            return cls(kind="uniform", a=spec[0], b=spec[1])
        if isinstance(spec, str):
            text = spec.strip().replace(" ", "")
            for kind, pattern in _SPECS.items():
                match = pattern.match(text)
                if match:
                    numbers = [float(g) for g in match.groups()]
                    return cls(kind=kind, a=numbers[0], b=numbers[1] if len(numbers) > 1 else 0.0)
        allowed = "a number of ms (5), a range (2..8), exp:MEAN or lognormal:MEDIAN,P99"
        if not isinstance(spec, str | tuple | list):
            raise ConfigTypeError("latency_ms", spec, allowed)
        raise ConfigError("latency_ms", spec, allowed)

    def sample_ms(self, rng: Any) -> float:
        """One draw in milliseconds; every kind uses exactly one variate of ``rng``."""
        if self.kind == "fixed":
            rng.random()  # keep one draw per request whatever the kind, so streams line up
            return self.a
        if self.kind == "uniform":
            return self.a + (self.b - self.a) * rng.random()
        if self.kind == "exponential":
            return float(rng.exponential(self.a))
        sigma = math.log(self.b / self.a) / _Z99
        return float(self.a * math.exp(sigma * rng.standard_normal()))

    def __str__(self) -> str:
        return {
            "fixed": f"{self.a:g}",
            "uniform": f"{self.a:g}..{self.b:g}",
            "exponential": f"exp:{self.a:g}",
            "lognormal": f"lognormal:{self.a:g},{self.b:g}",
        }[self.kind]


@dataclass(frozen=True)
class Fault:
    """What the plan decided for one request: added latency and, maybe, a 5xx status."""

    latency_s: float = 0.0
    status: int | None = None


@dataclass
class FaultPlan:
    """Seeded faults, drawn one request at a time in arrival order.

    Per request the plan draws, in this order: one uniform for "fail with a 5xx?"
    (failing when it is below ``error_rate``), one uniform to pick the status from
    ``error_statuses`` (drawn whether or not it fails), then one variate for the
    latency if ``latency`` is set. The same seed therefore gives the same
    sequence of faults for the same sequence of requests.
    """

    error_rate: float = 0.0
    latency: Latency | None = None
    error_statuses: Sequence[int] = (500, 503)
    rng: Any = None
    _rng: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        import numpy as np

        self.error_rate = probability(self.error_rate, "error_rate")
        statuses = self.error_statuses
        ok = isinstance(statuses, Sequence) and len(statuses) > 0
        ok = ok and all(type(s) is int and 500 <= s <= 599 for s in statuses)
        check(ok, "error_statuses", statuses, "a non-empty list of 5xx status codes")
        if self.latency is not None:
            self.latency = Latency.parse(self.latency)
        self._rng = np.random.default_rng(self.rng)

    @property
    def active(self) -> bool:
        return self.error_rate > 0 or self.latency is not None

    def draw(self) -> Fault:
        """The fault of the next request."""
        if not self.active:
            return Fault()
        rng = self._rng
        fails = rng.random() < self.error_rate
        pick = rng.random()
        status = self.error_statuses[int(pick * len(self.error_statuses))] if fails else None
        latency = 0.0 if self.latency is None else self.latency.sample_ms(rng) / 1000.0
        return Fault(latency_s=latency, status=status)
