"""_fit_choices: popularity and the odds of coming back, fitted together, on picks drawn one
by one from the very model the simulator uses (a slow, obviously correct sampler)."""

from __future__ import annotations

import numpy as np
import pytest

from personalize_sim.calibration._fit_choices import fit_choices
from personalize_sim.simulation.internal import seen_before

ITEMS = 200
WEIGHT = np.arange(1, ITEMS + 1) ** -1.0 / np.sum(np.arange(1, ITEMS + 1) ** -1.0)


def _picks(odds: float, users: int, rng: np.random.Generator):
    """Each pick: item i with chance w_i odds^[i already picked] / (1 - m + odds m)."""
    user, item = [], []
    for u in range(users):
        had = np.zeros(ITEMS, dtype=bool)
        for _ in range(int(rng.integers(1, 25))):
            p = WEIGHT * np.where(had, odds, 1.0)
            i = int(rng.choice(ITEMS, p=p / p.sum()))
            had[i] = True
            user.append(u)
            item.append(i)
    user_a, item_a = np.array(user), np.array(item)
    return user_a, item_a, seen_before(user_a * ITEMS + item_a)


@pytest.mark.parametrize(
    ("odds", "low", "high"), [(0.0, 0.0, 0.0), (0.3, 0.25, 0.35), (5.0, 4.4, 5.6)]
)
def test_odds_and_weights_of_the_model_are_recovered(odds, low, high):
    user, item, repeated = _picks(odds, 1_500, np.random.default_rng(1))
    notes: list[str] = []
    fitted, exposure = fit_choices(user, item, repeated, ITEMS, notes)
    assert low <= fitted <= high, fitted
    weight = np.bincount(item, minlength=ITEMS) / exposure
    weight = weight / weight.sum()
    # the head, which fresh picks alone leave short when users rarely pick an item twice
    assert np.allclose(weight[:5], WEIGHT[:5], rtol=0.12), (weight[:5], WEIGHT[:5])
    if odds == 0.0:
        assert notes == ["traffic.repeat_odds: nobody picks an item twice in the log; 0"]


def test_a_log_drawn_with_replacement_is_taken_as_odds_one():
    user, item, repeated = _picks(1.0, 800, np.random.default_rng(2))
    notes: list[str] = []
    fitted, exposure = fit_choices(user, item, repeated, ITEMS, notes)
    assert fitted == 1.0 and (exposure == 1.0).all()
    assert notes[0].startswith("traffic.repeat_odds: ") and "taken as 1" in notes[0]
