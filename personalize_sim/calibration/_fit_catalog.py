"""Fitting the catalog: new items over time, popularity drift, the rank-frequency curve.

* An item is **new** when its first event comes so late that, had it been on sale from
  the start, its events would almost surely (p < ``NEW_ITEM_P``) not all fall after
  it: quiet new items pass for old ones, so the share leans low.
* **Drift** is the daily random walk of log popularity: the variance of the change in
  an item's log share between consecutive periods (weeks, or days in a short log),
  less its Poisson noise (1/count for each period), divided by the variance a walk of
  unit steps gives between two period averages.
* The **popularity curve** is each item's rate *while on sale* (events per day since its
  release), sorted: log-spaced ranks and their smoothed shares.
"""

from __future__ import annotations

import numpy as np

from ..simulation.internal import DAY_US
from ._fit_time import Window
from ._fit_users import popularity_for_fresh_picks
from ._interactions import Interactions

__all__ = [
    "fit_drift", "fit_new_items", "fit_popularity", "unseen_items", "without_count_noise",
]  # fmt: skip

NEW_ITEM_P = 0.01
#: knots of the fitted rank-frequency curve
CURVE_POINTS = 48
#: events an item needs in both periods to measure its drift
DRIFT_MIN_COUNT = 20


def fit_new_items(log: Interactions, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """(first event µs, is new) per item."""
    first = np.full(log.n_items, np.iinfo(np.int64).max)
    np.minimum.at(first, log.item, log.ts)
    counts = np.bincount(log.item, minlength=log.n_items)
    waited = (first - window.start_us).astype(np.float64)
    span = float(window.end_us - window.start_us)
    # P(all of an item's events come after `waited` | on sale from the start, events
    # spread evenly over the window) = (1 - waited / span) ** count
    p_late = (1.0 - waited / span) ** counts
    new = (waited >= DAY_US) & (p_late < NEW_ITEM_P)
    return first, new


def fit_popularity(
    log: Interactions,
    window: Window,
    first: np.ndarray,
    new: np.ndarray,
    fresh: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    unseen: int = 0,
) -> tuple[tuple[float, ...], tuple[float, ...], np.ndarray]:
    """Rank-frequency curve of rates while on sale: (ranks, shares, each log item's share of
    the curve before smoothing); ``unseen`` items of the catalog have no event. With
    ``fresh`` (fresh
    picks per user and per item: picks of an item new to its user), the curve of fresh
    picks, as weights that give their shares when users never pick an item twice
    (``_fit_users.popularity_for_fresh_picks``); repeats copy the user's own history."""
    counts = np.bincount(log.item, minlength=log.n_items).astype(np.float64)
    if fresh is not None:
        counts = fresh[1].astype(np.float64)
    since = np.where(new, first, window.start_us)
    # a new item was on sale before its first event: by (end - first) / c on average for c
    # events spread evenly, so its time on sale is (end - first)(c + 1)/c; and at least a
    # day (an item first seen in the log's last minutes had an absurd rate)
    exposure = (window.end_us - since).astype(np.float64)
    exposure = np.where(new, exposure * (counts + 1) / np.maximum(counts, 1), exposure)
    rate = counts / np.maximum(exposure, DAY_US)
    rate = np.concatenate((rate, np.zeros(unseen)))  # the catalog's items no event shows
    order = np.argsort(-rate, kind="stable")
    shares = without_count_noise(rate[order] / rate.sum(), counts.sum())
    if fresh is not None:
        shares = popularity_for_fresh_picks(shares, fresh[0])
    item_weight = np.empty(len(shares))
    item_weight[order] = shares
    item_weight = item_weight[: log.n_items]
    n = len(shares)
    ranks = np.unique(np.rint(np.geomspace(1, n, min(CURVE_POINTS, n))).astype(np.int64))
    cum = np.concatenate(([0.0], np.cumsum(shares)))
    # smoothed: the mean share of ranks within ±10% (exact at the top ranks)
    lo = np.maximum(np.floor(ranks / 1.1).astype(np.int64), 1)
    hi = np.minimum(np.ceil(ranks * 1.1).astype(np.int64), n)
    smooth = (cum[hi] - cum[lo - 1]) / (hi - lo + 1)
    smooth = np.maximum(smooth, shares[shares > 0].min())
    return (
        tuple(float(r) for r in ranks),
        tuple(float(f"{s:.6g}") for s in smooth),
        item_weight,
    )


def unseen_items(counts: np.ndarray, notes: list[str]) -> int:
    """Items of the catalog the log never shows, estimated from those it shows once (f1) and
    twice (f2) by Chao's bias-corrected estimator, f1 (f1 - 1) / (2 (f2 + 1)): a log's items
    are those its users happened to pick, and a catalog of only those would be picked
    through, every item at least once, as no real one is."""
    f1, f2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
    unseen = f1 * (f1 - 1) // (2 * (f2 + 1))
    if unseen:
        notes.append(
            f"catalog.items: {unseen:,} items no event shows, estimated from the {f1:,} "
            f"picked once and {f2:,} twice (Chao1); pass items= to give the catalog"
        )
    return unseen


def without_count_noise(shares: np.ndarray, total: float, rounds: int = 12) -> np.ndarray:
    """Shares (sorted, descending) whose counts, drawn again, sort to ``shares``: sorted
    counts spread wider than the items' rates (an item drawn once may be one drawn twice on
    average: the tail looks thinner and the head sharper than they are), so a catalog built
    from them straight leaves a fifth of its items untouched. Each round draws Poisson counts
    (a fixed seed: a fit is deterministic) and scales each rank by what it missed."""
    if total <= 0 or len(shares) < 2:
        return shares
    rng = np.random.default_rng(0)
    target = shares * total
    weight = (target + 0.5) / (target + 0.5).sum()
    for _ in range(rounds):
        drawn = np.mean([np.sort(rng.poisson(weight * total))[::-1] for _ in range(4)], axis=0)
        weight = np.sort(weight * (target + 0.5) / (drawn + 0.5))[::-1]
        weight = weight / weight.sum()
    return weight


def fit_drift(log: Interactions, window: Window, first: np.ndarray, notes: list[str]) -> float:
    """Daily standard deviation of the random walk of items' log popularity."""
    days = window.days
    period = 7 if days >= 21 else 1
    n_periods = int(days // period)
    if n_periods < 2:
        notes.append("catalog.drift_sigma: the log spans less than two days; no drift")
        return 0.0
    which = (log.ts - window.start_us) // (period * DAY_US)
    # only items seen on the first day: a quiet new item's arrival is no drift; and one
    # count per pick (a session's follow-on events on the same item would add noise)
    old = first < window.start_us + DAY_US
    picked = np.ones(len(log.item), dtype=bool)
    picked[1:] = (np.diff(log.session) != 0) | (np.diff(log.item) != 0)
    keep = (which < n_periods) & old[log.item] & picked
    counts = np.zeros((n_periods, log.n_items))
    np.add.at(counts, (which[keep], log.item[keep]), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    # items busy over the whole window (not in a given pair of periods: that would keep
    # the items that drifted up and drop those that drifted down)
    busy = counts.sum(axis=0) >= DRIFT_MIN_COUNT * n_periods
    if busy.sum() < 10:
        notes.append(
            f"catalog.drift_sigma: fewer than 10 items have {DRIFT_MIN_COUNT} events per "
            "period; no drift"
        )
        return 0.0
    c = counts[:, busy] + 0.5
    share = np.log(c / totals)
    change = np.diff(share, axis=0)
    # shares move together (they sum to 1): remove each period's mean change
    change = change - change.mean(axis=1, keepdims=True)
    excess = change**2 - (1 / c[:-1] + 1 / c[1:])
    # a walk of unit daily steps moves a period's mean from the previous one's by
    # sum_k c_k^2, c_k the share of step k between them (1 for days, 4.71 for weeks)
    factor = (_squares(period) + _squares(period - 1)) / period**2
    return float(round(np.sqrt(max(excess.mean(), 0.0) / factor), 6))


def _squares(m: int) -> float:
    return m * (m + 1) * (2 * m + 1) / 6
