"""Ids: fixed-width bytes give the same strings as formatting each number."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from personalize_sim.simulation._ids import (
    numbered,
    recommendation_ids,
    session_bytes,
    session_ids,
    with_nulls,
)


def test_ids_equal_python_formatting(rng):
    # session numbers of a chunk's events: a dense span (formatted once), with repeats
    sessions = 10**10 - 5_000 + rng.integers(0, 5_000, 1_000)
    steps = rng.integers(0, 1_000, 1_000)
    as_bytes = session_bytes(sessions)
    assert as_bytes.shape == (1_000, 11)
    ids = session_ids(as_bytes)
    assert ids.type == pa.large_string()
    assert ids.to_pylist() == [f"S{s:010d}" for s in sessions]
    recs = recommendation_ids(as_bytes, steps, 3)
    assert recs.to_pylist() == [
        f"rec-S{s:010d}-{t:03d}" for s, t in zip(sessions, steps, strict=True)
    ]
    assert session_ids(session_bytes(np.array([], dtype=np.int64))).to_pylist() == []
    assert numbered("u", 3).to_pylist() == ["u0", "u1", "u2"]


def test_with_nulls_shares_the_buffers_and_copes_with_slices():
    strings = numbered("i", 5)
    missing = np.array([False, True, False, False, True])
    nulled = with_nulls(strings, missing)
    assert nulled.to_pylist() == ["i0", None, "i2", "i3", None]
    assert nulled.buffers()[2].address == strings.buffers()[2].address  # no copy
    assert with_nulls(strings, np.zeros(5, dtype=bool)) is strings
    sliced = strings.slice(1, 3)
    assert with_nulls(sliced, np.array([True, False, False])).to_pylist() == [None, "i2", "i3"]
    twice = with_nulls(nulled, np.array([True, False, False, False, False]))
    assert twice.to_pylist() == [None, None, "i2", "i3", None]
