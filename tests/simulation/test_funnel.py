"""The funnel: transition and conversion rates inside their 99% intervals."""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import numpy as np
import pandas as pd

from personalize_sim import SimulationConfig, simulate
from personalize_sim.simulation import EXIT, FunnelConfig
from personalize_sim.simulation._funnel import Chain


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
