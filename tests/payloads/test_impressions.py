"""IMPRESSION: lists or '|'-separated strings, within the model's limits."""

from __future__ import annotations

from personalize_sim import (
    limits,
    validate_events,
)

from .conftest import frame_of


def test_impressions_over_the_model_limit():
    most = limits.operation_limits("PutEvents").field("eventList[].impression").max
    frame = frame_of(
        IMPRESSION=[
            [f"i{i}" for i in range(most + 1)],
            [f"i{i}" for i in range(most)],
            "|".join(f"i{i}" for i in range(most + 5)),
        ]
    )
    report = validate_events(frame)
    assert list(zip(report["row"], report["reason"], report["value"], strict=True)) == [
        (0, "too_many", most + 1),
        (2, "too_many", most + 5),
    ]
    assert set(report["limit"]) == {f"items <= {most}"}
