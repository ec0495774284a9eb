"""Frames and helpers shared by the payload tests."""

from __future__ import annotations

import boto3
import pandas as pd

from personalize_sim import validate_events

T0 = pd.Timestamp("2026-11-01 12:00:00", tz="UTC")


def frame_of(**columns: object) -> pd.DataFrame:
    """A valid three-event frame, with columns overridden or added."""
    base: dict[str, object] = {
        "USER_ID": ["u1", "u1", "u2"],
        "SESSION_ID": ["s1", "s1", "s2"],
        "ITEM_ID": ["i1", "i2", "i3"],
        "EVENT_TYPE": ["View", "Purchase", "View"],
        "TIMESTAMP": [T0, T0 + pd.Timedelta(seconds=1), T0 + pd.Timedelta(seconds=2)],
    }
    base.update(columns)
    return pd.DataFrame({k: v for k, v in base.items() if v is not None})


def problems_of(frame: pd.DataFrame, **kwargs: object) -> list[tuple[object, str, str]]:
    report = validate_events(frame, **kwargs)
    assert list(report.columns) == ["row", "field", "reason", "value", "limit"]
    return list(zip(report["row"], report["field"], report["reason"], strict=True))


def client():
    return boto3.client("personalize-events", region_name="us-east-1")
