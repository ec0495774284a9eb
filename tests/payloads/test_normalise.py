"""The normalising pass: every field's problems in one report, the frame untouched."""

from __future__ import annotations

import pandas as pd

from personalize_sim import (
    limits,
    to_put_events,
    validate_events,
)

from .conftest import T0, frame_of, problems_of


def test_missing_required_columns_are_reported():
    frame = frame_of(SESSION_ID=None, EVENT_TYPE=None)
    assert problems_of(frame) == [
        (None, "SESSION_ID", "missing_column"),
        (None, "EVENT_TYPE", "missing_column"),
    ]


def test_wrong_types():
    frame = frame_of(
        ITEM_ID=["i1", 3.5, "i3"], EVENT_VALUE=[1.0, "cheap", None], TIMESTAMP=[T0, "yesterday", T0]
    )
    assert sorted(problems_of(frame)) == [
        (1, "EVENT_VALUE", "wrong_type"),
        (1, "ITEM_ID", "wrong_type"),
        (1, "TIMESTAMP", "wrong_type"),
    ]


def test_events_over_ten_kilobytes():
    per_item = limits.operation_limits("PutEvents").field("eventList[].impression[]").max
    big = ["\u00e9" * per_item] * 25  # 2 bytes a character in UTF-8
    report = validate_events(frame_of(IMPRESSION=[big, None, None]))
    assert list(zip(report["row"], report["field"], report["reason"], strict=True)) == [
        (0, "event", "event_too_large")
    ]
    assert report["value"][0] > limits.EVENT_MAX_BYTES


def test_validation_does_not_change_the_frame():
    frame = frame_of(IMPRESSION=["a|b", None, ["c"]], DISCOUNT=["x", None, "y"])
    before = frame.copy()
    to_put_events(frame, "t")
    pd.testing.assert_frame_equal(frame, before)
