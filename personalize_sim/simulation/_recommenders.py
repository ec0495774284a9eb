"""Recommenders: fill many slates at once, each a row of ``k`` distinct item numbers.

``popular`` shows today's most popular items; ``random`` draws items on sale
uniformly; ``personalized`` mixes the user's true preferences (with probability
``quality``) and popularity, slot by slot; a callable gets a :class:`SlateContext`
and returns the slates itself:

>>> import numpy as np
>>> def first_items(context: SlateContext) -> np.ndarray:
...     return np.tile(context.day.available[: context.k], (len(context.users), 1))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._catalog import Catalog, CatalogDay

__all__ = ["RECOMMENDERS", "SlateContext", "make_slates"]

#: the recommenders known by name (any callable taking a SlateContext is one too)
RECOMMENDERS = ("none", "popular", "random", "personalized")
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
    field: str = "recommender",
) -> np.ndarray:
    """Slates (n, k) of distinct item numbers from one recommender.

    ``field`` names the recommender in the :class:`ConfigError` raised when a callable
    returns something else than such slates.
    """
    n = len(users)
    if recommender == "popular":
        return np.broadcast_to(day.popular_order[:k], (n, k))
    if recommender == "random":
        return _random(n, k, catalog, day, rng)
    if recommender == "personalized":
        return _personalized(quality, personas, k, day, rng)
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
        return _checked(recommender(context), n, k, catalog.size, recommender, field)
    raise ConfigError(field, recommender, f"one of {', '.join(RECOMMENDERS[1:])}, or a callable")


def _random(
    n: int, k: int, catalog: Catalog, day: CatalogDay, rng: np.random.Generator
) -> np.ndarray:
    """Items on sale, uniformly."""
    available = day.available

    def draw(rows: np.ndarray, m: int) -> np.ndarray:
        return available[(rng.random((len(rows), m)) * len(available)).astype(np.int64)]

    log_uniform = np.full(catalog.size, -np.inf)
    log_uniform[available] = 0.0

    def log_weights(rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(log_uniform, (len(rows), catalog.size))

    return _distinct(draw, log_weights, n, k, rng)


def _personalized(
    quality: float, personas: np.ndarray, k: int, day: CatalogDay, rng: np.random.Generator
) -> np.ndarray:
    """A mixture per slot: the user's true preference with probability ``quality``, else
    popularity."""

    def draw(rows: np.ndarray, m: int) -> np.ndarray:
        # one uniform picks the component and, rescaled, the item within it
        u = rng.random(len(rows) * m)
        own = u < quality
        segment = np.where(own, np.repeat(personas[rows], m), day.popularity_segment)
        with np.errstate(divide="ignore", invalid="ignore"):  # quality 0 or 1
            v = np.where(own, u / quality, (u - quality) / (1 - quality))
        return day.choose(segment, v).reshape(len(rows), m)

    def log_weights(rows: np.ndarray) -> np.ndarray:
        mix = quality * day.pdf[personas[rows]] + (1 - quality) * (day.weight / day.weight.sum())
        with np.errstate(divide="ignore"):
            logs = np.log(mix)
        # items on sale the user has no taste for still fill a slate (last), never
        # items that are not on sale yet
        on_sale = day.weight > 0
        return np.where(np.isneginf(logs) & on_sale, -1e300, logs)

    return _distinct(draw, log_weights, len(personas), k, rng)


def _checked(slates: Any, n: int, k: int, n_items: int, recommender: Any, field: str) -> np.ndarray:
    """The slates a callable returned, if they are (n, k) distinct item numbers."""
    name = getattr(recommender, "__name__", repr(recommender))
    wanted = f"a recommender returning distinct integer item numbers of shape ({n}, {k})"
    arr = np.asarray(slates)
    if arr.shape != (n, k) or not np.issubdtype(arr.dtype, np.integer):
        returned = f"an array of shape {arr.shape} and dtype {arr.dtype}"
        raise ConfigError(field, recommender, f"{wanted}; {name} returned {returned}")
    if n and (arr.min() < 0 or arr.max() >= n_items):
        returned = f"item numbers outside 0 .. {n_items - 1}"
        raise ConfigError(field, recommender, f"{wanted}; {name} returned {returned}")
    if n and k > 1:
        ordered = np.sort(arr, axis=1)
        if np.any(ordered[:, 1:] == ordered[:, :-1]):
            returned = "a slate with a repeated item"
            raise ConfigError(field, recommender, f"{wanted}; {name} returned {returned}")
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
    m = k + k // 2 + 2
    for _ in range(3):
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
    """First k distinct values of each row (in draw order) and whether a row had k.

    Columns are compared with the ones before them (vectorised comparisons over a
    handful of columns beat sorting every row); past column k only rows still short of
    k distinct items are compared.
    """
    n, m = cand.shape
    fresh = np.zeros((n, m), dtype=bool)
    fresh[:, 0] = True
    counts = np.ones(n, dtype=np.int64)
    for j in range(1, m):
        if j < k:
            new = ~(cand[:, :j] == cand[:, j : j + 1]).any(axis=1)
            fresh[:, j] = new
            counts += new
            continue
        # past column k only the rows still short of k distinct items need looking at
        short = np.flatnonzero(counts < k)
        if len(short) == 0:
            break
        new = ~(cand[short, :j] == cand[short, j : j + 1]).any(axis=1)
        fresh[short, j] = new
        counts[short] += new
    ok = counts >= k
    out = np.zeros((n, k), dtype=cand.dtype)
    if ok.any():
        rows = np.flatnonzero(ok)
        flat = np.flatnonzero(fresh[rows])  # row-major: each row's fresh columns in order
        starts = np.concatenate(([0], np.cumsum(counts[rows])[:-1]))
        picked = flat[starts[:, None] + np.arange(k)]
        out[rows] = cand[rows].ravel()[picked]
    return out, ok
