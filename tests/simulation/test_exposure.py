"""Exposure: slates in front of item choices, click models, and what the slates did."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, limits, simulate
from personalize_sim.simulation import ArmConfig, ExposureConfig, SimulationConfig
from personalize_sim.simulation._exposure import click_probabilities, draw_clicks

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


def test_slates_are_capped_by_the_impression_limit_and_the_catalog():
    most = limits.operation_limits("PutEvents").field("eventList[].impression").max
    assert ExposureConfig(slate_size=most, click_scale=0.01).slate_size == most
    with pytest.raises(ConfigError) as error:
        ExposureConfig(slate_size=most + 1, click_scale=0.01)
    assert (error.value.field, error.value.value) == ("slate_size", most + 1)
    assert str(most) in error.value.allowed
    with pytest.raises(ConfigError) as caught:
        SimulationConfig.from_yaml("catalog: {items: 8}\nexposure: {slate_size: 10}")
    small = caught.value
    assert (small.field, small.value) == ("exposure.slate_size", 10)
    assert "8 items" in small.allowed


def test_position_model_needs_room_for_no_click():
    with pytest.raises(ConfigError) as error:
        ExposureConfig(slate_size=10, click_scale=0.5, click_model="position")
    assert error.value.field == "click_scale"
    # the cascade model is a probability for any attractiveness
    assert ExposureConfig(slate_size=10, click_scale=0.5, click_model="cascade")


def test_attribution_source_follows_the_model_pattern():
    with pytest.raises(ConfigError) as error:
        ArmConfig(name="a", attribution_source="   ")
    assert error.value.field == "attribution_source"
    assert "printable ASCII" in error.value.allowed


def test_a_session_keeps_the_slate_it_was_first_shown(frames):
    frame = frames["retail"]
    shown = slate_rows(frame)
    per_session = shown.groupby("SESSION_ID")["IMPRESSION"].agg(
        lambda s: len({tuple(x) for x in s})
    )
    assert (shown.groupby("SESSION_ID").size() > 1).sum() > 20  # sessions shown it again
    assert per_session.max() == 1
    # the personalised arm's slates differ between sessions; the popular arm's barely do
    by_arm = shown.drop_duplicates("SESSION_ID").groupby("arm", observed=True)["IMPRESSION"]
    distinct = by_arm.agg(lambda s: len({tuple(x) for x in s}))
    assert distinct["personalized"] > 10 * distinct["popular"]


def test_default_arms_are_built_for_each_config():
    first, second = ExposureConfig(), ExposureConfig()
    assert first.arms == second.arms
    assert [a.name for a in first.arms] == ["popular", "personalized"]
    assert [a.attribution_source for a in first.arms] == ["popular", "recommended-for-you"]
    assert ExposureConfig.__dataclass_fields__["arms"].default_factory is not None
