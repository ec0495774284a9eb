"""The catalog: items with categories, prices, Zipf popularity, arrivals and drift.

:class:`CatalogConfig` describes it; :func:`build_catalog` draws the items, every
attribute a numpy array indexed by item number; :func:`catalog_day` gives the
popularity and per-persona choice distributions of one simulated day.

>>> CatalogConfig(items=100, categories=(CategoryConfig(name="books"),)).initial_items
100
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._checks import check, count, number, probability
from ._config_checks import named_items, valid_name

if TYPE_CHECKING:
    from ._population import PopulationConfig

__all__ = [
    "Catalog",
    "CatalogConfig",
    "CatalogDay",
    "CatalogDays",
    "CategoryConfig",
    "GuideTable",
    "build_catalog",
    "catalog_day",
    "organic_items",
]


@dataclass(frozen=True, kw_only=True)
class CategoryConfig:
    """One item category: its share of the catalog, prices and (for video) durations."""

    name: str
    weight: float = 1.0
    #: median price; prices are log-normal around it (0 for free content)
    price_median: float = 20.0
    price_sigma: float = 0.5
    #: median length in seconds (video); 0 when items have no duration
    duration_median: float = 0.0
    duration_sigma: float = 0.4

    def __post_init__(self) -> None:
        valid_name(self.name, "name")
        number(self.weight, "weight", low=0.0, strict=True)
        number(self.price_median, "price_median", low=0.0)
        number(self.price_sigma, "price_sigma", low=0.0)
        number(self.duration_median, "duration_median", low=0.0)
        number(self.duration_sigma, "duration_sigma", low=0.0)


def _default_categories() -> tuple[CategoryConfig, ...]:
    return (
        CategoryConfig(name="electronics", price_median=120.0, price_sigma=0.8),
        CategoryConfig(name="books", price_median=15.0, price_sigma=0.4),
        CategoryConfig(name="clothing", price_median=35.0, price_sigma=0.5),
        CategoryConfig(name="home", price_median=45.0, price_sigma=0.7),
    )


@dataclass(frozen=True, kw_only=True)
class CatalogConfig:
    """Items: categories, Zipf popularity, new arrivals and popularity drift."""

    items: int = 5_000
    categories: tuple[CategoryConfig, ...] = field(default_factory=_default_categories)
    #: item popularity ∝ rank ** -zipf_exponent
    zipf_exponent: float = 1.0
    #: share of items released during the window (they cannot be seen before release)
    new_item_share: float = 0.0
    #: standard deviation of the daily random walk of each item's log popularity
    drift_sigma: float = 0.0
    #: a rank-frequency curve instead of Zipf: item popularity at these ranks (1 = most
    #: popular) is ``popularity_shares``, log-log interpolated in between (``fit`` sets it)
    popularity_ranks: tuple[float, ...] = ()
    popularity_shares: tuple[float, ...] = ()
    #: the items dataset carries a textual DESCRIPTION of each item
    descriptions: bool = False

    def __post_init__(self) -> None:
        count(self.items, "items", low=1)
        check(isinstance(self.descriptions, bool), "descriptions", self.descriptions, "a bool")
        named_items(self.categories, "categories", "category")
        number(self.zipf_exponent, "zipf_exponent", low=0.0)
        probability(self.new_item_share, "new_item_share")
        check(self.new_item_share < 1, "new_item_share", self.new_item_share, "a share < 1")
        number(self.drift_sigma, "drift_sigma", low=0.0)
        self._check_curve()

    def _check_curve(self) -> None:
        ranks, shares = tuple(self.popularity_ranks), tuple(self.popularity_shares)
        check(
            len(ranks) == len(shares),
            "popularity_shares",
            list(shares),
            f"one share per rank in popularity_ranks ({len(ranks)})",
        )
        for i, rank in enumerate(ranks):
            low = 1.0 if i == 0 else ranks[i - 1]
            number(rank, f"popularity_ranks[{i}]", low=low, strict=i > 0)
        for i, share in enumerate(shares):
            number(share, f"popularity_shares[{i}]", low=0.0, strict=True)
        object.__setattr__(self, "popularity_ranks", tuple(float(r) for r in ranks))
        object.__setattr__(self, "popularity_shares", tuple(float(v) for v in shares))

    def log_weights(self, rank: np.ndarray) -> np.ndarray:
        """Log popularity weight of items of the given ranks (1 = most popular)."""
        if not self.popularity_ranks:
            return -self.zipf_exponent * np.log(rank)
        x = np.log(np.asarray(self.popularity_ranks))
        y = np.log(np.asarray(self.popularity_shares))
        lr = np.log(rank)
        out = np.interp(lr, x, y)
        if len(x) >= 2:  # past the last rank: the last segment's slope
            slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
            out = np.where(lr > x[-1], y[-1] + slope * (lr - x[-1]), out)
        return out

    @property
    def initial_items(self) -> int:
        """Items on sale from the start of the window."""
        return self.items - round(self.items * self.new_item_share)


#: uniforms are capped just below 1: ``p + u`` must never round up into segment p + 1
U_MAX = 1.0 - 2.0**-30


class GuideTable:
    """Inverse-CDF sampling in expected O(1) per draw (a "guide table", Chen & Asau 1974).

    ``cdf`` is non-decreasing on ``[0, segments]`` (several distributions may be stacked,
    segment s covering [s, s+1]). ``guide[j]`` is the answer for ``j / per_unit``, so a
    draw starts next to its answer and only steps over the few boundaries in between,
    instead of a binary search with a cache miss per level.
    """

    def __init__(self, cdf: np.ndarray, segments: int, per_unit: int) -> None:
        self.cdf = cdf
        self.per_unit = per_unit
        grid = np.arange(segments * per_unit) / per_unit
        self.grid = grid
        self.guide = np.searchsorted(cdf, grid, side="right")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Index of the first cdf value > x, for each x in [0, segments)."""
        j = (x * self.per_unit).astype(np.int64)
        j = np.minimum(j, len(self.grid) - 1)
        j -= self.grid[j] > x  # floating rounding may land one bucket too far
        idx = self.guide[j]
        todo = np.flatnonzero(self.cdf[idx] <= x)
        while len(todo):
            idx[todo] += 1
            todo = todo[self.cdf[idx[todo]] <= x[todo]]
        return idx


