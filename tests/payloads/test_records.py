"""Items, users and actions frames ⇄ PutItems, PutUsers and PutActions: exact inverses, every
limit of botocore's model at and past its bound, every problem in one report."""

from __future__ import annotations

import pandas as pd
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize_sim import ConfigError, PayloadError, limits
from personalize_sim import _operations as operations
from personalize_sim.payloads import (
    from_put_records,
    to_put_actions,
    to_put_items,
    to_put_users,
)

from .conftest import client

ARN = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/"
CONVERTERS = {
    "PutItems": (to_put_items, from_put_records),
    "PutUsers": (to_put_users, from_put_records),
    "PutActions": (to_put_actions, from_put_records),
}
KEYS = st.from_regex(r"[A-Z][A-Z0-9]{0,6}(_[A-Z][A-Z0-9]{0,3})?", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="|"), min_size=1, max_size=12)


def column(kind: str, n: int) -> st.SearchStrategy[pd.Series]:
    """A metadata column in the canonical dtypes of the inverse; its first value is set."""
    values = {
        "str": TEXT,
        "int64": st.integers(-(2**53), 2**53),
        "float64": st.floats(allow_nan=False, allow_infinity=False, width=64),
        "bool": st.booleans(),
    }[kind]
    nullable = kind != "bool"
    rest = st.lists(st.none() | values if nullable else values, min_size=n - 1, max_size=n - 1)
    dtypes = {"str": "str", "int64": "int64", "float64": "float64", "bool": "bool"}

    def build(parts: tuple[object, list[object]]) -> pd.Series:
        first, others = parts
        data = [first, *others]
        if kind == "int64" and None in data:
            return pd.Series(data, dtype="Int64")
        if kind == "float64":
            return pd.Series([float("nan") if v is None else v for v in data], dtype="float64")
        return pd.Series(data, dtype=dtypes[kind])

    return st.tuples(values, rest).map(build)


@st.composite
def record_frames(draw: st.DrawFn, operation: str) -> pd.DataFrame:
    kind = operations.record_operation(operation)
    n = draw(st.integers(1, 15))
    ids = draw(st.lists(TEXT, min_size=n, max_size=n))
    frame = pd.DataFrame({kind.id_column: pd.Series(ids, dtype="str")})
    reserved = limits.RESERVED_FIELDS[kind.dataset_type]
    names = draw(st.lists(KEYS.filter(lambda k: k not in reserved and k != kind.id_column),
                          max_size=4, unique=True))  # fmt: skip
    for name in names:
        kind_of = draw(st.sampled_from(["str", "int64", "float64", "bool"]))
        frame[name] = draw(column(kind_of, n))
    if "CREATION_TIMESTAMP" in reserved and draw(st.booleans()):
        seconds = draw(st.lists(st.integers(0, 4_000_000_000), min_size=n, max_size=n))
        frame["CREATION_TIMESTAMP"] = pd.to_datetime(seconds, unit="s", utc=True).as_unit("us")
    return frame


