"""Recommenders: what each one puts on a slate, and a callable's slates checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, simulate
from personalize_sim.simulation import (
    ArmConfig,
    CatalogConfig,
    CategoryConfig,
    ExposureConfig,
    PersonaConfig,
    PopulationConfig,
    SlateContext,
)
from personalize_sim.simulation._catalog import build_catalog, catalog_day
from personalize_sim.simulation._recommenders import _first_distinct, make_slates


def slate_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The events that were shown a slate (clicked or not)."""
    return frame[frame["IMPRESSION"].notna()]


def personas_config(plain, arms, k=10):
    categories = tuple(CategoryConfig(name=c) for c in "abcd")
    return plain(
        catalog=CatalogConfig(items=2_000, categories=categories),
        population=PopulationConfig(
            users=6_000,
            anonymous_share=0.0,
            base_affinity=0.02,
            personas=tuple(PersonaConfig(name=f"likes_{c}", affinities={c: 1.0}) for c in "abcd"),
        ),
        exposure=ExposureConfig(slate_size=k, slate_probability=1.0, click_scale=0.3, arms=arms),
    )


def test_personalised_quality_raises_click_through(plain):
    arms = (
        ArmConfig(name="good", recommender="personalized", quality=1.0),
        ArmConfig(name="blind", recommender="personalized", quality=0.0),
        ArmConfig(name="random", recommender="random"),
    )
    frame = simulate(personas_config(plain, arms), rng=8)
    shown = slate_rows(frame)
    ctr = shown.groupby("arm", observed=True)["position"].apply(lambda p: p.notna().mean())
    assert ctr["good"] > 2 * ctr["blind"]
    assert ctr["good"] > 2 * ctr["random"]


def test_a_callable_recommender_fills_the_slates(plain):
    seen: list[SlateContext] = []

    def first_items(context: SlateContext) -> np.ndarray:
        seen.append(context)
        return np.tile(context.day.available[: context.k], (len(context.users), 1))

    arms = (ArmConfig(name="mine", recommender=first_items, attribution_source="mine"),)
    frame = simulate(personas_config(plain, arms, k=5).replace(users=500), rng=1)
    assert seen and all(c.k == 5 for c in seen)
    shown = slate_rows(frame)
    assert len(shown) > 100
    assert all(list(s) == ["i0", "i1", "i2", "i3", "i4"] for s in shown["IMPRESSION"])


def test_a_callable_recommender_returning_nonsense_is_named(plain):
    def broken(context: SlateContext) -> np.ndarray:
        return np.zeros((len(context.users), context.k))

    arms = (
        ArmConfig(name="fine", recommender="popular"),
        ArmConfig(name="bad", recommender=broken),
    )
    with pytest.raises(ConfigError, match=r"broken returned .* dtype float64") as error:
        simulate(personas_config(plain, arms, k=5).replace(users=200), rng=1)
    assert error.value.field == "exposure.arms[1].recommender"
    assert error.value.value is broken
    assert "shape (" in error.value.allowed


@pytest.mark.parametrize(
    ("slates", "said"),
    [
        (lambda n, k: np.full((n, k + 1), 0), "shape"),
        (lambda n, k: np.tile(np.arange(k), (n, 1)) + 10_000, "item numbers outside 0 .. 1999"),
        (lambda n, k: np.zeros((n, k), dtype=np.int64), "a slate with a repeated item"),
    ],
)
def test_every_way_a_callable_can_go_wrong_is_a_config_error(plain, slates, said):
    def wrong(context: SlateContext) -> np.ndarray:
        return slates(len(context.users), context.k)

    arms = (ArmConfig(name="bad", recommender=wrong),)
    with pytest.raises(ConfigError, match=said) as error:
        simulate(personas_config(plain, arms, k=5).replace(users=200), rng=1)
    assert error.value.field == "exposure.arms[0].recommender"


def test_slates_fill_up_with_items_on_sale_when_taste_runs_out(rng):
    # the persona likes only "a" (few items) but slates hold 8: the rest must come from
    # other items on sale, never from the ones released later (here: the lowest numbers)
    categories = (CategoryConfig(name="a", weight=1), CategoryConfig(name="b", weight=7))
    population = PopulationConfig(
        base_affinity=0.0, personas=(PersonaConfig(name="only_a", affinities={"a": 1.0}),)
    )
    catalog = build_catalog(CatalogConfig(items=60, categories=categories), population, 3, rng)
    catalog.release_day[:30] = 2
    today = catalog_day(catalog, 0, None, top=8)
    liked_on_sale = np.flatnonzero((catalog.category == 0) & (catalog.release_day == 0))
    assert 0 < len(liked_on_sale) < 8
    slates = make_slates(
        "personalized",
        quality=1.0,
        k=8,
        users=np.arange(500),
        personas=np.zeros(500, dtype=np.int64),
        timestamps=np.zeros(500, dtype=np.int64),
        catalog=catalog,
        day=today,
        rng=rng,
    )
    assert all(len(set(row)) == 8 for row in slates.tolist())
    assert np.all(catalog.release_day[slates] == 0)
    # what the user likes comes first
    assert np.all(np.isin(slates[:, : len(liked_on_sale)], liked_on_sale))


def test_first_distinct_keeps_draw_order_and_flags_short_rows():
    cand = np.array([[5, 5, 3, 5, 7, 1], [2, 2, 2, 2, 2, 9], [4, 1, 4, 8, 1, 6]])
    first, ok = _first_distinct(cand, 3)
    assert ok.tolist() == [True, False, True]
    assert first[0].tolist() == [5, 3, 7]
    assert first[2].tolist() == [4, 1, 8]
