"""Fitted traffic in the engine: sessions planned per user from percentile tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim.errors import ConfigError
from personalize_sim.simulation import (
    ArmConfig,
    ExposureConfig,
    GapConfig,
    PopulationConfig,
    SimulationConfig,
    TimeConfig,
    TrafficConfig,
    iter_simulate,
    simulate,
)

LENGTHS = (1.0,) * 30 + (2.0,) * 30 + (5.0,) * 41
TRAFFIC = TrafficConfig(
    sessions_per_user=(1.0,) * 50 + (3.0,) * 50 + (8.0,),
    session_lengths=LENGTHS,
    idle_gaps=tuple(np.linspace(3_600, 3 * 86_400, 101)),
    idle_buckets=(2.0, 5.0),
    idle_gaps_by_sessions=((7_200.0, 86_400.0), (3_600.0, 7_200.0)),
)
CONFIG = SimulationConfig(
    population=PopulationConfig(users=400, anonymous_share=0.0, login_share=0.0),
    time=TimeConfig(days=14, start="2026-01-05T00:00:00Z", gap=GapConfig(median=60.0)),
    exposure=ExposureConfig(
        slate_probability=0.0, arms=(ArmConfig(name="none", recommender="none"),)
    ),
    traffic=TRAFFIC,
)


@pytest.fixture(scope="module")
def frame():
    return simulate(CONFIG, rng=2)


def test_every_user_has_its_sessions_inside_the_window(frame):
    start = pd.Timestamp("2026-01-05", tz="UTC")
    assert frame["TIMESTAMP"].min() >= start
    assert frame["TIMESTAMP"].max() < start + pd.Timedelta(days=14)
    per_user = frame.groupby("USER_ID")["SESSION_ID"].nunique()
    assert len(per_user) == 400  # nobody lost
    # drawn from the table: 1 or 3 sessions, and for the top percent between the 99th
    # percentile and the maximum (a log's maximum is one user's), never past it
    assert set(per_user.unique()) <= {1, 3, 4, 5, 6, 7, 8}
    assert (per_user == 1).mean() == pytest.approx(0.5, abs=0.01)  # stratified: exact shares
    assert per_user.isin([4, 5, 6, 7, 8]).sum() <= 0.01 * 400 + 1


def test_sessions_have_the_tables_lengths_and_never_touch(frame):
    lengths = frame.groupby("SESSION_ID").size()
    assert set(lengths.unique()) <= {1, 2, 5}
    # a user's next session starts more than session_gap after the previous one ends
    sessions = frame.groupby("SESSION_ID").agg(
        user=("USER_ID", "first"), first=("TIMESTAMP", "min"), last=("TIMESTAMP", "max")
    )
    sessions = sessions.sort_values(["user", "first"])
    same = sessions["user"].eq(sessions["user"].shift())
    idle = (sessions["first"] - sessions["last"].shift())[same].dt.total_seconds()
    assert idle.min() > TRAFFIC.session_gap


def test_chunks_join_to_the_same_frame(frame):
    chunks = list(iter_simulate(CONFIG, rng=2, chunk_events=97))
    joined = pd.concat(chunks)
    assert joined["SESSION_ID"].tolist() == frame["SESSION_ID"].tolist()
    assert joined["TIMESTAMP"].tolist() == frame["TIMESTAMP"].tolist()


def test_the_same_seed_gives_the_same_events(frame):
    again = simulate(CONFIG, rng=2)
    pd.testing.assert_frame_equal(again, frame)
    assert not simulate(CONFIG, rng=3)["TIMESTAMP"].equals(frame["TIMESTAMP"])


def test_a_traffic_config_round_trips_through_yaml():
    assert SimulationConfig.from_yaml(CONFIG.to_yaml()) == CONFIG
    assert SimulationConfig.from_yaml(CONFIG.replace(traffic=None).to_yaml()).traffic is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sessions_per_user": (1.0,)}, "sessions_per_user: got"),
        ({"sessions_per_user": (2.0, 1.0)}, r"sessions_per_user\[1\]: got 1.0; a value >= "),
        (
            {"sessions_per_user": (0.0, 1.0)},
            r"sessions_per_user\[0\]: got 0.0; a finite number >= 1",
        ),
        ({"idle_buckets": (5.0, 2.0)}, "idle_buckets: got"),
        ({"idle_gaps_by_sessions": ((1.0, 2.0),)}, "one percentile table per bucket"),
        ({"session_gap": 0}, "session_gap: got 0"),
    ],
)
def test_bad_tables_are_named(changes, message):
    import dataclasses

    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(TRAFFIC, **changes)
