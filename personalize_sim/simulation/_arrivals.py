"""Session arrivals: a non-homogeneous Poisson process with daily and weekly profiles.

:class:`TimeConfig` sets the window, the time zone, the profiles and (``gap``) the
time between two events of a session. The intensity is constant on 15-minute slots
of absolute UTC time (every real time zone offset is a multiple of 15 minutes, so
each slot lies inside one local hour, daylight saving included); a Poisson count per
slot and uniform times within it sample the process exactly.

>>> TimeConfig(days=2, start="2026-01-05").start.isoformat()
'2026-01-05T00:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .._checks import check, instance, number, one_of, positive
from .._timestamps import epoch_us
from ..errors import ConfigError

__all__ = [
    "DEFAULT_HOURLY",
    "DEFAULT_WEEKLY",
    "GAP_DISTRIBUTIONS",
    "SLOT_US",
    "GapConfig",
    "TimeConfig",
    "session_starts",
    "slot_intensity",
    "window_us",
]

GAP_DISTRIBUTIONS = ("lognormal", "exponential", "uniform", "empirical")
#: share of sessions starting in each local hour (peaks at lunch and in the evening)
DEFAULT_HOURLY = (
    0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.4, 0.7, 1.0, 1.1, 1.2, 1.3,
    1.5, 1.4, 1.2, 1.1, 1.1, 1.2, 1.5, 1.8, 2.0, 1.8, 1.2, 0.6,
)  # fmt: skip
#: Monday .. Sunday
DEFAULT_WEEKLY = (1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.2)


@dataclass(frozen=True, kw_only=True)
class GapConfig:
    """Seconds between two events of a session.

    ``lognormal`` uses ``median`` and ``sigma``; ``exponential`` uses ``mean``;
    ``uniform`` uses ``low`` and ``high`` (the Retail Demo Store draws 30–600 s);
    ``empirical`` draws from ``quantiles`` (percentiles in seconds, as ``fit`` measures).
    """

    distribution: str = "lognormal"
    median: float = 40.0
    sigma: float = 1.0
    mean: float = 60.0
    low: float = 30.0
    high: float = 600.0
    quantiles: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        one_of(self.distribution, "distribution", GAP_DISTRIBUTIONS)
        positive(self.median, "median")
        number(self.sigma, "sigma", low=0.0)
        positive(self.mean, "mean")
        number(self.low, "low", low=0.0)
        number(self.high, "high", low=0.0)
        check(self.high >= self.low, "high", self.high, f"a number >= low ({self.low:g})")
        if self.distribution == "empirical" or self.quantiles:
            from ._quantiles import check_table

            object.__setattr__(self, "quantiles", check_table(self.quantiles, "quantiles"))


@dataclass(frozen=True, kw_only=True)
class TimeConfig:
    """When sessions arrive: a window, a time zone, daily and weekly profiles."""

    #: window length in days
    days: float = 7.0
    #: window start (tz-aware, or naive read as UTC); with neither start nor end, the
    #: window starts at DEFAULT_START, so a config and seed always give the same frame
    start: dt.datetime | None = None
    #: window end instead of a start: a datetime, or "now" (the current time: opt-in,
    #: every run then differs)
    end: dt.datetime | Literal["now"] | None = None
    timezone: str = "UTC"
    #: mean sessions per user per day, averaged over the profiles
    sessions_per_user_per_day: float = 0.5
    hourly_profile: tuple[float, ...] = DEFAULT_HOURLY
    weekly_profile: tuple[float, ...] = DEFAULT_WEEKLY
    gap: GapConfig = field(default_factory=GapConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", positive(self.days, "days"))
        object.__setattr__(self, "start", _window_start(self.start, "start"))
        if self.end != "now":
            object.__setattr__(self, "end", _window_start(self.end, "end"))
        check(
            self.start is None or self.end is None, "end", self.end,
            f"None when start is given ({self.start}): a window is a start or an end, and days",
        )  # fmt: skip
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise ConfigError(
                "timezone", self.timezone, "an IANA time zone name, e.g. Europe/Paris"
            ) from None
        number(self.sessions_per_user_per_day, "sessions_per_user_per_day", low=0.0)
        object.__setattr__(
            self, "hourly_profile", _profile(self.hourly_profile, "hourly_profile", 24)
        )
        object.__setattr__(
            self, "weekly_profile", _profile(self.weekly_profile, "weekly_profile", 7)
        )


def _window_start(start: Any, name: str) -> dt.datetime | None:
    """An aware datetime (naive and dates read as UTC) from a datetime, date or ISO string."""
    allowed = "an ISO 8601 date-time, e.g. 2026-01-01T00:00:00Z" + (
        ', or "now"' if name == "end" else ""
    )
    if isinstance(start, str):
        try:
            start = dt.datetime.fromisoformat(start)
        except ValueError:
            raise ConfigError(name, start, allowed) from None
    if isinstance(start, dt.date) and not isinstance(start, dt.datetime):
        start = dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone.utc)
    if start is None:
        return None
    instance(start, name, dt.datetime, f"a datetime, {allowed}, or None")
    return start if start.tzinfo is not None else start.replace(tzinfo=dt.timezone.utc)


def _profile(values: Any, field_name: str, length: int) -> tuple[float, ...]:
    ok = isinstance(values, list | tuple) and len(values) == length
    check(ok, field_name, values, f"a list of {length} non-negative numbers")
    profile = tuple(number(v, f"{field_name}[{i}]", low=0.0) for i, v in enumerate(values))
    check(sum(profile) > 0, field_name, values, "at least one positive number")
    return profile


#: where a window with neither start nor end begins (a Monday, 00:00 UTC)
DEFAULT_START = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
SLOT_US = 15 * 60 * 1_000_000
DAY_US = 86_400 * 1_000_000


def slot_intensity(config: TimeConfig, edges_us: np.ndarray) -> np.ndarray:
    """Relative intensity (mean 1 over a week) of the slots starting at ``edges_us[:-1]``."""
    import pandas as pd

    local = pd.DatetimeIndex(edges_us[:-1].astype("datetime64[us]"), tz="UTC").tz_convert(
        config.timezone
    )
    hourly = np.asarray(config.hourly_profile)
    weekly = np.asarray(config.weekly_profile)
    hour = np.asarray(local.hour)
    weekday = np.asarray(local.day_of_week)
    return (hourly[hour] / hourly.mean()) * (weekly[weekday] / weekly.mean())


def slot_edges(b0_us: int, b1_us: int) -> np.ndarray:
    """Edges of the 15-minute UTC slots covering [b0, b1), clipped to it."""
    first = -(-b0_us // SLOT_US) * SLOT_US
    inner = np.arange(first, b1_us, SLOT_US, dtype=np.int64)
    inner = inner[inner > b0_us]
    return np.concatenate(([b0_us], inner, [b1_us])).astype(np.int64)


def session_starts(
    config: TimeConfig,
    b0_us: int,
    b1_us: int,
    sessions_per_us: float,
    scale_at: Callable[[np.ndarray], np.ndarray] | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sorted session start times (epoch µs) in [b0, b1).

    ``sessions_per_us`` is the mean rate with the whole population present;
    ``scale_at`` (per slot, optional) shrinks it to the share of activity that has joined.
    """
    edges = slot_edges(b0_us, b1_us)
    widths = np.diff(edges)
    rate = slot_intensity(config, edges) * sessions_per_us
    if scale_at is not None:
        rate = rate * scale_at(edges[:-1])
    counts = rng.poisson(rate * widths)
    slot = np.repeat(np.arange(len(widths)), counts)
    starts = edges[slot] + (rng.random(len(slot)) * widths[slot]).astype(np.int64)
    starts.sort()
    return starts


def window_us(config: TimeConfig, now: dt.datetime | None) -> tuple[int, int]:
    """The window [start, end) in epoch µs.

    From ``config.start``, or ending at ``config.end``; ``end="now"`` (or no start and end
    but an explicit ``now``) ends it at ``now`` (default: the current time, naive read as
    UTC); with none of these it starts at :data:`DEFAULT_START`.
    """
    length = dt.timedelta(days=config.days)
    if config.start is not None:
        start = config.start
    elif isinstance(config.end, dt.datetime):
        start = config.end - length
    elif config.end == "now" or now is not None:
        end = now if now is not None else dt.datetime.now(dt.timezone.utc)
        if end.tzinfo is None:
            end = end.replace(tzinfo=dt.timezone.utc)
        start = end - length
    else:
        start = DEFAULT_START
    start_us = epoch_us(start)
    return start_us, start_us + round(config.days * DAY_US)