@dataclass(frozen=True, eq=False)
class Catalog:
    """Static item attributes (ground truth the recommenders may peek at)."""

    category: np.ndarray  # int16 category index per item
    price: np.ndarray  # float64, rounded to cents
    duration: np.ndarray  # float64 seconds (0 when the catalog has no durations)
    log_popularity: np.ndarray  # float64 base log weight: -s · log(rank)
    release_day: np.ndarray  # int32 day of the window the item goes on sale (0 = from the start)
    #: relevance[p, c] ∈ [0, 1]: persona p's affinity for category c over its best category
    relevance: np.ndarray
    #: affinity[p, c]: persona p's raw weight for category c
    affinity: np.ndarray

    @property
    def size(self) -> int:
        return len(self.category)


def build_catalog(
    config: CatalogConfig, population: PopulationConfig, days: int, rng: np.random.Generator
) -> Catalog:
    """Draw the items: categories by weight, log-normal prices, Zipf ranks, release days.

    New items go on sale at the start of a uniform day in 1 .. days-1 of the window.
    """
    n = config.items
    weights = np.array([c.weight for c in config.categories])
    category = rng.choice(len(weights), size=n, p=weights / weights.sum()).astype(np.int16)
    medians = np.array([c.price_median for c in config.categories])[category]
    sigmas = np.array([c.price_sigma for c in config.categories])[category]
    price = np.round(medians * np.exp(sigmas * rng.standard_normal(n)), 2)
    d_medians = np.array([c.duration_median for c in config.categories])[category]
    d_sigmas = np.array([c.duration_sigma for c in config.categories])[category]
    duration = np.round(d_medians * np.exp(d_sigmas * rng.standard_normal(n)))
    # ranks are a random permutation, so popularity is independent of category and id
    rank = rng.permutation(n) + 1
    log_popularity = config.log_weights(rank)
    release_day = np.zeros(n, dtype=np.int32)
    n_new = n - config.initial_items
    if n_new:
        newcomers = rng.choice(n, size=n_new, replace=False)
        release_day[newcomers] = rng.integers(1, max(days, 2), size=n_new)
    names = [c.name for c in config.categories]
    affinity = np.full((len(population.personas), len(names)), population.base_affinity)
    for p, persona in enumerate(population.personas):
        for category_name, value in persona.affinities.items():
            affinity[p, names.index(category_name)] = value
    best = affinity.max(axis=1, keepdims=True)
    relevance = np.divide(affinity, best, out=np.zeros_like(affinity), where=best > 0)
    return Catalog(
        category=category,
        price=price,
        duration=duration,
        log_popularity=log_popularity,
        release_day=release_day,
        relevance=relevance,
        affinity=affinity,
    )


