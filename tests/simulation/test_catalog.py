"""The catalog: Zipf popularity, new arrivals, drift."""

from __future__ import annotations

import numpy as np
import pytest

from personalize_sim import ConfigError, simulate
from personalize_sim.errors import ConfigTypeError
from personalize_sim.simulation import (
    CatalogConfig,
    CategoryConfig,
    PersonaConfig,
    PopulationConfig,
)
from personalize_sim.simulation._catalog import (
    CatalogDays,
    build_catalog,
    catalog_day,
    organic_items,
)


def fitted_zipf_exponent(counts: np.ndarray) -> float:
    """Maximum-likelihood exponent of a Zipf law over the observed rank-frequency curve."""
    ranked = np.sort(counts)[::-1].astype(float)
    log_rank = np.log(np.arange(1, len(ranked) + 1))
    grid = np.arange(0.2, 2.5, 0.0005)
    normaliser = np.log(np.exp(-np.outer(grid, log_rank)).sum(axis=1))
    loglik = -grid * (ranked @ log_rank) - ranked.sum() * normaliser
    return float(grid[np.argmax(loglik)])


@pytest.mark.parametrize("exponent", [0.8, 1.2])
def test_item_popularity_follows_the_configured_zipf_exponent(plain, exponent):
    config = plain(
        catalog=CatalogConfig(
            items=2_000, zipf_exponent=exponent, categories=(CategoryConfig(name="all"),)
        )
    ).replace(users=20_000, days=7, time__sessions_per_user_per_day=1.45)
    frame = simulate(config, rng=11)
    assert len(frame) > 950_000
    counts = frame["ITEM_ID"].value_counts().to_numpy()
    assert abs(fitted_zipf_exponent(counts) - exponent) <= 0.05


def test_new_items_are_not_on_sale_before_their_release_day(rng):
    config = CatalogConfig(items=1_000, new_item_share=0.3)
    catalog = build_catalog(config, PopulationConfig(), days=5, rng=rng)
    released = catalog.release_day
    assert (released == 0).sum() == config.initial_items == 700
    assert set(np.unique(released[released > 0])) <= {1, 2, 3, 4}
    for day in range(5):
        today = catalog_day(catalog, day, None, top=10)
        on_sale = released <= day
        assert np.all(today.pdf[:, ~on_sale] == 0)
        assert np.all(today.pdf[:, on_sale] > 0)
        assert set(today.popular_order) <= set(np.flatnonzero(on_sale))
        np.testing.assert_allclose(today.pdf.sum(axis=1), 1.0)


def test_drift_moves_popularity_and_no_drift_keeps_it(plain):
    def top_items(drift: float) -> tuple[set[str], set[str]]:
        config = plain(
            catalog=CatalogConfig(
                items=300, drift_sigma=drift, categories=(CategoryConfig(name="all"),)
            )
        ).replace(days=10, users=3_000)
        frame = simulate(config, rng=5)
        day = frame["TIMESTAMP"].dt.floor("D")
        first = frame[day == day.min()]["ITEM_ID"].value_counts().index[:20]
        last = frame[day == day.max()]["ITEM_ID"].value_counts().index[:20]
        return set(first), set(last)

    first, last = top_items(0.0)
    assert len(first & last) >= 15
    first, last = top_items(0.6)
    assert len(first & last) <= 8


def test_organic_choice_follows_persona_affinity(rng):
    categories = (CategoryConfig(name="a"), CategoryConfig(name="b"))
    population = PopulationConfig(
        base_affinity=0.0,
        personas=(PersonaConfig(name="likes_a", affinities={"a": 3.0, "b": 1.0}),),
    )
    catalog = build_catalog(
        CatalogConfig(items=400, categories=categories, zipf_exponent=0.0), population, 1, rng
    )
    today = catalog_day(catalog, 0, None, top=5)
    picks = today.organic(np.zeros(200_000, dtype=np.int64), rng.random(200_000))
    share_a = np.mean(catalog.category[picks] == 0)
    n_a = np.mean(catalog.category == 0)
    expected = 3 * n_a / (3 * n_a + (1 - n_a))
    assert abs(share_a - expected) < 0.01


def test_days_drift_one_step_per_day_from_their_own_streams(rng):
    catalog = build_catalog(CatalogConfig(items=200), PopulationConfig(), 4, rng)
    asked: list[int] = []

    def drift_rng(day: int) -> np.random.Generator:
        asked.append(day)
        return np.random.default_rng(day)

    days = CatalogDays(catalog, 0.5, 10, drift_rng)
    assert days.on(0) is days.on(0)  # the same day again is not rebuilt
    third = days.on(3)  # skipping days still walks through them
    assert asked == [1, 2, 3]
    walk = sum(0.5 * np.random.default_rng(d).standard_normal(200) for d in (1, 2, 3))
    np.testing.assert_allclose(third.weight, catalog_day(catalog, 3, walk, 10).weight)
    still = CatalogDays(catalog, 0.0, 10, drift_rng)
    np.testing.assert_array_equal(still.on(3).weight, catalog_day(catalog, 3, None, 10).weight)
    assert asked == [1, 2, 3]  # no drift, no draws


def test_only_picking_events_get_an_organic_item(rng):
    catalog = build_catalog(CatalogConfig(items=50), PopulationConfig(), 1, rng)
    today = catalog_day(catalog, 0, None, top=5)
    persona = np.zeros(6, dtype=np.int64)
    item = organic_items(today, persona, np.array([0, 3, 4]), rng)
    assert item.dtype == np.int32
    assert item[[1, 2, 5]].tolist() == [0, 0, 0]
    assert np.all((item >= 0) & (item < 50))


def test_catalog_configs_name_the_bad_field():
    with pytest.raises(ConfigError) as error:
        CatalogConfig(categories=(CategoryConfig(name="a"), CategoryConfig(name="a")))
    assert (error.value.field, error.value.allowed) == ("categories", "unique category names")
    with pytest.raises(ConfigError) as error:
        CatalogConfig(categories=())
    assert error.value.allowed == "at least one category"
    with pytest.raises(ConfigError) as error:
        CatalogConfig(new_item_share=1.0)
    assert (error.value.field, error.value.allowed) == ("new_item_share", "a share < 1")
    with pytest.raises(ConfigTypeError) as error:
        CatalogConfig(items="many")
    assert error.value.field == "items"
    with pytest.raises(ConfigError) as error:
        CategoryConfig(name="a", weight=0)
    assert (error.value.field, error.value.allowed) == ("weight", "a finite number > 0")
