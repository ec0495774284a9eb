"""Properties: which columns, camelCase keys, JSON encoding, the dict column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, limits, to_put_events
from personalize_sim.errors import ConfigTypeError
from personalize_sim.payloads import to_bulk_csv

from .conftest import T0, frame_of, problems_of


def test_properties_from_named_columns_are_camel_cased():
    frame = frame_of(NUM_RATINGS=[3, 4, 5], DEVICE=["ios", "web", "ios"], persona=["a", "b", "c"])
    props = [json.loads(e["properties"]) for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert props[0] == {"numRatings": 3, "device": "ios"}  # lower-case ground truth not sent
    only = to_put_events(frame, "t", properties=["DEVICE"])[0]["eventList"][0]["properties"]
    assert json.loads(only) == {"device": "ios"}
    none = to_put_events(frame, "t", properties=[])[0]["eventList"][0]
    assert "properties" not in none


def test_properties_from_a_dict_or_json_column():
    frame = frame_of(PROPERTIES=[{"discount": "Yes"}, '{"numRatings": 2}', None], DEVICE=["a"] * 3)
    props = [e.get("properties") for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert json.loads(props[0]) == {"device": "a", "discount": "Yes"}
    assert json.loads(props[1]) == {"device": "a", "numRatings": 2}
    assert json.loads(props[2]) == {"device": "a"}


def test_null_property_values_leave_the_key_out():
    frame = frame_of(DISCOUNT=["Yes", None, np.nan])
    events = [e for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert json.loads(events[0]["properties"]) == {"discount": "Yes"}
    assert "properties" not in events[1] and "properties" not in events[2]


def test_reserved_property_keys_any_case():
    frame = frame_of(PROPERTIES=[{"Timestamp": 1}, {"ok": 1}, '{"USERID": "x"}'])
    assert problems_of(frame) == [
        (0, "PROPERTIES", "reserved_key"),
        (2, "PROPERTIES", "reserved_key"),
    ]
    assert problems_of(frame_of(USERID=["a", "b", "c"])) == [(None, "USERID", "reserved_key")]


def test_property_keys_that_cannot_be_camel_cased():
    frame = frame_of(**{"PRICE-USD": [1, 2, 3]})
    assert problems_of(frame, properties=["PRICE-USD"]) == [(None, "PRICE-USD", "bad_key")]
    assert problems_of(frame_of(PROPERTIES=[{"NUM_RATINGS": 1}, None, None])) == [
        (0, "PROPERTIES", "bad_key")
    ]


def test_property_values_json_cannot_encode():
    frame = frame_of(WHEN=[T0, "x", "y"], SCORE=[1.0, float("inf"), 2.0])
    assert sorted(problems_of(frame)) == [
        (0, "WHEN", "not_json_encodable"),
        (1, "SCORE", "not_json_encodable"),
    ]


def test_properties_that_are_not_json_objects():
    frame = frame_of(PROPERTIES=["{not json", "[1, 2]", '{"fine": true}'])
    assert problems_of(frame) == [
        (0, "PROPERTIES", "not_json_object"),
        (1, "PROPERTIES", "not_json_object"),
    ]


def test_properties_longer_than_the_model_allows():
    longest = limits.operation_limits("PutEvents").field("eventList[].properties").max
    frame = frame_of(NOTE=["x" * longest, "short", "y"])
    assert problems_of(frame) == [(0, "properties", "too_long")]


def test_properties_naming_missing_columns_is_a_usage_error(tmp_path):
    with pytest.raises(ConfigError, match="properties") as caught:
        to_put_events(frame_of(DEVICE=["a", "b", "c"]), "t", properties=["DEVICE", "NOPE"])
    assert caught.value.value == ["DEVICE", "NOPE"]
    assert "it has no ['NOPE']" in caught.value.allowed
    assert not isinstance(caught.value, KeyError)
    with pytest.raises(ConfigError, match="NOPE"):  # the bulk export reads them alike
        to_bulk_csv(frame_of(), tmp_path / "x.csv", properties=["NOPE"])


def test_properties_naming_request_fields_is_a_usage_error():
    with pytest.raises(ValueError, match="request fields") as caught:
        to_put_events(frame_of(), "t", properties=["ITEM_ID"])
    assert isinstance(caught.value, ConfigError)
    assert "['ITEM_ID']" in caught.value.allowed


def test_properties_given_as_one_string_is_a_type_error():
    with pytest.raises(ConfigTypeError, match="a list of column names"):
        to_put_events(frame_of(DEVICE=["a", "b", "c"]), "t", properties="DEVICE")  # type: ignore[arg-type]


def test_properties_may_be_any_iterable_of_names():
    frame = frame_of(DEVICE=["a", "b", "c"], NOTE=["x", "y", "z"])
    picked = to_put_events(frame, "t", properties=pd.Index(["NOTE"]))
    assert json.loads(picked[0]["eventList"][0]["properties"]) == {"note": "x"}
    once = to_put_events(frame, "t", properties=(c for c in ["DEVICE"]))
    assert json.loads(once[0]["eventList"][0]["properties"]) == {"device": "a"}
