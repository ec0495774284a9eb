"""Exposure: slates, click models, recommenders and what they show."""

from __future__ import annotations

from statistics import NormalDist

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
from personalize_sim.simulation._exposure import click_probabilities, draw_clicks
from personalize_sim.simulation._recommenders import make_slates

SCALE = 0.08  # every item equally attractive: one category, one persona


def slate_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The events that were shown a slate (clicked or not)."""
    return frame[frame["IMPRESSION"].notna()]


def ctr_by_position(frame: pd.DataFrame, k: int) -> tuple[np.ndarray, int]:
    shown = slate_rows(frame)
    clicks = shown["position"].value_counts().reindex(range(k), fill_value=0).to_numpy()
    return clicks / len(shown), len(shown)


def assert_within_99(observed: np.ndarray, expected: np.ndarray, n: int) -> None:
    z = NormalDist().inv_cdf(1 - 0.01 / (2 * len(expected)))
    bound = z * np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(observed - expected) <= bound), (observed, expected, bound)


def exposure(model: str, **kw) -> ExposureConfig:
    return ExposureConfig(
        slate_size=8,
        slate_probability=1.0,
        click_model=model,
        click_scale=SCALE,
        arms=(ArmConfig(name="random", recommender="random", attribution_source="random-row"),),
        **kw,
    )


def test_position_model_ctr_is_examination_times_attractiveness(plain):
    config = plain(exposure=exposure("position", examination_decay=0.7)).replace(users=8_000)
    frame = simulate(config, rng=21)
    observed, n = ctr_by_position(frame, 8)
    expected = SCALE / (1 + np.arange(8)) ** 0.7
    assert_within_99(observed, expected, n)


def test_cascade_ctr_decays_with_the_skipped_items(plain):
    exam = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
    config = plain(exposure=exposure("cascade", examination=exam)).replace(users=8_000)
    frame = simulate(config, rng=22)
    observed, n = ctr_by_position(frame, 8)
    expected = np.array(exam) * SCALE * (1 - SCALE) ** np.arange(8)
    assert_within_99(observed, expected, n)
    # the position model with the same curve would not fit: the curves differ
    assert not np.allclose(expected, np.array(exam) * SCALE, rtol=0.2)


def test_click_probabilities_unit():
    attract = np.array([[0.5, 0.5, 0.5]])
    exam = np.array([1.0, 0.5, 0.25])
    np.testing.assert_allclose(click_probabilities("position", exam, attract), [[0.5, 0.25, 0.125]])
    np.testing.assert_allclose(
        click_probabilities("cascade", exam, attract), [[0.5, 0.125, 0.03125]]
    )
    probs = np.array([[0.2, 0.3, 0.1]])
    u = np.array([0.0, 0.19, 0.2, 0.49, 0.5, 0.59, 0.6, 0.99])
    assert list(draw_clicks(np.repeat(probs, len(u), axis=0), u)) == [0, 0, 1, 1, 2, 2, -1, -1]


def test_slates_rows_carry_impressions_ids_and_sources(plain):
    config = plain(
        exposure=ExposureConfig(
            slate_size=6,
            slate_probability=0.5,
            arms=(
                ArmConfig(name="pop", recommender="popular", attribution_source="most-popular"),
                ArmConfig(name="ctl", recommender="none"),
            ),
        )
    )
    frame = simulate(config, rng=4)
    shown = slate_rows(frame)
    assert set(shown["arm"]) == {"pop"}
    assert shown["IMPRESSION"].map(len).eq(6).all()
    assert (
        shown["IMPRESSION"]
        .map(lambda s: len(set(s)) == 6 and all(isinstance(i, str) for i in s))
        .all()
    )
    clicked = shown[shown["position"].notna()]
    assert len(clicked) > 100
    # the clicked item sits at its position in the slate
    for impression, item, pos in zip(
        clicked["IMPRESSION"], clicked["ITEM_ID"], clicked["position"], strict=True
    ):
        assert impression[pos] == item
    recommended = frame[frame["RECOMMENDATION_ID"].notna()]
    assert (recommended["EVENT_ATTRIBUTION_SOURCE"] == "most-popular").all()
    assert recommended["RECOMMENDATION_ID"].str.len().max() <= 40
    assert not recommended["organic"].any()
    organic = frame[frame["organic"]]
    assert organic["RECOMMENDATION_ID"].isna().all()
    assert organic["EVENT_ATTRIBUTION_SOURCE"].isna().all()
    assert organic["would_have_without_rec"].all()
    # the control arm never sees a slate
    assert frame.loc[frame["arm"] == "ctl", "IMPRESSION"].isna().all()


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

    arms = (ArmConfig(name="bad", recommender=broken),)
    with pytest.raises(
        ConfigError, match=r"recommender: got <function .*broken returned .* dtype float64"
    ):
        simulate(personas_config(plain, arms, k=5).replace(users=200), rng=1)


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
    from personalize_sim.simulation._recommenders import _first_distinct

    cand = np.array([[5, 5, 3, 5, 7, 1], [2, 2, 2, 2, 2, 9], [4, 1, 4, 8, 1, 6]])
    first, ok = _first_distinct(cand, 3)
    assert ok.tolist() == [True, False, True]
    assert first[0].tolist() == [5, 3, 7]
    assert first[2].tolist() == [4, 1, 8]
