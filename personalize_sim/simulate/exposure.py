"""Exposure: recommenders build slates, click models decide what users click.

A slate is a row of ``k`` distinct item numbers. Recommenders fill many slates in
one call (``(n, k)`` arrays); click models turn per-position attractiveness into one
clicked position per slate (or none):

* ``position`` (PBM): P(click at i) = examination[i] · attractiveness[i]
* ``cascade``: the user scans top-down, reaching position i with probability
  examination[i], and stops at the first attractive item:
  P(click at i) = examination[i] · attractiveness[i] · Π_{j<i} (1 − attractiveness[j])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .catalog import Catalog, CatalogDay

__all__ = ["SlateContext", "click_probabilities", "draw_clicks", "make_slates"]

#: cells of the (rows × items) score matrix Gumbel sampling may allocate at once
_GUMBEL_CELLS = 4_000_000


@dataclass(frozen=True, eq=False)
class SlateContext:
    """What a user-supplied recommender gets: return an int array (len(users), k)."""

    users: np.ndarray  # true user numbers
    personas: np.ndarray  # their personas (ground truth: a "perfect" recommender may peek)
    timestamps: np.ndarray  # epoch µs of each request
    k: int
    rng: np.random.Generator
    catalog: Catalog
    day: CatalogDay  # today's popularity (``weight``) and on-sale items (``available``)


def click_probabilities(model: str, examination: np.ndarray, attract: np.ndarray) -> np.ndarray:
    """P(the click lands on position i) for each slate row; rows sum to at most 1."""
    if model == "position":
        return examination[None, :] * attract
    skipped = np.cumprod(1.0 - attract, axis=1)
    reach_unclicked = np.concatenate([np.ones((len(attract), 1)), skipped[:, :-1]], axis=1)
    return examination[None, :] * attract * reach_unclicked


def draw_clicks(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Clicked position per row for uniforms ``u``; -1 when the slate was ignored."""
    cum = np.cumsum(probs, axis=1)
    pos = (u[:, None] >= cum).sum(axis=1)
    return np.where(pos >= probs.shape[1], -1, pos)


def make_slates(
    recommender: str | Callable[[SlateContext], Any],
    *,
    quality: float,
    k: int,
    users: np.ndarray,
    personas: np.ndarray,
    timestamps: np.ndarray,
    catalog: Catalog,
    day: CatalogDay,
    rng: np.random.Generator,
) -> np.ndarray:
    """Slates (n, k) of distinct item numbers from one recommender."""
    n = len(users)
    if recommender == "popular":
        return np.broadcast_to(day.popular_order[:k], (n, k))
    if recommender == "random":
        weights = np.zeros(catalog.size)
        weights[day.available] = 1.0
        uniform_cdf = np.cumsum(weights) / len(day.available)
        uniform_cdf[-1] = 1.0

        def draw(rows: np.ndarray, m: int) -> np.ndarray:
            return np.minimum(
                np.searchsorted(uniform_cdf, rng.random((len(rows), m)), side="right"),
                catalog.size - 1,
            )

        log_uniform = np.where(weights > 0, 0.0, -np.inf)

        def log_weights(rows: np.ndarray) -> np.ndarray:
            return np.broadcast_to(log_uniform, (len(rows), catalog.size))

        return _distinct(draw, log_weights, n, k, rng)
    if recommender == "personalized":
        # a mixture per slot: the user's true preference with prob quality, else popularity
        def draw(rows: np.ndarray, m: int) -> np.ndarray:
            u = rng.random((len(rows), m))
            own = rng.random((len(rows), m)) < quality
            p = np.broadcast_to(personas[rows, None].astype(np.int64), u.shape)
            return np.where(own, day.organic(p, u), day.by_popularity(u))

        def log_weights(rows: np.ndarray) -> np.ndarray:
            mix = quality * day.pdf[personas[rows]] + (1 - quality) * (
                day.weight / day.weight.sum()
            )
            with np.errstate(divide="ignore"):
                return np.log(mix)

        return _distinct(draw, log_weights, n, k, rng)
    if callable(recommender):
        context = SlateContext(
            users=users,
            personas=personas,
            timestamps=timestamps,
            k=k,
            rng=rng,
            catalog=catalog,
            day=day,
        )
        return _checked(recommender(context), n, k, catalog.size, recommender)
    raise ValueError(f"unknown recommender {recommender!r}")


def _checked(slates: Any, n: int, k: int, n_items: int, recommender: Any) -> np.ndarray:
    name = getattr(recommender, "__name__", repr(recommender))
    arr = np.asarray(slates)
    if arr.shape != (n, k) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"recommender {name} returned an array of shape {arr.shape} and dtype {arr.dtype}; "
            f"it must return integer item numbers of shape ({n}, {k})"
        )
    if n and (arr.min() < 0 or arr.max() >= n_items):
        raise ValueError(f"recommender {name} returned item numbers outside 0 .. {n_items - 1}")
    if n and k > 1:
        ordered = np.sort(arr, axis=1)
        if np.any(ordered[:, 1:] == ordered[:, :-1]):
            raise ValueError(f"recommender {name} returned a slate with a repeated item")
    return arr


def _distinct(
    draw: Callable[[np.ndarray, int], np.ndarray],
    log_weights: Callable[[np.ndarray], np.ndarray],
    n: int,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """k distinct items per row, sampled without replacement in proportion to the weights.

    The first k distinct values of i.i.d. draws are exactly a successive sample without
    replacement, so oversample and keep first occurrences; rows that still lack k
    distinct items (tiny or very skewed catalogs) use the Gumbel-top-k trick, which
    samples the same distribution.
    """
    out = np.empty((n, k), dtype=np.int64)
    rows = np.arange(n)
    m = 3 * k
    for _ in range(2):
        if len(rows) == 0:
            return out
        cand = draw(rows, m)
        first, ok = _first_distinct(cand, k)
        out[rows[ok]] = first[ok]
        rows = rows[~ok]
        m *= 3
    if len(rows):
        n_items = log_weights(rows[:1]).shape[1]
        step = max(1, _GUMBEL_CELLS // n_items)
        for lo in range(0, len(rows), step):
            part = rows[lo : lo + step]
            scores = log_weights(part) + rng.gumbel(size=(len(part), n_items))
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
            out[part] = np.take_along_axis(top, order, axis=1)
    return out


def _first_distinct(cand: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """First k distinct values of each row (in draw order) and whether a row had k."""
    order = np.argsort(cand, axis=1, kind="stable")
    ordered = np.take_along_axis(cand, order, axis=1)
    repeat_sorted = np.zeros(cand.shape, dtype=bool)
    repeat_sorted[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    repeat = np.empty_like(repeat_sorted)
    np.put_along_axis(repeat, order, repeat_sorted, axis=1)
    ok = (~repeat).sum(axis=1) >= k
    keep = np.argsort(repeat, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(cand, keep, axis=1), ok
