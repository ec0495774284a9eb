"""True effects from counterfactual runs, against the configured lift and the ground truth."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from personalize_sim.attribution import counterfactual_runs, scenario, true_effects
from personalize_sim.simulation import SimulationConfig

Z99 = NormalDist().inv_cdf(0.995)


@pytest.fixture(scope="module")
def ab_test():
    return scenario("ab-test").run(rng=11)


@pytest.fixture(scope="module")
def over_crediting():
    return scenario("over-crediting").run(rng=12)


def test_the_incremental_lift_matches_the_configured_true_effect(ab_test):
    row = ab_test.effects.row("purchases")
    lift = next(a.lift for a in ab_test.scenario.config.exposure.arms if a.name == "B")
    assert row["CLICKS"] > 500
    assert row["EXPECTED"] == pytest.approx(lift * row["CLICKS"])
    assert row["EXPECTED_LOW"] <= row["INCREMENTAL"] <= row["EXPECTED_HIGH"]
    # the estimated lift per click, within its 99% binomial interval
    p_hat = row["INCREMENTAL"] / row["CLICKS"]
    assert abs(p_hat - lift) <= Z99 * math.sqrt(lift * (1 - lift) / row["CLICKS"])
    # the incremental events are exactly the ones the simulator marked as caused
    frame = ab_test.effects.runs.factual
    caused = frame["incremental"] & (frame["arm"] == "B") & (frame["EVENT_TYPE"] == "Purchase")
    assert row["INCREMENTAL"] == caused.sum()


def test_last_touch_over_credits_by_what_the_ground_truth_predicts(over_crediting):
    row = over_crediting.effects.row("purchases")
    config = over_crediting.scenario.config
    assert row["ATTRIBUTED"] > row["INCREMENTAL"] > 0
    # exactly: the excess is the attributed purchases that would have happened anyway
    assert row["ATTRIBUTED"] - row["INCREMENTAL"] == row["NOT_INCREMENTAL"]
    # and in expectation: a click's session reaches Purchase before the next View with
    # P = View→AddToCart · AddToCart→ViewCart · ViewCart→StartCheckout · StartCheckout→Purchase
    t = config.funnel.transitions
    p = t["View"]["AddToCart"] * t["AddToCart"]["ViewCart"] * t["ViewCart"]["StartCheckout"]
    p *= t["StartCheckout"]["Purchase"]
    clicks = row["CLICKS"]
    assert abs(row["NOT_INCREMENTAL"] - p * clicks) <= Z99 * math.sqrt(clicks * p * (1 - p))
    # a view is never caused by a recommendation here: attribution credits every click
    views = over_crediting.effects.row("views")
    assert views["INCREMENTAL"] == 0 and views["ATTRIBUTED"] == clicks


def test_common_random_numbers_keep_users_arrivals_and_organic_choices():
    runs = counterfactual_runs("retail", arm="popular", users=400, days=1, rng=3,
                               start="2026-01-05")  # fmt: skip
    f, c = runs.factual, runs.counterfactual
    f = f[~f["incremental"]].reset_index(drop=True)
    c = c[~c["incremental"]].reset_index(drop=True)
    for column in ("SESSION_ID", "USER_ID", "TIMESTAMP", "EVENT_TYPE"):
        assert f[column].equals(c[column]), column
    organic = f["organic"].to_numpy() & c["organic"].to_numpy()
    assert np.array_equal(f["ITEM_ID"][organic], c["ITEM_ID"][organic])
    # the other arm's slates and clicks are untouched
    other = (f["arm"] == "personalized").to_numpy()
    assert f["RECOMMENDATION_ID"][other].equals(c["RECOMMENDATION_ID"][other])
    assert f["ITEM_ID"][other].equals(c["ITEM_ID"][other])
    # and the switched-off arm shows no slates at all
    assert c.loc[c["arm"] == "popular", "IMPRESSION"].isna().all()
    assert f.loc[f["arm"] == "popular", "IMPRESSION"].notna().any()


def test_a_swapped_recommender_and_a_swapped_lift():
    config = SimulationConfig.preset("retail").replace(users=2000, days=2, start="2026-01-05")
    from personalize_sim.attribution import MetricAttribution

    ma = MetricAttribution.from_json(
        {
            "metrics": [
                {"eventType": "Purchase", "metricName": "buys", "expression": "SAMPLECOUNT()"}
            ]
        }
    )
    effects = true_effects(config, ma, arm="popular", recommender="personalized", lift=0.2, rng=4)
    row = effects.row("buys")
    # factual lift 0, counterfactual 0.2: the factual run has fewer purchases
    assert row["EXPECTED"] < 0 and row["INCREMENTAL"] < 0
    assert effects.runs.counterfactual_config.exposure.arms[0].recommender == "personalized"