@dataclass(frozen=True, eq=False)
class CatalogDay:
    """Popularity and choice distributions on one day of the window."""

    day: int
    weight: np.ndarray  # popularity weight per item, 0 before release
    available: np.ndarray  # item numbers on sale
    #: choice distributions stacked in one cdf: persona p occupies [p, p+1], and the
    #: last segment (``POPULARITY`` = number of personas) is choice by popularity alone
    stacked: GuideTable
    #: organic choice probability pdf[p, item]
    pdf: np.ndarray
    popular_order: np.ndarray  # available items, most popular first (top slate_size+)

    @property
    def popularity_segment(self) -> int:
        return self.pdf.shape[0]

    def choose(self, segments: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Item drawn from each segment's distribution (a persona, or popularity)."""
        n = self.pdf.shape[1]
        return self.stacked(segments + np.minimum(u, U_MAX)) - segments.astype(np.int64) * n

    def organic(self, personas: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Item chosen by users of ``personas`` for uniforms ``u`` (one draw each)."""
        return self.choose(personas, u)

    def by_popularity(self, u: np.ndarray) -> np.ndarray:
        return self.choose(np.full(len(u), self.popularity_segment), u)


def catalog_day(catalog: Catalog, day: int, log_drift: np.ndarray | None, top: int) -> CatalogDay:
    """The catalog as it stands on ``day``: released items, drifted popularity."""
    log_w = catalog.log_popularity if log_drift is None else catalog.log_popularity + log_drift
    on_sale = catalog.release_day <= day
    weight = np.where(on_sale, np.exp(log_w - log_w[on_sale].max()), 0.0)
    pref = weight[None, :] * catalog.affinity[:, catalog.category]
    totals = pref.sum(axis=1, keepdims=True)
    # a persona with no taste for anything on sale today browses by popularity
    pref = np.where(totals > 0, pref, weight[None, :])
    pdf = pref / pref.sum(axis=1, keepdims=True)
    segments = np.vstack([pdf, weight / weight.sum()])
    cdf = np.cumsum(segments, axis=1)
    cdf[:, -1] = 1.0  # no rounding gap at the end of a segment
    stacked = (cdf + np.arange(len(cdf))[:, None]).ravel()
    available = np.flatnonzero(on_sale)
    k = min(top, len(available))
    head = available[np.argpartition(-weight[available], k - 1)[:k]]
    # ties broken by item number so the order never depends on the partition algorithm
    popular_order = head[np.lexsort((head, -weight[head]))]
    return CatalogDay(
        day=day,
        weight=weight,
        available=available,
        stacked=GuideTable(stacked, len(cdf), 2 * len(weight)),
        pdf=pdf,
        popular_order=popular_order,
    )


class CatalogDays:
    """The catalog day by day: popularity drifts as a random walk of the log weights.

    Days are reached in order (blocks of time are scheduled in order), each day's step
    of the walk drawn from its own stream ``drift_rng(day)``.
    """

    def __init__(
        self,
        catalog: Catalog,
        drift_sigma: float,
        top: int,
        drift_rng: Callable[[int], np.random.Generator],
    ) -> None:
        self.catalog = catalog
        self.drift_sigma = drift_sigma
        self.top = top
        self.drift_rng = drift_rng
        self._drift: np.ndarray | None = None
        self._day: CatalogDay | None = None

    def on(self, day: int) -> CatalogDay:
        """The catalog on ``day`` (the same day again, or a later one)."""
        if self._day is not None and self._day.day == day:
            return self._day
        first = 0 if self._day is None else self._day.day + 1
        for d in range(first, day + 1):
            if self.drift_sigma > 0 and d > 0:
                normal = self.drift_rng(d).standard_normal(self.catalog.size)
                step = self.drift_sigma * normal
                self._drift = step if self._drift is None else self._drift + step
        self._day = catalog_day(self.catalog, day, self._drift, self.top)
        return self._day


def organic_items(
    day: CatalogDay, persona: np.ndarray, picks: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Item of every event (int32): events ``picks`` browse by their persona's taste,
    one draw each; the others are 0 until they are filled in."""
    item = np.zeros(len(persona), dtype=np.int32)
    item[picks] = day.organic(persona[picks], rng.random(len(picks)))
    return item
