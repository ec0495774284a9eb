"""Bulk-import CSV and its Avro schema."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from personalize_sim import PayloadError
from personalize_sim.payloads import interactions_schema, to_bulk_csv

T0 = pd.Timestamp("2026-11-01 12:00:00.75", tz="UTC")


def frame(**extra: object) -> pd.DataFrame:
    base = {
        "USER_ID": ["u1", "u2"],
        "SESSION_ID": ["s1", "s2"],
        "ITEM_ID": ["i1", "i2"],
        "EVENT_TYPE": ["View", "Purchase"],
        "EVENT_VALUE": [np.nan, 12.5],
        "TIMESTAMP": [T0, T0 + pd.Timedelta(seconds=2)],
        "IMPRESSION": [["i1", "i7", "i9"], None],
        "DEVICE": ["ios", None],
        "IS_MEMBER": [True, False],
        "persona": ["a", "b"],
    }
    base.update(extra)
    return pd.DataFrame(base)


def test_csv_header_follows_the_schema_and_values_follow_the_format(tmp_path):
    path = tmp_path / "interactions.csv"
    schema = to_bulk_csv(frame(), path)
    with path.open() as f:
        rows = list(csv.reader(f))
    names = [f["name"] for f in schema["fields"]]
    assert (
        rows[0]
        == names
        == [
            "USER_ID",
            "ITEM_ID",
            "TIMESTAMP",
            "EVENT_TYPE",
            "EVENT_VALUE",
            "IMPRESSION",
            "DEVICE",
            "IS_MEMBER",
        ]
    )
    assert rows[1] == ["u1", "i1", str(int(T0.timestamp())), "View", "", "i1|i7|i9", "ios", "true"]
    assert rows[2] == [
        "u2",
        "i2",
        str(int(T0.timestamp()) + 2),
        "Purchase",
        "12.5",
        "",
        "",
        "false",
    ]
    on_disk = json.loads((tmp_path / "interactions.schema.json").read_text())
    assert on_disk == schema


def test_schema_types_and_categorical_metadata():
    fields = {f["name"]: f for f in interactions_schema(frame())["fields"]}
    assert fields["USER_ID"]["type"] == "string"
    assert fields["TIMESTAMP"]["type"] == "long"
    assert fields["EVENT_VALUE"]["type"] == ["float", "null"]
    assert fields["DEVICE"] == {"name": "DEVICE", "type": ["string", "null"], "categorical": True}
    assert fields["IS_MEMBER"]["type"] == ["boolean", "null"]
    assert "persona" not in fields and "SESSION_ID" not in fields
    assert interactions_schema(frame())["name"] == "Interactions"


def test_values_over_the_dataset_limit_are_reported_not_cut(tmp_path):
    long_items = [f"item-{i:04d}" for i in range(25)] * 4  # over 1000 characters joined
    bad = frame(DEVICE=["x" * 1001, "ok"], IMPRESSION=[None, long_items[:25] * 1])
    bad.loc[1, "IMPRESSION"] = None
    bad["IMPRESSION"] = pd.Series([None, "|".join(long_items)], dtype=object)
    with pytest.raises(PayloadError) as caught:
        to_bulk_csv(bad, tmp_path / "x.csv")
    report = caught.value.problems
    assert ("DEVICE", "too_long") in set(zip(report["field"], report["reason"], strict=True))
    assert (1, "IMPRESSION") in set(zip(report["row"], report["field"], strict=True))
    assert not (tmp_path / "x.csv").exists()


def test_anonymous_events_cannot_be_imported(tmp_path):
    with pytest.raises(PayloadError) as caught:
        to_bulk_csv(frame(USER_ID=[None, "u2"]), tmp_path / "x.csv")
    report = caught.value.problems
    assert list(zip(report["row"], report["field"], report["reason"], strict=True)) == [
        (0, "USER_ID", "missing")
    ]


def test_the_simulators_anonymous_events_are_dropped_or_kept_under_their_session(tmp_path):
    from personalize_sim import simulate

    frame = simulate("retail", users=200, days=1, rng=5)
    anonymous = int(frame["USER_ID"].isna().sum())
    assert anonymous > 0
    with pytest.raises(PayloadError, match="anonymous='drop' or 'session'"):
        to_bulk_csv(frame, tmp_path / "raise.csv")
    to_bulk_csv(frame, tmp_path / "drop.csv", anonymous="drop")
    dropped = pd.read_csv(tmp_path / "drop.csv")
    assert len(dropped) == len(frame) - anonymous
    to_bulk_csv(frame, tmp_path / "session.csv", anonymous="session")
    kept = pd.read_csv(tmp_path / "session.csv")
    assert len(kept) == len(frame)
    sessions = frame.loc[frame["USER_ID"].isna(), "SESSION_ID"].tolist()
    assert kept.loc[frame["USER_ID"].isna().to_numpy(), "USER_ID"].tolist() == sessions
    assert frame["USER_ID"].isna().sum() == anonymous  # the caller's frame is untouched
