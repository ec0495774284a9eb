"""When each request is due: pure arrival-time generators for the stream's open model.

A schedule is a small frozen description (``constant(500)``, ``ramp(100, 2000, over=60)``…);
``schedule.cursor(rng)`` returns a stateful :class:`Cursor` whose ``next(events, sent_at)``
gives the *schedule time* (seconds after the stream starts) of the next request. Times are
absolute, never "sleep after the previous send", so rounding never accumulates:

>>> c = constant(10).cursor()
>>> [round(c.next(1), 9) for _ in range(4)]
[0.0, 0.1, 0.2, 0.3]

``per="events"`` paces events instead of requests: a request of 10 events uses ten times
the budget of a request of one. The first request is always due at 0. A cursor's rate can
be changed while running (:meth:`Cursor.with_rate`); the new rate applies from the gap
after the last request handed out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .._checks import check, number, one_of
from ..errors import ConfigError, ConfigTypeError

__all__ = [
    "Cursor",
    "Schedule",
    "constant",
    "from_rate",
    "poisson",
    "ramp",
    "rate_function",
    "replay",
    "steps",
]

Per = Literal["requests", "events"]
_PERS = ("requests", "events")


def _check_per(per: str) -> None:
    one_of(per, "per", _PERS)


def _check_rate(name: str, rate: Any, *, zero_ok: bool = False) -> float:
    return number(rate, name, low=0.0, strict=not zero_ok)


# ---------------------------------------------------------------------------------------------
# Cursors: the stateful side.


class Cursor:
    """Hands out the schedule time of each request in turn."""

    per: Per = "requests"

    def __init__(self) -> None:
        self.last_time: float | None = None
        self.last_weight = 0.0

    def next(self, events: int, sent_at: float | None = None) -> float:
        """Schedule time of the next request, which carries ``events`` events.

        ``sent_at`` (epoch seconds of the request's first event) is read by replay only.
        """
        weight = float(events) if self.per == "events" else 1.0
        t = self._next(weight, sent_at)
        self.last_time, self.last_weight = t, weight
        return t

    def _next(self, weight: float, sent_at: float | None) -> float:
        raise NotImplementedError

    def rate_at(self, t: float) -> float | None:
        """Target rate at schedule time ``t`` (in ``per`` units per second), if defined."""
        return None

    def with_rate(self, rate: float, *, now: float | None = None) -> Cursor:
        """A constant-rate cursor continuing after the last request (Poisson stays Poisson).

        The first request it hands out is due one gap (at the new rate) after the last
        one, but never before schedule time ``now``: a rate change never makes sends late.
        """
        rate = _check_rate("rate", rate)
        cursor = _ConstantCursor(rate, self.per)
        _anchor(cursor, self, rate, now)
        return cursor


def _anchor(new: Cursor, old: Cursor, rate: float, now: float | None) -> None:
    if old.last_time is None:
        if now is not None and isinstance(new, _ConstantCursor):
            new.origin = now
        return
    last, weight = old.last_time, old.last_weight
    if now is not None and last + weight / rate < now:
        last, weight = now, 0.0  # the next request is due right away
    if isinstance(new, _ConstantCursor):
        new.origin, new.work = last, weight
    new.last_time, new.last_weight = last, weight


class _ConstantCursor(Cursor):
    def __init__(self, rate: float, per: Per) -> None:
        super().__init__()
        self.rate, self.per = rate, per
        self.origin, self.work = 0.0, 0.0

    def _next(self, weight: float, sent_at: float | None) -> float:
        # origin + cumulative work / rate: one division per request, no accumulated rounding
        t = self.origin + self.work / self.rate
        self.work += weight
        return t

    def rate_at(self, t: float) -> float:
        return self.rate


class _ProfileCursor(Cursor):
    """Piecewise-linear rate r(t), inverted exactly: request i is due when ∫r = work before i."""

    def __init__(self, segments: Sequence[tuple[float, float, float]], per: Per) -> None:
        super().__init__()
        self.per = per
        self.segments = list(segments)  # (duration, rate at start, rate at end); last is endless
        self.work = 0.0
        self._i, self._t0, self._w0 = 0, 0.0, 0.0  # current segment, its start time and work

    def _next(self, weight: float, sent_at: float | None) -> float:
        k = self.work
        self.work += weight
        while self._i < len(self.segments) - 1:
            d, r0, r1 = self.segments[self._i]
            area = d * (r0 + r1) / 2
            if k - self._w0 < area:
                break
            self._t0, self._w0, self._i = self._t0 + d, self._w0 + area, self._i + 1
        d, r0, r1 = self.segments[self._i]
        return self._t0 + _solve_linear(k - self._w0, r0, (r1 - r0) / d if d else 0.0)

    def rate_at(self, t: float) -> float:
        start = 0.0
        for d, r0, r1 in self.segments:
            if t < start + d:
                return r0 if d == math.inf else r0 + (r1 - r0) * (t - start) / d
            start += d
        return self.segments[-1][2]


def _solve_linear(k: float, r0: float, slope: float) -> float:
    """Smallest t >= 0 with r0·t + slope·t²/2 = k."""
    if k <= 0:
        return 0.0
    if slope == 0:
        if r0 <= 0:
            raise ValueError("a schedule segment with rate 0 cannot be the last one")
        return k / r0
    # numerically stable root of (slope/2)t² + r0 t - k = 0
    disc = r0 * r0 + 2 * slope * k
    return 2 * k / (r0 + math.sqrt(max(disc, 0.0)))


class _PoissonCursor(Cursor):
    def __init__(self, rate: float, per: Per, rng: np.random.Generator) -> None:
        super().__init__()
        self.rate, self.per, self.rng = rate, per, rng

    def _next(self, weight: float, sent_at: float | None) -> float:
        if self.last_time is None:
            return 0.0
        return self.last_time + float(self.rng.exponential(self.last_weight / self.rate))

    def rate_at(self, t: float) -> float:
        return self.rate

    def with_rate(self, rate: float, *, now: float | None = None) -> Cursor:
        cursor = _PoissonCursor(_check_rate("rate", rate), self.per, self.rng)
        _anchor(cursor, self, rate, now)
        return cursor


class _ReplayCursor(Cursor):
    def __init__(self, speedup: float) -> None:
        super().__init__()
        self.speedup = speedup
        self.first: float | None = None

    def _next(self, weight: float, sent_at: float | None) -> float:
        if sent_at is None:
            raise ConfigError("rate", "replay", "requests whose first event has a sentAt")
        if self.first is None:
            self.first = sent_at
        # out-of-order timestamps give a time in the past: the pacer sends those at once
        return max((sent_at - self.first) / self.speedup, 0.0)


class _FunctionCursor(Cursor):
    def __init__(self, fn: Callable[[float], float], per: Per, resolution: float) -> None:
        super().__init__()
        self.fn, self.per, self.resolution = fn, per, resolution

    def _next(self, weight: float, sent_at: float | None) -> float:
        if self.last_time is None:
            return 0.0
        t, left = self.last_time, self.last_weight
        # integrate r(t) in steps of at most `resolution` until the last request's weight is used
        while True:
            r = float(self.fn(t))
            if not math.isfinite(r) or r < 0:
                raise ConfigError(f"rate_function(t={t!r})", r, "a finite rate >= 0")
            if r == 0:
                t += self.resolution
                continue
            if left / r <= self.resolution:
                return t + left / r
            t += self.resolution
            left -= r * self.resolution

    def rate_at(self, t: float) -> float:
        return float(self.fn(t))


# ---------------------------------------------------------------------------------------------
# Schedules: the frozen, picklable descriptions users build.


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """A description of arrival times; build one with the functions below."""

    kind: str
    per: Per = "requests"
    params: tuple[Any, ...] = ()
    rng: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _check_per(self.per)

    def cursor(self, rng: Any = None) -> Cursor:
        """A fresh cursor; ``rng`` overrides the schedule's own seed (Poisson only)."""
        p = self.params
        if self.kind == "constant":
            return _ConstantCursor(p[0], self.per)
        if self.kind == "profile":
            return _ProfileCursor(p[0], self.per)
        if self.kind == "poisson":
            seed = self.rng if rng is None else rng
            return _PoissonCursor(p[0], self.per, np.random.default_rng(seed))
        if self.kind == "replay":
            return _ReplayCursor(p[0])
        if self.kind == "function":
            return _FunctionCursor(p[0], self.per, p[1])
        raise ValueError(f"unknown schedule kind {self.kind!r}")  # a bug, not a user error

    def scaled(self, factor: float) -> Schedule:
        """The same shape at ``factor`` times the rate (how ``processes=N`` shares a rate)."""
        p = self.params
        if self.kind in ("constant", "poisson"):
            return Schedule(kind=self.kind, per=self.per, params=(p[0] * factor,), rng=self.rng)
        if self.kind == "profile":
            segs = tuple((d, r0 * factor, r1 * factor) for d, r0, r1 in p[0])
            return Schedule(kind="profile", per=self.per, params=(segs,))
        if self.kind == "function":
            fn = p[0]
            return Schedule(kind="function", per=self.per, params=(_Scaled(fn, factor), p[1]))
        return self  # replay: each process replays its own share at the same speed

    @property
    def initial_rate(self) -> float | None:
        if self.kind in ("constant", "poisson"):
            return float(self.params[0])
        if self.kind == "profile":
            return float(self.params[0][0][1])
        return None

    def describe(self) -> str:
        """The schedule in words, for reports.

        >>> ramp(20, 200, over=5).describe()
        '20 → 200 over 5 s, then 200 requests/s'
        >>> steps([(100, 10), (500, 30)], per="events").describe()
        '100 for 10 s, then 500 events/s'
        """
        p, unit = self.params, f"{self.per}/s"
        if self.kind == "constant":
            return f"{p[0]:g} {unit}"
        if self.kind == "poisson":
            return f"Poisson arrivals at {p[0]:g} {unit}"
        if self.kind == "replay":
            return "the input's own timing" + (f", {p[0]:g}× faster" if p[0] != 1 else "")
        if self.kind == "function":
            return f"a function of time, in {unit}"
        *segments, (_, last, _) = p[0]  # the last one holds forever
        parts = [
            f"{a:g} for {d:g} s" if a == b else f"{a:g} → {b:g} over {d:g} s"
            for d, a, b in segments
        ]
        if segments[-1][1] == segments[-1][2] == last:  # a last step: it holds, "then"
            parts.pop()
        return ", ".join([*parts, f"then {last:g} {unit}"]) if parts else f"{last:g} {unit}"

    def __repr__(self) -> str:
        return f"Schedule({self.kind}, per={self.per!r}, params={self.params!r})"


@dataclass(frozen=True)
class _Scaled:
    fn: Callable[[float], float]
    factor: float

    def __call__(self, t: float) -> float:
        return self.fn(t) * self.factor


def constant(rate: float, *, per: Per = "requests") -> Schedule:
    """``rate`` requests (or events) per second, evenly spaced."""
    return Schedule(kind="constant", per=per, params=(_check_rate("rate", rate),))


def ramp(start: float, end: float, *, over: float, per: Per = "requests") -> Schedule:
    """Rate moving linearly from ``start`` to ``end`` over ``over`` seconds, then ``end``."""
    start = _check_rate("start", start, zero_ok=True)
    end = _check_rate("end", end)
    over = _check_rate("over", over)
    return Schedule(kind="profile", per=per, params=(((over, start, end), (math.inf, end, end)),))


def steps(levels: Sequence[tuple[float, float]], *, per: Per = "requests") -> Schedule:
    """Piecewise-constant rate: ``[(rate, seconds), …]``; the last rate holds after its step."""
    check(len(levels) > 0, "steps", levels, "at least one (rate, seconds) pair")
    segs = []
    for i, level in enumerate(levels):
        check(len(level) == 2, f"steps[{i}]", level, "a (rate, seconds) pair")
        rate = _check_rate(f"steps[{i}] rate", level[0], zero_ok=True)
        seconds = _check_rate(f"steps[{i}] seconds", level[1])
        segs.append((seconds, rate, rate))
    last = segs[-1][1]
    check(last > 0, f"steps[{len(segs) - 1}] rate", last, "> 0 for the last step (it holds)")
    segs.append((math.inf, last, last))
    return Schedule(kind="profile", per=per, params=(tuple(segs),))


def poisson(rate: float, *, per: Per = "requests", rng: Any = None) -> Schedule:
    """Poisson arrivals at mean ``rate``; exponential gaps drawn from ``rng``."""
    return Schedule(kind="poisson", per=per, params=(_check_rate("rate", rate),), rng=rng)


def replay(speedup: float = 1.0) -> Schedule:
    """Send each request when its first event happened, ``speedup`` times faster.

    ``replay(144)`` plays a simulated day in ten minutes.
    """
    return Schedule(kind="replay", params=(_check_rate("speedup", speedup),))


def rate_function(
    fn: Callable[[float], float], *, per: Per = "requests", resolution: float = 0.01
) -> Schedule:
    """Rate given by ``fn(seconds since start)``; integrated in steps of ``resolution`` seconds."""
    if not callable(fn):
        raise ConfigTypeError("fn", fn, "a callable: rate per second at t seconds after the start")
    return Schedule(kind="function", per=per, params=(fn, _check_rate("resolution", resolution)))


def from_rate(rate: float | Schedule) -> Schedule:
    """A schedule from the shorthand ``rate=500`` (requests per second) or a Schedule."""
    if isinstance(rate, Schedule):
        return rate
    return constant(rate)
