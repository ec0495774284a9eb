"""Arms that name a filter and a promotion, against the emulator over HTTP."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from personalize_sim.attribution import MetricAttribution, attribution_report
from personalize_sim.closed_loop import LoopConfig, RuntimeArms, loop_metrics, run_loop
from personalize_sim.errors import ConfigError
from personalize_sim.tracker import LocalTracker

BUYING = LoopConfig(users=40, items=30, days=3, sessions_per_day=3, purchase_rate=0.6)
UNBOUGHT = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
EVEN = 'INCLUDE ItemID WHERE Items.PARITY IN ("even")'
DATASET = "arn:aws:personalize:us-east-1:000000000000:dataset/loop/ITEMS"


def test_an_unbought_arm_never_shows_what_the_user_bought() -> None:
    recommenders = {"plain": "popularity", "unbought": "popularity"}
    with LocalTracker(process=False, max_tps=0, rng=1, recommenders=recommenders,
                      filters={"unbought": UNBOUGHT}) as tracker:  # fmt: skip
        arms = RuntimeArms(
            tracker.runtime_client(), tracker.recommender_arns,
            events_client=tracker.client(), tracking_id=tracker.tracking_id,
            filters={"unbought": tracker.config.filter_arns["unbought"]},
        )  # fmt: skip
        result = run_loop(BUYING, arms, rng=2)
    bought = result.events[result.events["EVENT_TYPE"] == "purchase"]
    assert len(bought) > 10
    when = {(u, i): t for u, i, t in zip(bought["USER_ID"], bought["ITEM_ID"],
                                         bought["TIMESTAMP"], strict=True)}  # fmt: skip
    wasted = {"plain": 0, "unbought": 0}
    for slate in result.slates.itertuples():
        owned = {i for (u, i), t in when.items() if u == slate.USER_ID and t < slate.TIMESTAMP}
        wasted[slate.ARM] += len(owned & set(slate.ITEMS))
    assert wasted["unbought"] == 0 and wasted["plain"] > 0
    metrics = loop_metrics(result).groupby("ARM")[["REPEAT_EXPOSURE", "COVERAGE"]].mean()
    assert metrics.loc["unbought", "REPEAT_EXPOSURE"] < metrics.loc["plain", "REPEAT_EXPOSURE"]


def test_promoted_items_are_marked_and_credited_to_the_recommender() -> None:
    with LocalTracker(process=False, max_tps=0, rng=1, recommenders={"top": "popularity"},
                      filters={"even": EVEN}) as tracker:  # fmt: skip
        items = [{"itemId": f"item-{n}", "properties": json.dumps({"parity": "even"})}
                 for n in range(0, 30, 2)]  # fmt: skip
        for start in range(0, len(items), 10):
            tracker.client().put_items(datasetArn=DATASET, items=items[start : start + 10])
        promotion = {"name": "even", "percentPromotedItems": 30,
                     "filterArn": tracker.config.filter_arns["even"]}  # fmt: skip
        arms = RuntimeArms(
            tracker.runtime_client(), tracker.recommender_arns,
            events_client=tracker.client(), tracking_id=tracker.tracking_id,
            promotions={"top": promotion},
        )  # fmt: skip
        result = run_loop(BUYING, arms, rng=2)
        stored = tracker.events()
    full = [rec for rec, shown in arms.promoted.items() if len(shown) == 3]
    assert full and all(int(i.split("-")[1]) % 2 == 0 for s in arms.promoted.values() for i in s)
    clicks = result.events[result.events["EVENT_TYPE"] == "click"]
    on_promoted = [i in arms.promoted.get(r, ()) for i, r in
                   zip(clicks["ITEM_ID"], clicks["RECOMMENDATION_ID"], strict=True)]  # fmt: skip
    assert any(on_promoted)
    ma = MetricAttribution.from_json(
        {"metrics": [{"eventType": "click", "metricName": "clicks", "expression": "SAMPLECOUNT()"}]}
    )
    report = attribution_report(stored, ma, now=dt.datetime(2026, 1, 9, tzinfo=dt.UTC))
    credited = report.s3().groupby("EVENT_ATTRIBUTION_SOURCE")["VALUE"].sum()
    # a click on a promoted item carries the slate's recommendationId: the recommender's
    assert credited[tracker.recommender_arns["top"]] == clicks["RECOMMENDATION_ID"].notna().sum()


def test_filters_and_promotions_name_known_arms() -> None:
    with pytest.raises(ConfigError, match="nope"):
        RuntimeArms(None, {"a": "arn:aws:personalize:x:1:recommender/a"}, filters={"nope": "f"})
