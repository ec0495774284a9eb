"""Arrivals: daily and weekly profiles in a time zone, and the overall rate."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, simulate
from personalize_sim._timestamps import epoch_us
from personalize_sim.errors import ConfigTypeError
from personalize_sim.simulation import GapConfig, TimeConfig
from personalize_sim.simulation._arrivals import DEFAULT_HOURLY, slot_edges, window_us

from .conftest import START


def session_starts(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("SESSION_ID")["TIMESTAMP"].min()


def test_hourly_histogram_follows_the_profile_in_local_time(plain):
    time = TimeConfig(
        days=14,
        start=START,
        timezone="America/New_York",
        sessions_per_user_per_day=1.0,
        weekly_profile=(1, 1, 1, 1, 1, 1, 1),
    )
    frame = simulate(plain(time=time).replace(users=3_000), rng=2)
    starts = session_starts(frame)
    local = starts.dt.tz_convert("America/New_York").dt.hour
    histogram = np.bincount(local, minlength=24)
    assert np.corrcoef(histogram, DEFAULT_HOURLY)[0, 1] >= 0.95
    # read in UTC, the same sessions are five hours off the profile
    utc = np.bincount(starts.dt.hour, minlength=24)
    assert np.corrcoef(utc, DEFAULT_HOURLY)[0, 1] < 0.8


def test_weekly_profile_and_total_rate(plain):
    weekly = (1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0)
    time = TimeConfig(
        days=28,
        start=START,
        timezone="Asia/Kolkata",  # +05:30: slots must follow half-hour offsets too
        sessions_per_user_per_day=0.5,
        weekly_profile=weekly,
    )
    frame = simulate(plain(time=time).replace(users=2_000), rng=3)
    starts = session_starts(frame)
    days = np.bincount(starts.dt.tz_convert("Asia/Kolkata").dt.day_of_week, minlength=7)
    assert np.corrcoef(days, weekly)[0, 1] >= 0.95
    # four whole weeks: the profiles average to one, so E[sessions] = users · rate · days
    expected = 2_000 * 0.5 * 28
    assert abs(len(starts) - expected) <= 2.576 * np.sqrt(expected)


def test_slot_edges_cover_the_block_on_the_quarter_hour_grid():
    quarter = 15 * 60 * 1_000_000
    b0 = 10 * quarter + 123
    edges = slot_edges(b0, 14 * quarter + 7)
    assert edges[0] == b0 and edges[-1] == 14 * quarter + 7
    assert list(np.diff(edges[1:-1])) == [quarter] * 3
    assert np.all(edges[1:-1] % quarter == 0)


def test_daylight_saving_time_moves_with_the_local_clock(plain):
    # only the local noon hour has traffic; the window spans the end of US summer time
    noon_only = tuple(1.0 if hour == 12 else 0.0 for hour in range(24))
    time = TimeConfig(
        days=6,
        start=pd.Timestamp("2026-10-29", tz="UTC").to_pydatetime(),
        timezone="America/New_York",
        hourly_profile=noon_only,
        sessions_per_user_per_day=0.2,
    )
    frame = simulate(plain(time=time), rng=4)
    starts = session_starts(frame).dt.tz_convert("America/New_York")
    assert set(starts.dt.hour) == {12}
    # UTC offsets on both sides of the change: 16:00 UTC before, 17:00 UTC after
    assert set(session_starts(frame).dt.hour) == {16, 17}


def test_the_window_starts_at_start_or_ends_now():
    start = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)
    day = 86_400_000_000
    assert window_us(TimeConfig(days=1.5, start=start), None) == (
        epoch_us(start),
        epoch_us(start) + 3 * day // 2,
    )
    # a naive ``now`` is read as UTC, and the window ends there
    now = dt.datetime(2026, 3, 5)
    begin, end = window_us(TimeConfig(days=2), now)
    assert end == epoch_us(now.replace(tzinfo=dt.timezone.utc))
    assert end - begin == 2 * day


def test_time_configs_read_dates_and_name_the_bad_field():
    assert TimeConfig(start="2026-01-05").start == dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
    assert TimeConfig(start=dt.date(2026, 1, 5)).start == TimeConfig(start="2026-01-05").start
    naive = TimeConfig(start=dt.datetime(2026, 1, 5, 6)).start
    assert naive is not None and naive.tzinfo == dt.timezone.utc
    with pytest.raises(ConfigTypeError) as error:
        TimeConfig(start=20260105)
    assert error.value.field == "start"
    with pytest.raises(ConfigError) as error:
        TimeConfig(days=0)
    assert (error.value.field, error.value.allowed) == ("days", "a finite number > 0")
    with pytest.raises(ConfigError) as error:
        TimeConfig(hourly_profile=(1.0,) * 23)
    assert error.value.field == "hourly_profile"
    with pytest.raises(ConfigError) as error:
        TimeConfig(weekly_profile=(0.0,) * 7)
    assert error.value.allowed == "at least one positive number"
    with pytest.raises(ConfigError) as error:
        GapConfig(distribution="pareto")
    assert error.value.field == "distribution" and "lognormal" in error.value.allowed
    with pytest.raises(ConfigError) as error:
        GapConfig(low=10, high=5)
    assert error.value.field == "high"
