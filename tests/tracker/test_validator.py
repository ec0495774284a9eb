"""The generated fast validator must agree with limits.check_request on every input."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from personalize_sim import limits
from personalize_sim.tracker._validator import (
    Validator,
    check_plain,
    compile_fast_check,
)

from .conftest import event, request

_ids = st.one_of(st.text(max_size=3), st.text(min_size=255, max_size=258), st.integers(), st.none())
_properties = st.one_of(
    st.none(),
    st.sampled_from(['{"discount": "Yes"}', '{"userId": "u"}', "[]", "{bad", '{"a": NaN}', ""]),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3).map(json.dumps),
    st.text(min_size=1020, max_size=1030),
)
_events = st.fixed_dictionaries(
    {
        "eventType": st.one_of(st.just("click"), _ids),
        "sentAt": st.one_of(st.floats(), st.integers(), st.text(max_size=4), st.none()),
    },
    optional={
        "eventId": _ids,
        "itemId": _ids,
        "eventValue": st.one_of(st.floats(), st.booleans(), st.text(max_size=2)),
        "properties": _properties,
        "recommendationId": st.text(min_size=38, max_size=42),
        "impression": st.one_of(
            st.lists(st.text(max_size=3), max_size=27),
            st.lists(st.none(), max_size=2),
            st.text(max_size=2),
        ),
        "metricAttribution": st.one_of(
            st.fixed_dictionaries(
                {"eventAttributionSource": st.sampled_from(["A", " ", "é", "a b", ""])}
            ),
            st.dictionaries(
                st.sampled_from(["eventAttributionSource", "x"]), st.text(max_size=2), max_size=2
            ),
        ),
        "surprise": st.integers(),
    },
)
_requests = st.fixed_dictionaries(
    {
        "trackingId": _ids,
        "sessionId": _ids,
        "eventList": st.one_of(st.lists(_events, max_size=11), st.none(), st.text(max_size=1)),
    },
    optional={"userId": _ids, "other": st.integers()},
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_requests)
def test_fast_validator_agrees_with_check_request(body):
    text = json.dumps(body)
    try:
        wire = orjson.loads(text)  # what the server sees: values decoded by orjson
    except orjson.JSONDecodeError:
        assume(False)  # NaN/Infinity never reach validation
    expected = limits.check_request("PutEvents", wire)
    assert Validator("PutEvents")(wire, len(text.encode())) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.builds(event, st.integers(0, 10**6)), min_size=1, max_size=10))
def test_fast_validator_accepts_valid_requests(events):
    wire = json.loads(json.dumps(request(events)))
    assert Validator("PutEvents")(wire) == []
    assert limits.check_request("PutEvents", wire) == []


@pytest.mark.parametrize("operation", ["PutEvents", "PutItems", "PutUsers"])
def test_fast_check_is_generated_from_the_model_of_each_operation(operation):
    fast = compile_fast_check(limits.operation_limits(operation))
    assert fast.__code__.co_filename == f"<fast check of {operation}>"
    assert fast({}) is False  # required members missing: never "certainly valid"


def test_plain_check_refuses_a_body_that_is_not_an_object():
    assert [v.reason for v in check_plain("PutEvents", [1, 2])] == ["type"]
    assert Validator("PutEvents")([1, 2]) == check_plain("PutEvents", [1, 2])
