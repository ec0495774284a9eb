"""Bulk files of all five datasets, checked against the documented rules of a Custom dataset
group (docs/reference/personalize-events.md), and what an import job would refuse."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from personalize_sim import PayloadError, limits
from personalize_sim.payloads import to_bulk_csv
from personalize_sim.payloads.internal import dataset_schema
from personalize_sim.simulation import simulate_datasets

#: the documented rules, written out here independently of the code under test
RECORD_NAMES = {"interactions": "Interactions", "items": "Items", "users": "Users",
                "actions": "Actions", "action_interactions": "ActionInteractions"}  # fmt: skip
REQUIRED = {
    "interactions": {"USER_ID": "string", "ITEM_ID": "string", "TIMESTAMP": "long"},
    "items": {"ITEM_ID": "string"},
    "users": {"USER_ID": "string"},
    "actions": {"ACTION_ID": "string"},
    "action_interactions": {"USER_ID": "string", "ACTION_ID": "string",
                            "EVENT_TYPE": "string", "TIMESTAMP": "long"},
}  # fmt: skip
RESERVED = {
    "interactions": {"EVENT_TYPE": "string", "EVENT_VALUE": "float", "IMPRESSION": "string",
                     "RECOMMENDATION_ID": "string", "EVENT_ATTRIBUTION_SOURCE": "string"},
    "items": {"CREATION_TIMESTAMP": "long"},
    "users": {},
    "actions": {"CREATION_TIMESTAMP": "long", "VALUE": "long", "TYPE": "string",
                "EXPIRATION_TIMESTAMP": "long", "REPEAT_FREQUENCY": "long"},
    "action_interactions": {"IMPRESSION": "string", "RECOMMENDATION_ID": "string"},
}  # fmt: skip
MAX_METADATA = {"items": 100, "users": 25, "actions": 10}
FLAT_TYPES = {"float", "double", "int", "long", "string", "boolean", "null"}


def check_against_documented_rules(dataset: str, csv_path, schema: dict) -> int:
    """Assert every documented rule on a schema and its CSV; return the rows checked."""
    assert (schema["type"], schema["name"], schema["version"]) == (
        "record", RECORD_NAMES[dataset], "1.0")  # fmt: skip
    assert schema["namespace"] == "com.amazonaws.personalize.schema"
    fields = {f["name"]: f for f in schema["fields"]}
    types = {n: [f["type"]] if isinstance(f["type"], str) else f["type"] for n, f in fields.items()}
    for name, kind in REQUIRED[dataset].items():
        assert types[name] == [kind], (dataset, name)  # present, of its type, never null
    metadata = [n for n in fields if n not in REQUIRED[dataset] and n not in RESERVED[dataset]]
    for name in fields:
        assert set(types[name]) <= FLAT_TYPES, (dataset, name)  # flat: no arrays or maps
        if name in RESERVED[dataset]:
            assert RESERVED[dataset][name] in types[name], (dataset, name)
        if fields[name].get("categorical") or fields[name].get("textual"):
            assert "string" in types[name] and name in metadata
        if fields[name].get("textual"):
            assert dataset == "items"
    if dataset in MAX_METADATA:
        assert 1 <= len(metadata) <= MAX_METADATA[dataset]
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(fields)  # the header, in the schema's order
    for row in rows[1:]:
        for name, cell in zip(rows[0], row, strict=True):
            kinds = types[name]
            if cell == "":
                assert "null" in kinds, (dataset, name, row)
            elif "long" in kinds:
                int(cell)
            elif "float" in kinds:
                float(cell)
            elif "boolean" in kinds:
                assert cell in ("true", "false")
            if fields[name].get("categorical") or name == "IMPRESSION":
                assert len(cell) <= 1000
    return len(rows) - 1


def test_the_five_bulk_files_validate_against_their_schemas_and_the_rules(tmp_path):
    group = simulate_datasets("video-on-demand", users=300, days=2, rng=6,
                              catalog__descriptions=True)  # fmt: skip
    for name, frame in group.frames().items():
        path = tmp_path / f"{name}.csv"
        schema = to_bulk_csv(frame, path, anonymous="drop")
        assert json.loads((tmp_path / f"{name}.schema.json").read_text()) == schema
        rows = check_against_documented_rules(name, path, schema)
        expected = frame["USER_ID"].notna().sum() if name == "interactions" else len(frame)
        assert rows == expected, name
    items = json.loads((tmp_path / "items.schema.json").read_text())["fields"]
    assert {f["name"]: f.get("textual") for f in items}["DESCRIPTION"] is True


def test_values_come_as_the_stream_sends_them(tmp_path):
    items = pd.DataFrame({
        "ITEM_ID": ["i1", "i2"], "GENRES": [["drama", "crime"], None], "KIDS": [True, False],
        "CREATION_TIMESTAMP": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
    })  # fmt: skip
    schema = to_bulk_csv(items, tmp_path / "items.csv")
    assert (tmp_path / "items.csv").read_text().splitlines() == [
        "ITEM_ID,GENRES,KIDS,CREATION_TIMESTAMP",
        "i1,drama|crime,true,1704067200",
        "i2,,false,1704153600",
    ]
    assert schema == dataset_schema(items, "items")
    check_against_documented_rules("items", tmp_path / "items.csv", schema)


@pytest.mark.parametrize("dataset", ["items", "users", "actions"])
def test_metadata_columns_at_and_past_the_documented_maximum(tmp_path, dataset):
    key = {"items": "ITEM_ID", "users": "USER_ID", "actions": "ACTION_ID"}[dataset]
    most = limits.METADATA_MAX_FIELDS[dataset.upper()]

    def frame(fields: int) -> pd.DataFrame:  # built whole (pandas 2 warns of inserts)
        return pd.DataFrame({key: ["a"], **{f"F{i}": ["x"] for i in range(fields)}})

    to_bulk_csv(frame(most), tmp_path / "ok.csv", dataset=dataset)
    with pytest.raises(PayloadError, match=f"too_many_fields.*at most {most}"):
        to_bulk_csv(frame(most + 1), tmp_path / "bad.csv", dataset=dataset)
    assert not (tmp_path / "bad.csv").exists()


def test_every_problem_an_import_job_would_refuse_is_listed_and_nothing_written(tmp_path):
    actions = pd.DataFrame({
        "ACTION_ID": ["a", None, "c"],
        "VALUE": [1, 2.5, 3],
        "CHANNEL": ["x" * 1000, "x" * 1001, "web"],
        "CREATION_TIMESTAMP": pd.to_datetime(["2024-01-01", "2024-01-01 00:00:00.5", None],
                                             utc=True, format="ISO8601"),
    })  # fmt: skip
    with pytest.raises(PayloadError) as caught:
        to_bulk_csv(actions, tmp_path / "actions.csv")
    assert caught.value.problems[["row", "field", "reason"]].values.tolist() == [
        [1, "ACTION_ID", "missing"],
        [1, "VALUE", "wrong_type"],
        [1, "CHANNEL", "too_long"],
        [1, "CREATION_TIMESTAMP", "sub_second"],
    ]
    assert not (tmp_path / "actions.csv").exists()
    with pytest.raises(PayloadError, match="no_metadata"):
        to_bulk_csv(pd.DataFrame({"USER_ID": ["u"]}), tmp_path / "users.csv")
    with pytest.raises(PayloadError, match="EVENT_TYPE: missing_column"):
        to_bulk_csv(pd.DataFrame({"USER_ID": ["u"], "ACTION_ID": ["a"], "TIMESTAMP": [1]}),
                    tmp_path / "ai.csv", dataset="action_interactions")  # fmt: skip
