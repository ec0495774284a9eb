"""Fitting time: the window, daily and weekly profiles, sessions, idle and in-session gaps.

Each function takes an :class:`~._interactions.Interactions` and returns plain values for a config
section, plus notes on what it could not estimate (a short reason each).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..simulation import GapConfig, TimeConfig, TrafficConfig
from ..simulation.internal import DAY_US, ProfileClock, quantile_table
from ._interactions import Interactions

__all__ = [
    "Window", "fit_gap", "fit_profiles", "fit_traffic", "fit_window", "local_hour_weekday",
    "shortest_idle",
]  # fmt: skip

HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class Window:
    start_us: int
    end_us: int
    timezone: str

    @property
    def days(self) -> float:
        return (self.end_us - self.start_us) / DAY_US


def fit_window(log: Interactions, timezone: str) -> Window:
    """From the first event to one second after the last (whole seconds)."""
    first = int(log.ts.min()) // 1_000_000 * 1_000_000
    last = int(log.ts.max())
    end = max(-(-(last + 1) // 1_000_000) * 1_000_000, first + 3_600_000_000)
    return Window(first, end, timezone)


def local_hour_weekday(ts_us: np.ndarray, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """Local hour (0–23) and weekday (0 = Monday) of epoch-µs times."""
    import pandas as pd

    local = pd.DatetimeIndex(ts_us.astype("datetime64[us]"), tz="UTC").tz_convert(timezone)
    return np.asarray(local.hour), np.asarray(local.day_of_week)


def fit_profiles(
    log: Interactions, window: Window, notes: list[str]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Hourly and weekly profiles of session starts, per hour the window spends in each."""
    starts = log.ts[log.session_first]
    hour, weekday = local_hour_weekday(starts, window.timezone)
    grid = np.arange(window.start_us, window.end_us, HOUR_US, dtype=np.int64)
    grid_hour, grid_day = local_hour_weekday(grid, window.timezone)
    hourly = _rates(np.bincount(hour, minlength=24), np.bincount(grid_hour, minlength=24))
    weekly_exposure = np.bincount(grid_day, minlength=7)
    weekly = _rates(np.bincount(weekday, minlength=7), weekly_exposure)
    if (weekly_exposure == 0).any():
        notes.append(
            "time.weekly_profile: the log covers fewer than 7 weekdays; the others are "
            "set to the mean"
        )
    if len(starts) < 24 * 20:
        notes.append(
            f"time.hourly_profile: only {len(starts)} sessions (about 20 per hour are needed "
            "for a steady profile); it is noisy"
        )
    return hourly, weekly


def _rates(counts: np.ndarray, exposure: np.ndarray) -> tuple[float, ...]:
    """Counts per unit of exposure, mean 1 (unexposed slots at the mean)."""
    seen = exposure > 0
    rate = np.zeros(len(counts))
    rate[seen] = counts[seen] / exposure[seen]
    mean = rate[seen].mean() if seen.any() else 0.0
    if mean <= 0:
        return tuple(1.0 for _ in counts)
    rate[~seen] = mean
    return tuple(float(round(v, 4)) for v in rate / mean)


def fit_gap(log: Interactions, notes: list[str]) -> GapConfig:
    """Seconds between consecutive events of a session, as percentiles."""
    same = np.diff(log.session) == 0
    gaps = np.diff(log.ts)[same] / 1e6
    if len(gaps) < 2:
        notes.append("time.gap: no session has two events; the default log-normal gap is kept")
        return GapConfig()
    return GapConfig(distribution="empirical", quantiles=quantile_table(gaps))


def fit_traffic(
    log: Interactions, window: Window, time: TimeConfig, session_gap: float, notes: list[str]
) -> TrafficConfig:
    """Sessions per user, events per session, and idle times in profile time."""
    first, last = log.session_first, log.session_last
    per_user = np.bincount(log.session_user, minlength=log.n_users)
    lengths = last - first + 1
    same_user = np.diff(log.session_user) == 0
    clock = ProfileClock(time, window.start_us, window.end_us)
    idle = (clock.forward(log.ts[first[1:]]) - clock.forward(log.ts[last[:-1]]))[same_user] / 1e6
    idle = np.maximum(idle, 0.0)  # sessions given by SESSION_ID may overlap
    if len(idle) < 2:
        notes.append(
            "traffic.idle_gaps: fewer than two users come back; returning users wait "
            "one day (the default)"
        )
        idle_table: tuple[float, ...] = (86_400.0, 86_400.0)
    else:
        idle_table = quantile_table(idle)
    buckets, by_sessions = _idle_by_sessions(idle, per_user[log.session_user[1:][same_user]])
    if log.n_users < 2:
        notes.append("traffic.sessions_per_user: one user; every user is given its sessions")
    return TrafficConfig(
        sessions_per_user=quantile_table(per_user[per_user > 0]),
        session_lengths=quantile_table(lengths),
        idle_gaps=idle_table,
        idle_buckets=buckets,
        idle_gaps_by_sessions=by_sessions,
        session_gap=session_gap,
        notes=tuple(notes),
    )


#: lower bounds of the buckets of users (by session count) with their own idle times
IDLE_BUCKETS = (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20, 25, 30, 40, 50, 70, 100)
#: idle times a bucket needs for its own table (fewer: it joins the next one up; the
#: last joins the one below)
IDLE_MIN_GAPS = 50


def _idle_by_sessions(
    idle: np.ndarray, sessions: np.ndarray
) -> tuple[tuple[float, ...], tuple[tuple[float, ...], ...]]:
    """Idle-time tables per bucket of users' session counts (sparse buckets merged)."""
    bounds: list[float] = []
    tables: list[tuple[float, ...]] = []
    edges: tuple[float, ...] = (*IDLE_BUCKETS, np.inf)
    low = edges[0]
    for high in edges[1:]:
        mine = (sessions >= low) & (sessions < high)
        if mine.sum() >= IDLE_MIN_GAPS:
            bounds.append(float(low))
            tables.append(quantile_table(idle[mine]))
            low = high
        elif high == np.inf and tables:  # the last, sparse bucket joins the one below
            mine = sessions >= bounds[-1]
            tables[-1] = quantile_table(idle[mine])
    return tuple(bounds), tuple(tables)


def shortest_idle(log: Interactions, default: float) -> float:
    """The shortest time (seconds, at least 1) between a session's end and its user's next
    session; ``default`` when no user comes back."""
    first, last = log.session_first, log.session_last
    same_user = np.diff(log.session_user) == 0
    idle = ((log.ts[first[1:]] - log.ts[last[:-1]]) / 1e6)[same_user]
    return float(max(1.0, np.floor(idle.min()))) if len(idle) else default


def sessions_per_user_per_day(log: Interactions, window: Window) -> float:
    """Mean sessions per user and day (for Poisson arrivals, when traffic is removed)."""
    sessions = len(log.session_first)
    return float(round(sessions / log.n_users / max(window.days, 1e-9), 6)) if sessions else 0.0


def days_of(window: Window) -> int:
    return math.ceil(window.days)
