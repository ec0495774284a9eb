"""The funnel: transition and conversion rates inside their 99% intervals."""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, SimulationConfig, simulate
from personalize_sim.errors import ConfigTypeError
from personalize_sim.simulation import EXIT, EventTypeConfig, FunnelConfig, GapConfig
from personalize_sim.simulation._funnel import Chain, event_times, last_pick


def z_99(tests: int) -> float:
    """Two-sided 99% quantile, Bonferroni-corrected so the whole family holds at 99%."""
    return NormalDist().inv_cdf(1 - 0.01 / (2 * tests))


def session_paths(frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """(from, to) pairs of consecutive events, ``exit`` after each session's last event.

    Sessions still running near the window's end are left out: the window cuts them,
    which would look like an exit.
    """
    frame = frame.sort_values(["SESSION_ID", "TIMESTAMP"], kind="stable")
    last = frame.groupby("SESSION_ID")["TIMESTAMP"].transform("max")
    frame = frame[last < end - pd.Timedelta(hours=6)]
    nxt = frame.groupby("SESSION_ID")["EVENT_TYPE"].shift(-1).fillna(EXIT)
    return pd.DataFrame({"src": frame["EVENT_TYPE"].to_numpy(), "dst": nxt.to_numpy()})


def absorbing_probability(funnel: FunnelConfig, target: str) -> float:
    """P(a session reaches ``target`` at least once), by first-step analysis."""
    names = list(funnel.names)
    start, matrix, _ = funnel.matrix()
    q = np.array(matrix)
    t = names.index(target)
    others = [i for i in range(len(names)) if i != t]
    # h = P(reach target | at state i), i != target: h = q[i, t] + sum_j q[i, j] h_j
    sub = q[np.ix_(others, others)]
    h = np.linalg.solve(np.eye(len(others)) - sub, q[others, t])
    reach = np.ones(len(names))
    reach[others] = h
    return float(np.dot(start, reach))


def test_transitions_and_conversion_match_the_chain():
    config = SimulationConfig.preset("retail").replace(
        users=10_000, days=4, start=dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)
    )
    frame = simulate(config, rng=3)
    end = frame["TIMESTAMP"].max()
    pairs = session_paths(frame, end)
    funnel = config.funnel
    checks = [(a, b, p) for a, row in funnel.transitions.items() for b, p in row.items()]
    z = z_99(len(checks) + 1)
    for src, dst, p in checks:
        rows = pairs[pairs["src"] == src]
        n = len(rows)
        observed = float(np.mean(rows["dst"] == dst))
        assert n > 200, src
        assert abs(observed - p) <= z * np.sqrt(p * (1 - p) / n), (src, dst, observed, p)
    # share of (complete) sessions with a purchase, against first-step analysis
    sessions = frame.groupby("SESSION_ID").agg(
        bought=("EVENT_TYPE", lambda s: bool((s == "Purchase").any())), last=("TIMESTAMP", "max")
    )
    sessions = sessions[sessions["last"] < end - pd.Timedelta(hours=6)]
    p = absorbing_probability(funnel, "Purchase")
    observed = sessions["bought"].mean()
    assert abs(observed - p) <= z * np.sqrt(p * (1 - p) / len(sessions)), (observed, p)


def test_mean_session_length_matches_expected_visits(rng):
    funnel = SimulationConfig.preset("video-on-demand").funnel
    events = Chain(funnel).run(200_000, rng)
    expected = sum(funnel.expected_visits())
    sd = np.std(events.lengths)
    assert abs(events.lengths.mean() - expected) <= z_99(1) * sd / np.sqrt(200_000)
    # events of a session are laid out together, steps counting from 0
    starts = np.flatnonzero(events.step == 0)
    assert np.array_equal(events.session[starts], np.arange(200_000))
    assert np.all(np.diff(events.session) >= 0)


def test_max_events_cuts_sessions():
    funnel = FunnelConfig(
        event_types=SimulationConfig().funnel.event_types,
        transitions={
            "View": {"View": 0.99, EXIT: 0.01},
            "AddToCart": {EXIT: 1.0},
            "Purchase": {EXIT: 1.0},
        },
        max_events=7,
    )
    events = Chain(funnel).run(1_000, np.random.default_rng(0))
    assert events.lengths.max() == 7
    assert np.mean(events.lengths == 7) > 0.9


def test_session_must_start_with_an_item_choosing_event():
    with pytest.raises(ConfigError) as error:
        FunnelConfig(start={"Purchase": 1.0})
    assert error.value.field == "start.Purchase"


def test_event_types_are_checked_with_their_field_names():
    with pytest.raises(ConfigTypeError) as error:
        EventTypeConfig(name="View", new_item="yes")
    assert error.value.field == "new_item"
    with pytest.raises(ConfigError) as error:
        EventTypeConfig(name=EXIT)
    assert "ends a session" in error.value.allowed
    with pytest.raises(ConfigError) as error:
        EventTypeConfig(name="Rate", value="stars")
    assert (error.value.field, error.value.value) == ("value", "stars")
    assert "watch_time" in error.value.allowed
    with pytest.raises(ConfigError) as error:
        FunnelConfig(event_types=())
    assert error.value.field == "event_types"
    with pytest.raises(ConfigTypeError) as error:
        FunnelConfig(max_events=2.5)
    assert error.value.field == "max_events"


def test_events_of_a_session_follow_its_start_by_the_drawn_gaps(rng):
    events = Chain(FunnelConfig()).run(400, rng)
    starts = np.sort(rng.integers(0, 10**12, 400))
    gap = GapConfig(distribution="uniform", low=1.0, high=2.0)
    ts = event_times(gap, starts, events, rng)
    first = events.step == 0
    np.testing.assert_array_equal(ts[first], starts)
    within = np.diff(ts)[~first[1:]]
    assert len(within) > 100
    assert within.min() >= 1_000_000 and within.max() <= 2_000_000


def test_follow_on_events_point_at_their_sessions_last_pick():
    new_item = np.array([True, False, False, True, True, False, True])
    assert last_pick(new_item).tolist() == [0, 0, 0, 3, 4, 4, 6]
    events = Chain(FunnelConfig()).run(50, np.random.default_rng(3))
    names = np.array(FunnelConfig().names)
    assert events.new_item.tolist() == (names[events.etype] == "View").tolist()
