"""The scheduler: blocks in order whatever the threads, spill-over carried, chunks cut."""

from __future__ import annotations

import numpy as np
import pandas as pd

from personalize_sim import SimulationConfig, simulate
from personalize_sim.simulation._scheduler import chunked

from .conftest import START, batch_of


def test_threads_never_change_the_events(monkeypatch):
    from personalize_sim.simulation import _scheduler

    config = SimulationConfig.preset("retail").replace(users=600, days=3, start=START)
    threaded = simulate(config, rng=31)
    monkeypatch.setattr(_scheduler, "MAX_WORKERS", 1)
    pd.testing.assert_frame_equal(simulate(config, rng=31), threaded)


def test_sessions_running_past_midnight_keep_their_events_in_order():
    # daily blocks: sessions that start before midnight and end after it are carried over
    config = SimulationConfig.preset("retail").replace(users=1_500, days=3, start=START)
    frame = simulate(config, rng=12)
    day = (frame["TIMESTAMP"] - pd.Timestamp(START)).dt.days
    spans = day.groupby(frame["SESSION_ID"]).nunique()
    assert (spans > 1).sum() >= 3
    key = list(zip(frame["TIMESTAMP"], frame["SESSION_ID"], strict=True))
    assert key == sorted(key)
    # sessions are numbered by start time across blocks
    first = frame.groupby("SESSION_ID")["TIMESTAMP"].min()
    assert first.is_monotonic_increasing
    assert first.index[0] == "S0000000000"
    assert len(first) == int(first.index[-1][1:]) + 1  # no number skipped or repeated


def test_chunks_are_cut_at_exactly_chunk_events_and_keep_their_slates():
    parts = [
        batch_of([1, 2, 3], [True, False, True]),
        batch_of([], []),
        batch_of([4, 5, 6, 7, 8], [False, True, True, False, True]),
        batch_of([9, 10], [True, True]),
    ]
    chunks = list(chunked(iter(parts), 4, n_props=1, k=2))
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert np.concatenate([c.cols["ts"] for c in chunks]).tolist() == list(range(1, 11))
    for chunk in chunks:
        row = chunk.cols["slate_row"]
        shown = row >= 0
        # each event with a slate still points at its own slate (its [t, t + 1])
        assert chunk.slates[row[shown], 0].tolist() == chunk.cols["ts"][shown].tolist()
        assert row[shown].tolist() == list(range(int(shown.sum())))
    assert list(chunked(iter([batch_of([], [])]), 4, n_props=1, k=2)) == []
