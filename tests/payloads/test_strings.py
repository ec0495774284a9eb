"""Id and text fields: types, nulls, lengths, patterns."""

from __future__ import annotations

import numpy as np

from personalize_sim import (
    limits,
    to_put_events,
    validate_events,
)

from .conftest import frame_of, problems_of


def test_integer_ids_become_decimal_strings():
    frame = frame_of(USER_ID=[35, 35, 36], ITEM_ID=[73, 70, 17])
    requests = to_put_events(frame, "t")
    assert requests[0]["userId"] == "35"
    assert requests[0]["eventList"][0]["itemId"] == "73"


def test_nan_and_empty_strings_in_required_fields():
    frame = frame_of(SESSION_ID=["s1", None, ""], EVENT_TYPE=[np.nan, "View", "View"])
    frame.index = ["a", "b", "c"]
    assert sorted(problems_of(frame)) == sorted(
        [
            ("b", "SESSION_ID", "missing"),
            ("c", "SESSION_ID", "empty"),
            ("a", "EVENT_TYPE", "missing"),
        ]
    )


def test_strings_over_their_limits():
    model = limits.operation_limits("PutEvents")
    too_long_rec = "r" * (model.field("eventList[].recommendationId").max + 1)
    too_long_user = "u" * (model.field("userId").max + 1)
    frame = frame_of(
        RECOMMENDATION_ID=[None, too_long_rec, None], USER_ID=[too_long_user, "u", "u"]
    )
    report = validate_events(frame)
    assert sorted(
        zip(report["row"], report["field"], report["reason"], report["limit"], strict=True)
    ) == [
        (0, "USER_ID", "too_long", "length <= 256"),
        (1, "RECOMMENDATION_ID", "too_long", "length <= 40"),
    ]


def test_attribution_sources_outside_printable_ascii():
    frame = frame_of(EVENT_ATTRIBUTION_SOURCE=["caf\u00e9", "ok", "   "])
    report = validate_events(frame)
    assert list(zip(report["row"], report["reason"], strict=True)) == [
        (0, "pattern"),
        (2, "pattern"),
    ]
    assert (
        report["limit"][0]
        == limits.operation_limits("PutEvents")
        .field("eventList[].metricAttribution.eventAttributionSource")
        .pattern
    )
