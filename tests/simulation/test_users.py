"""Helpers of the users-as-people model (simulation/_users.py) against obvious versions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim.simulation.internal import seen_before


@pytest.mark.parametrize("high", [2, 1_000, 2**40, 2**62])
@pytest.mark.parametrize("n", [0, 1, 2, 5_000])
def test_seen_before_is_a_first_occurrence_test(n, high):
    # small keys take the packed sort, keys near 2**62 the hash table: the same answer
    rng = np.random.default_rng(n + high % 97)
    key = rng.integers(0, high, n) if high > 2 else rng.integers(0, 2, n)
    key = np.concatenate([key, key[: n // 3]])  # some repeats, also far apart
    expected = pd.Series(key).duplicated(keep="first").to_numpy()
    assert seen_before(key).tolist() == expected.tolist()
