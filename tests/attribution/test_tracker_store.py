"""The report from what the local tracker stored equals the report from the streamed frame."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from personalize_sim import simulate, stream, to_put_events
from personalize_sim.attribution import MetricAttribution, attribution_report
from personalize_sim.simulation import ArmConfig, SimulationConfig
from personalize_sim.tracker import LocalTracker

pytestmark = pytest.mark.timeout(120)

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def test_the_report_from_the_trackers_store_equals_the_report_from_the_frame():
    # one arm with an explicit source, one credited through its recommendation ids
    arms = (
        ArmConfig(name="popular", recommender="popular", attribution_source="most-popular"),
        ArmConfig(name="personalized", recommender="personalized"),
    )
    config = SimulationConfig.preset("retail").replace(
        users=150, days=1, start=START, exposure__arms=arms
    )
    frame = simulate(config, rng=5)
    assert (
        frame["RECOMMENDATION_ID"].notna().any() and frame["EVENT_ATTRIBUTION_SOURCE"].notna().any()
    )
    ma = MetricAttribution.from_json(
        {
            "metrics": [
                {"eventType": "View", "metricName": "views", "expression": "SAMPLECOUNT()"},
                {"eventType": "AddToCart", "metricName": "carts", "expression": "SAMPLECOUNT()"},
                {"eventType": "View", "metricName": "valued",
                 "expression": "SUM(Interactions.EVENT_VALUE)"},
            ]
        },
        created_at=START + dt.timedelta(hours=6),  # whole seconds: the wire keeps them
    )  # fmt: skip
    now = START + dt.timedelta(days=2)
    with LocalTracker(max_tps=None, process=False) as tracker:
        handle = stream(
            frame, rate=2000, tracking_id=tracker.tracking_id, target=tracker.client(), wait=True
        )
        assert handle.summary.balanced and handle.summary.dead_letter_events == 0
        stored = tracker.events()
    assert len(stored) == len(frame)
    # the simulated frame says who issued each id; the store does not (its runtime did not)
    assert "RECOMMENDER_ARN" not in stored.columns
    from_frame = attribution_report(frame, ma, now=now)
    from_store = attribution_report(stored, ma, recommenders=frame, now=now)
    pd.testing.assert_frame_equal(from_store.s3(), from_frame.s3())
    pd.testing.assert_frame_equal(from_store.counts, from_frame.counts)
    assert from_frame.counts.loc[0, "before_creation"] > 0
    sources = set(from_frame.table["SOURCE"])
    assert {"most-popular", config.exposure.arms[1].arn, "SOURCE_NAME_UNDEFINED"} == sources


def test_what_a_tracker_stored_converts_back_to_the_same_events():
    # a simulated frame carries RECOMMENDER_ARN, a store's frame TRACKING_ID, RECEIVED_AT and
    # (with recommenders) RECOMMENDER_ARN: none is an event property, so each round trip
    # gives the same ids and properties, and a resend of what was stored is idempotent
    frame = simulate("retail", users=60, days=1, start=START, rng=2)
    requests = to_put_events(frame, "t")
    with LocalTracker(max_tps=None, process=False, recommenders={"top": "popularity"}) as tracker:
        for request in requests:
            tracker.client().put_events(**{**request, "trackingId": tracker.tracking_id})
        stored = tracker.events()
        assert {"TRACKING_ID", "RECEIVED_AT", "RECOMMENDER_ARN"} <= set(stored.columns)
        again = to_put_events(stored, tracker.tracking_id)
        for request in again:
            tracker.client().put_events(**request)
        assert tracker.stats()["duplicates"] == len(frame)

    def events(rs):
        return sorted((e["eventId"], e.get("properties")) for r in rs for e in r["eventList"])

    assert events(again) == events(requests)