@pytest.mark.parametrize("operation", sorted(CONVERTERS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_from_put_is_the_exact_inverse_of_to_put(operation, data):
    frame = data.draw(record_frames(operation))
    to_put, from_put = CONVERTERS[operation]
    kind = operations.record_operation(operation)
    requests = to_put(frame, ARN + kind.dataset_type)
    assert all(1 <= len(r[kind.member]) <= 10 for r in requests)
    pd.testing.assert_frame_equal(from_put(requests), frame)


def test_requests_pass_botocores_own_validation():
    items = pd.DataFrame({"ITEM_ID": ["i1", "i2"], "PRICE": [1.5, None], "TAGS": [["a", "b"], "c"]})
    (request,) = to_put_items(items, ARN + "ITEMS")
    events = client()
    with Stubber(events) as stub:
        stub.add_response("put_items", {}, request)
        events.put_items(**request)
    assert request["items"][1] == {"itemId": "i2", "properties": '{"tags":"c"}'}


@pytest.mark.parametrize("operation", sorted(CONVERTERS))
def test_each_model_limit_at_and_past_its_bound(operation):
    to_put, _ = CONVERTERS[operation]
    kind = operations.record_operation(operation)
    ops = limits.operation_limits(operation)
    id_max = ops.field(f"{kind.member}[].{kind.key}").max
    props_max = ops.field(f"{kind.member}[].properties").max
    # '{"notes":"…"}' is 12 characters around the value
    frame = pd.DataFrame(
        {kind.id_column: ["x" * id_max, "x" * (id_max + 1), "a", "b"],
         "NOTES": ["n", "n", "y" * (props_max - 12), "y" * (props_max - 11)]}
    )  # fmt: skip
    requests, problems = to_put(frame, ARN + kind.dataset_type, errors="collect")
    assert problems[["row", "field", "reason"]].values.tolist() == [
        [1, kind.id_column, "too_long"],
        [3, "properties", "too_long"],
    ]
    sent = [r[kind.key] for request in requests for r in request[kind.member]]
    assert sent == ["x" * id_max, "a"]
    assert len(requests[0][kind.member][1]["properties"]) == props_max
    member_max = ops.field(kind.member).max
    many = pd.DataFrame({kind.id_column: [f"r{i}" for i in range(member_max + 1)]})
    assert [len(r[kind.member]) for r in to_put(many, ARN + kind.dataset_type)] == [member_max, 1]


@pytest.mark.parametrize("operation", sorted(CONVERTERS))
def test_metadata_fields_at_and_past_what_a_schema_can_hold(operation):
    to_put, _ = CONVERTERS[operation]
    kind = operations.record_operation(operation)
    most = limits.METADATA_MAX_FIELDS[kind.dataset_type]
    frame = pd.DataFrame({kind.id_column: ["a"], **{f"F{i}": [1] for i in range(most)}})
    assert to_put(frame, ARN + kind.dataset_type)
    frame[f"F{most}"] = 1
    with pytest.raises(PayloadError, match=f"too_many_fields.*at most {most} metadata fields"):
        to_put(frame, ARN + kind.dataset_type)


def test_every_problem_in_one_report_naming_row_field_and_limit():
    actions = pd.DataFrame(
        {
            "ACTION_ID": ["a", None, 3, "d", "e"],
            "VALUE": [1, 2.5, 3, 4, 5],
            "CREATION_TIMESTAMP": pd.to_datetime(
                ["2024-01-01", "2024-01-01 00:00:00.5", None, "2024-01-01", "2024-01-01"],
                utc=True,
                format="ISO8601",
            ),
            "TAGS": [["x|y"], None, None, [1], "ok"],
            "COLOUR": [object(), None, None, None, "red"],
        }
    )
    with pytest.raises(PayloadError) as caught:
        to_put_actions(actions, ARN + "ACTIONS")
    problems = caught.value.problems
    assert problems[["row", "field", "reason"]].values.tolist() == [
        [0, "TAGS", "separator_in_value"],
        [0, "COLOUR", "not_json_encodable"],
        [1, "ACTION_ID", "missing"],
        [1, "VALUE", "wrong_type"],
        [1, "CREATION_TIMESTAMP", "sub_second"],
        [3, "TAGS", "not_json_encodable"],
    ]
    assert "nothing was sent" in str(caught.value)
    requests, _ = to_put_actions(actions, ARN + "ACTIONS", errors="collect")
    assert [a["actionId"] for r in requests for a in r["actions"]] == ["3", "e"]


def test_a_missing_id_column_or_a_bad_arn_is_named():
    with pytest.raises(PayloadError, match="USER_ID: missing_column"):
        to_put_users(pd.DataFrame({"AGE": [3]}), ARN + "USERS")
    group = "arn:aws:personalize:us-east-1:123456789012:dataset-group/shop"
    (request,) = to_put_items(pd.DataFrame({"ITEM_ID": ["a"]}), group)
    assert request["datasetArn"] == ARN + "ITEMS"  # a group's ARN names its Items dataset
    with pytest.raises(ConfigError, match="requests"):
        from_put_records([request, {"datasetArn": ARN + "USERS", "users": [{"userId": "u"}]}])
    assert from_put_records([]).empty
    with pytest.raises(ConfigError, match=r"dataset_arn.*Items dataset"):
        to_put_items(pd.DataFrame({"ITEM_ID": ["a"]}), ARN + "USERS")
    with pytest.raises(ConfigError, match=r"dataset_arn.*regular expression"):
        to_put_items(pd.DataFrame({"ITEM_ID": ["a"]}), "not-an-arn")
    with pytest.raises(ConfigError, match=r"dataset_arn.*maximum"):
        to_put_items(pd.DataFrame({"ITEM_ID": ["a"]}), ARN + "x" * 300 + "/ITEMS")
    with pytest.raises(ConfigError, match="frame"):
        to_put_items([{"ITEM_ID": "a"}], ARN + "ITEMS")  # type: ignore[arg-type]


def test_ground_truth_and_tracker_columns_are_never_sent():
    users = pd.DataFrame({"USER_ID": ["u1"], "AGE_BAND": ["18-24"], "persona": ["p"],
                          "RECEIVED_AT": [pd.Timestamp("2024-01-01", tz="UTC")]})  # fmt: skip
    (request,) = to_put_users(users, ARN + "USERS")
    assert request["users"] == [{"userId": "u1", "properties": '{"ageBand":"18-24"}'}]
