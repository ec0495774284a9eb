"""Session arrivals: a non-homogeneous Poisson process with daily and weekly profiles.

The intensity is constant on 15-minute slots of absolute UTC time (every real time
zone offset is a multiple of 15 minutes, so each slot lies inside one local hour,
daylight saving included); a Poisson count per slot and uniform times within it
sample the process exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._config import TimeConfig

__all__ = ["SLOT_US", "session_starts", "slot_intensity"]

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
