"""Fitting the catalog: new items over time, popularity drift, the rank-frequency curve.

* An item is **new** when its first pick comes so late that, had it been on sale from
  the start, its picks would almost surely (p < ``NEW_ITEM_P``) not all fall after it
  (time counted in the log's picks): quiet new items pass for old ones, so the share
  leans low.
* **Drift** is the daily random walk of log popularity: the variance of the change in
  an item's log share between consecutive periods (weeks, or days in a short log),
  less its Poisson noise (1/count for each period), divided by the variance a walk of
  unit steps gives between two period averages.
* The **popularity curve** is each item's rate *while on sale* (its picks over the share
  of all picks made since its release, each pick's count corrected by ``_fit_choices``),
  sorted: log-spaced ranks and their smoothed shares.
"""

from __future__ import annotations

import numpy as np

from ..simulation.internal import DAY_US
from ._fit_time import Window
from ._interactions import Interactions

__all__ = [
    "fit_drift", "fit_new_items", "fit_popularity", "unseen_items", "without_count_noise",
]  # fmt: skip

NEW_ITEM_P = 0.01
#: knots of the fitted rank-frequency curve
CURVE_POINTS = 48
#: events an item needs in both periods to measure its drift
DRIFT_MIN_COUNT = 20


def fit_new_items(
    log: Interactions, window: Window, picks: np.ndarray, picked_at: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first event µs, is new, the share of all picks made from the first event on) per
    item. ``picks``, ``picked_at``: the items and times of the picking events, the only
    ones that come independently (a cart and a purchase follow their view: counted, the
    three made an item's late first view look three times as unlikely). Time is measured
    in picks, so evenings and weekends weigh what they weigh in the log."""
    first = np.full(log.n_items, np.iinfo(np.int64).max)
    np.minimum.at(first, log.item, log.ts)
    counts = np.bincount(picks, minlength=log.n_items)
    after = 1.0 - np.searchsorted(np.sort(picked_at), first) / max(len(picked_at), 1)
    # P(all of an item's picks come after its first | on sale from the start) = after^count
    p_late = after**counts
    new = (first - window.start_us >= DAY_US) & (p_late < NEW_ITEM_P)
    return first, new, after


def fit_popularity(
    log: Interactions,
    window: Window,
    after: np.ndarray,
    new: np.ndarray,
    picks: np.ndarray,
    exposure: np.ndarray,
    *,
    unseen: int = 0,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Rank-frequency curve of rates while on sale: (ranks, shares); ``unseen`` items of
    the catalog have no event. ``picks``: the items of the picking events; ``exposure``:
    each item's share of the picks' exposure, which its count is divided by
    (``_fit_choices.fit_choices``: an item users come back to, or never twice)."""
    raw = np.bincount(picks, minlength=log.n_items).astype(np.float64)
    counts = raw / exposure
    # a new item was on sale before its first pick: by after / c on average for c picks,
    # so its share of the picks on sale is after (c + 1) / c; and at least a day's (an item
    # first seen in the log's last minutes had an absurd rate)
    on_sale = np.where(new, after * (raw + 1) / np.maximum(raw, 1), 1.0)
    rate = counts / np.maximum(on_sale, DAY_US / (window.end_us - window.start_us))
    rate = np.concatenate((rate, np.zeros(unseen)))  # the catalog's items no event shows
    order = np.argsort(-rate, kind="stable")
    shares = without_count_noise(rate[order] / rate.sum(), raw.sum())
    n = len(shares)
    ranks = np.unique(np.rint(np.geomspace(1, n, min(CURVE_POINTS, n))).astype(np.int64))
    cum = np.concatenate(([0.0], np.cumsum(shares)))
    # smoothed: the mean share of ranks within ±10%, so exact at the top ranks (the first
    # two averaged had put the top item a third short on a steep head)
    lo = np.maximum(np.ceil(ranks / 1.1 - 1e-9).astype(np.int64), 1)
    hi = np.minimum(np.floor(ranks * 1.1 + 1e-9).astype(np.int64), n)
    smooth = (cum[hi] - cum[lo - 1]) / (hi - lo + 1)
    smooth = np.maximum(smooth, shares[shares > 0].min())
    return tuple(float(r) for r in ranks), tuple(float(f"{s:.6g}") for s in smooth)


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
