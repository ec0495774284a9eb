"""Which item a pick chooses: popularity and the odds of coming back, fitted together.

The simulator (``simulation/_users.py``) picks item i with chance

    w_i κ^[i in H] / (1 - m + κ m)

where H holds the items the user picked before, m their total weight and κ the
``repeat_odds`` (1: with replacement, 0: never twice). Fitted one at a time, the two
confound each other: counts of fresh picks saturate for an item nearly every user has (a
user takes it fresh at most once), so its weight came out 40 % short on the
video-on-demand preset, and the odds rose to make up the returns. Here both are the maximum
of the log's likelihood, by minorize-maximize steps (as for Plackett-Luce models):

    κ   = returns / Σ_t m_t / D_t                       D_t = 1 - m_t + κ m_t
    w_i = picks of i / Σ_t κ^[i in H_t] / D_t = picks of i / (S + (κ - 1) X_i)

with S = Σ_t 1 / D_t and X_i the sum of 1 / D_t over the picks made after a user's first
pick of i: one pass over the picks per step. The steps run on a sample of users (at most
:data:`SAMPLE_PICKS` picks); the share ``e_i = 1 + (κ - 1) X_i / S`` of exposure then
corrects every item's count in the whole log (an item no sampled user picked is in nobody's
history often enough to matter: 1).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ODDS_AS_ONE", "fit_choices"]

#: repeat odds this close to 1 (in log) are 1: drawing with replacement needs no rounds
ODDS_AS_ONE = 0.1
#: picks the likelihood steps run on (users sampled whole)
SAMPLE_PICKS = 1_000_000
#: the steps stop when κ and every weight move less than this (relative), or after STEPS
TOLERANCE, STEPS = 1e-4, 200


def fit_choices(
    user: np.ndarray,
    item: np.ndarray,
    repeated: np.ndarray,
    n_items: int,
    notes: list[str],
) -> tuple[float, np.ndarray]:
    """(κ, each item's share of exposure ``e_i``): the picks' ``user``, ``item`` and
    whether each ``repeated`` an item of its user, in (user, time) order. The items'
    weights are then their picks divided by ``e_i`` (and by their time on sale)."""
    exposure = np.ones(n_items)
    if len(user) == 0:
        return 0.0, exposure
    user, item, repeated = _sample(user, item, repeated)
    first = ~repeated
    counts = np.bincount(item, minlength=n_items).astype(np.float64)
    weight = counts / counts.sum()
    returns = float(repeated.sum())
    starts = np.flatnonzero(np.diff(user, prepend=-1) != 0)
    sizes = np.diff(np.append(starts, len(user)))
    odds = 1.0
    for _ in range(STEPS):
        mass = _before(weight[item] * first, starts, sizes).clip(0.0, 1 - 1e-9)
        # κ from D at the last κ (an MM step: the likelihood never falls)
        new_odds = returns / max(float(np.sum(mass / (1 - mass + odds * mass))), 1e-300)
        inv = 1.0 / (1 - mass + new_odds * mass)
        later = _after(inv, starts, sizes)  # Σ 1/D over the user's later picks
        x = np.bincount(item[first], weights=later[first], minlength=n_items)
        total = float(inv.sum())
        share = np.maximum(1.0 + (new_odds - 1.0) * x / total, 1e-9)
        new_weight = counts / share
        new_weight /= new_weight.sum()
        moved = np.abs(new_weight - weight).max() / weight.max()
        moved = max(moved, abs(new_odds - odds) / max(odds, 1e-9))
        weight, odds, exposure = new_weight, new_odds, share
        if moved < TOLERANCE:
            break
    if returns == 0:
        notes.append("traffic.repeat_odds: nobody picks an item twice in the log; 0")
        return 0.0, exposure
    if abs(np.log(odds)) < ODDS_AS_ONE:
        notes.append(f"traffic.repeat_odds: {odds:.3f} is taken as 1 (with replacement)")
        return 1.0, np.ones(n_items)
    if odds > 1e4:
        notes.append("traffic.repeat_odds: users come back more than 10,000 times as often "
                     "as popularity says; capped")  # fmt: skip
        odds = 1e4
    return float(f"{odds:.6g}"), exposure


def _sample(
    user: np.ndarray, item: np.ndarray, repeated: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole users, drawn at random (a fixed seed: a fit is deterministic), up to
    SAMPLE_PICKS picks; the picks keep their (user, time) order."""
    if len(user) <= SAMPLE_PICKS:
        return user, item, repeated
    picks = np.bincount(user)
    order = np.random.default_rng(0).permutation(len(picks))
    chosen = order[: max(int(np.searchsorted(np.cumsum(picks[order]), SAMPLE_PICKS)), 1)]
    keep = np.zeros(len(picks), dtype=bool)
    keep[chosen] = True
    mask = keep[user]
    return user[mask], item[mask], repeated[mask]


def _before(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per element, the sum of the earlier elements of its user's segment."""
    total = np.cumsum(values) - values
    return total - np.repeat(total[starts], sizes)


def _after(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per element, the sum of the later elements of its user's segment."""
    total = np.cumsum(values)
    ends = total[starts + sizes - 1]
    return np.repeat(ends, sizes) - total
