"""The closed loop: simulated users and a recommender learning from them, in-process and HTTP."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from personalize_sim.attribution import MetricAttribution, attribution_report
from personalize_sim.closed_loop import (
    LoopConfig,
    OnlineArms,
    RuntimeArms,
    loop_metrics,
    run_loop,
)
from personalize_sim.closed_loop._driver import _Users
from personalize_sim.closed_loop._metrics import gini
from personalize_sim.errors import ConfigError
from personalize_sim.streaming import RetryPolicy
from personalize_sim.tracker import LocalTracker

SHIFT = LoopConfig(users=300, items=60, days=6, sessions_per_day=2, shift_day=3.0, organic_rate=0.6)


def top_hits(config: LoopConfig, slates: pd.DataFrame, *, after_shift: bool, rng: int) -> pd.Series:
    """Per (ARM, DAY), the share of slate items among the 10 most appealing items."""
    users = _Users(config, sorted(slates["ARM"].unique()), np.random.default_rng(rng))
    appeal = users.appeal[1 if after_shift else 0]
    top = {users.item_ids[i] for i in np.argsort(-appeal)[:10]}
    hits = [len(top.intersection(items)) / max(len(items), 1) for items in slates["ITEMS"]]
    return slates.assign(HIT=hits).groupby(["ARM", "DAY"])["HIT"].mean()


def test_a_trending_recommender_follows_a_shift_in_what_users_click() -> None:
    """Trending counts with a 2-hour half-life: within two days of the shift the slates
    hold the new favourites, and the old ones have all but gone."""
    arms = OnlineArms({"hot": "trending"}, rng=0, half_life=2 * 3600)
    result = run_loop(SHIFT, arms, rng=1)
    new = top_hits(SHIFT, result.slates, after_shift=True, rng=1)["hot"]
    old = top_hits(SHIFT, result.slates, after_shift=False, rng=1)["hot"]
    assert new[2] < 0.3 and new[5] > 0.45 and new[5] > 2 * new[2]
    assert old[2] > 0.4 and old[5] < old[2] / 4
    # all-time popularity follows too, but the old counts keep the old favourites longer
    slow = run_loop(SHIFT, OnlineArms({"all": "popularity"}, rng=0), rng=1)
    slow_new = top_hits(SHIFT, slow.slates, after_shift=True, rng=1)["all"]
    assert slow_new[5] > 2 * slow_new[2]
    assert top_hits(SHIFT, slow.slates, after_shift=False, rng=1)["all"][5] > old[5]


def test_without_learning_nothing_follows() -> None:
    """The same users with a recommender that never learns (feedback ignored)."""

    class Deaf(OnlineArms):
        def feedback(self, events: object) -> None:
            pass

    result = run_loop(SHIFT, Deaf({"hot": "trending"}, rng=0), rng=1)
    assert (result.slates["ITEMS"].map(len) == 0).all()  # it never learnt a single item


def test_new_items_are_shown_by_exploration_only() -> None:
    config = LoopConfig(users=100, items=30, days=4, new_items_per_day=3)
    arms = OnlineArms({"pop": "popularity", "dice": "random"}, rng=0)
    arms.models.add_items(f"item-{i}" for i in range(30 + 3 * 4))  # the catalogue, via PutItems
    metrics = loop_metrics(run_loop(config, arms, rng=2)).set_index(["ARM", "DAY"])
    assert metrics.loc[("dice", 3), "NEW_ITEMS_SHOWN"] > metrics.loc[("pop", 3), "NEW_ITEMS_SHOWN"]
    assert metrics.loc[("pop", 3), "GINI"] > metrics.loc[("dice", 3), "GINI"]
    assert metrics.loc[("dice", 3), "COVERAGE"] > metrics.loc[("pop", 3), "COVERAGE"]


def test_gini() -> None:
    assert gini(np.array([5, 5, 5])) == 0.0
    assert gini(np.array([0, 0, 0, 0, 10])) == pytest.approx(0.8)
    assert gini(np.array([])) == 0.0


SMALL = LoopConfig(users=40, items=20, days=2, sessions_per_day=2)
KINDS = {"top": "popularity", "mine": "user-personalization"}


def test_over_http_the_emulator_learns_exactly_as_in_process() -> None:
    """RuntimeArms against the emulator and OnlineArms in-process: same slates, same ids."""
    with LocalTracker(process=False, max_tps=0, rng=3, recommenders=KINDS) as tracker:
        arms = RuntimeArms(
            tracker.runtime_client(), tracker.recommender_arns,
            events_client=tracker.client(), tracking_id=tracker.tracking_id,
        )  # fmt: skip
        http = run_loop(SMALL, arms, rng=4)
        issued = tracker.recommendations()
        stored = tracker.events()
    local = run_loop(SMALL, OnlineArms(KINDS, rng=3), rng=4)
    assert http.slates["ITEMS"].tolist() == local.slates["ITEMS"].tolist()
    assert http.slates["RECOMMENDATION_ID"].tolist() == local.slates["RECOMMENDATION_ID"].tolist()
    assert http.slates["ITEMS"].map(len).iloc[-1] > 0  # it did learn something
    # what the emulator recorded is what the users were shown
    shown = dict(zip(http.slates["RECOMMENDATION_ID"], http.slates["ITEMS"], strict=True))
    assert dict(zip(issued["RECOMMENDATION_ID"], issued["ITEMS"], strict=True)) == shown
    assert len(stored) == len(http.events)
    # and every click is credited to the arm that served it, with no mapping passed
    ma = MetricAttribution.from_json(
        {"metrics": [{"eventType": "click", "metricName": "clicks", "expression": "SAMPLECOUNT()"}]}
    )
    report = attribution_report(stored, ma, now=dt.datetime(2026, 1, 8, tzinfo=dt.UTC))
    credited = report.s3().groupby("EVENT_ATTRIBUTION_SOURCE")["VALUE"].sum()
    truth = http.slates.groupby("RECOMMENDER_ARN")["CLICKED"].sum()
    for arn in truth.index:
        assert credited[arn] == truth[arn]
    assert credited["SOURCE_NAME_UNDEFINED"] == stored["RECOMMENDATION_ID"].isna().sum()
    # in-process, the loop's own events name their issuer the same way
    local_report = attribution_report(local.events, ma, now=dt.datetime(2026, 1, 8, tzinfo=dt.UTC))
    assert local_report.s3().equals(report.s3())


def test_failed_slates_are_counted_never_invented() -> None:
    """A runtime quota of one request per 1000 s: after the first, every slate is throttled."""
    with LocalTracker(
        process=False, max_tps=0, rng=0, recommenders=KINDS, runtime_max_tps=0.001
    ) as tracker:
        waits: list[float] = []
        arms = RuntimeArms(
            tracker.runtime_client(retries={"total_max_attempts": 1}),
            tracker.recommender_arns, events_client=tracker.client(),
            tracking_id=tracker.tracking_id, retry=RetryPolicy(max_attempts=3, base=0.01),
            sleep=waits.append,
        )  # fmt: skip
        result = run_loop(SMALL, arms, rng=5)
        issued = set(tracker.recommendations()["RECOMMENDATION_ID"])
        stored = tracker.events()
    assert result.failed_slates == len(result.slates) - 2  # one answer per recommender
    assert arms.counts["failed_slates"] == result.failed_slates
    assert arms.counts["retries"] == 2 * result.failed_slates == len(waits)
    ids = set(stored["RECOMMENDATION_ID"].dropna())
    assert ids <= issued  # every id on an event was issued by the emulator
    failed = result.slates[result.slates["FAILED"]]
    assert failed["RECOMMENDATION_ID"].isna().all() and (failed["ITEMS"].map(len) == 0).all()
    assert len(stored) == len(result.events)  # organic events still flow


def test_bad_config_names_the_field() -> None:
    with pytest.raises(ConfigError, match="slate_size"):
        LoopConfig(slate_size=0)
    with pytest.raises(ConfigError, match="kind"):
        OnlineArms({"a": "clairvoyant"})
