"""Limits come from botocore's model; check_request finds every violation."""

from __future__ import annotations

import botocore.session
import pytest

from personalize_sim import ConfigError, limits


def model_shape(operation: str):
    model = botocore.session.get_session().get_service_model("personalize-events")
    return model.operation_model(operation).input_shape


def test_put_events_limits_are_the_models():
    shape = model_shape("PutEvents")
    event = shape.members["eventList"].member
    pe = limits.operation_limits("PutEvents")
    assert pe.http_method == "POST" and pe.http_path == "/events"
    assert pe.field("eventList").max == shape.members["eventList"].metadata["max"]
    assert pe.field("eventList[].impression").max == event.members["impression"].metadata["max"]
    assert (
        pe.field("eventList[].recommendationId").max
        == event.members["recommendationId"].metadata["max"]
    )
    assert pe.field("eventList[].eventType").required
    assert not pe.field("userId").required
    source = pe.field("eventList[].metricAttribution.eventAttributionSource")
    assert (
        source.pattern
        == event.members["metricAttribution"].members["eventAttributionSource"].metadata["pattern"]
    )


@pytest.mark.parametrize(
    ("operation", "path", "listing"),
    [("PutItems", "/items", "items"), ("PutUsers", "/users", "users")],
)
def test_items_and_users_limits(operation, path, listing):
    ops = limits.operation_limits(operation)
    assert ops.http_path == path
    assert ops.field(listing).max == model_shape(operation).members[listing].metadata["max"]
    assert ops.field("datasetArn").pattern


def test_unknown_member_paths_name_the_alternatives():
    with pytest.raises(ConfigError, match=r"^path: got .*; a member of PutEvents: .*eventList"):
        limits.operation_limits("PutEvents").field("events")


def valid_request(**event):
    return {
        "trackingId": "t",
        "sessionId": "s",
        "eventList": [{"eventType": "View", "sentAt": 1_700_000_000.5, **event}],
    }


def test_a_valid_request_has_no_violation():
    assert (
        limits.check_request(
            "PutEvents",
            valid_request(
                itemId="i",
                impression=["a", "b"],
                properties='{"discount": "yes"}',
                metricAttribution={"eventAttributionSource": "home"},
            ),
        )
        == []
    )


@pytest.mark.parametrize(
    ("event", "path", "reason"),
    [
        ({"impression": ["i"] * 26}, "eventList[0].impression", "too_many"),
        ({"impression": []}, "eventList[0].impression", "too_few"),
        ({"impression": ["i", ""]}, "eventList[0].impression[1]", "too_short"),
        ({"recommendationId": "r" * 41}, "eventList[0].recommendationId", "too_long"),
        ({"itemId": 7}, "eventList[0].itemId", "type"),
        ({"eventValue": "1"}, "eventList[0].eventValue", "type"),
        ({"properties": '{"a": "%s"}' % ("x" * 1020)}, "eventList[0].properties", "too_long"),
        ({"properties": "[1]"}, "eventList[0].properties", "not_json_object"),
        ({"properties": "{oops"}, "eventList[0].properties", "not_json_object"),
        ({"properties": '{"ImPrEsSiOn": 1}'}, "eventList[0].properties", "reserved_key"),
        (
            {"metricAttribution": {"eventAttributionSource": "\u00e9t\u00e9"}},
            "eventList[0].metricAttribution.eventAttributionSource",
            "pattern",
        ),
        (
            {"metricAttribution": {}},
            "eventList[0].metricAttribution.eventAttributionSource",
            "missing",
        ),
        ({"surprise": 1}, "eventList[0].surprise", "unknown_member"),
        ({"impression": ["\u00e9" * 256] * 25}, "eventList[0]", "event_too_large"),
    ],
)
def test_each_rule_is_checked(event, path, reason):
    found = limits.check_request("PutEvents", valid_request(**event))
    assert [(v.path, v.reason) for v in found] == [(path, reason)]
    assert path in found[0].message


def test_request_level_rules():
    found = limits.check_request(
        "PutEvents", {"trackingId": "", "eventList": [{"eventType": "x", "sentAt": 1}] * 11}
    )
    assert sorted((v.path, v.reason) for v in found) == [
        ("eventList", "too_many"),
        ("sessionId", "missing"),
        ("trackingId", "too_short"),
    ]


def test_missing_event_members():
    found = limits.check_request(
        "PutEvents", {"trackingId": "t", "sessionId": "s", "eventList": [{}]}
    )
    assert [(v.path, v.reason) for v in found] == [
        ("eventList[0].eventType", "missing"),
        ("eventList[0].sentAt", "missing"),
    ]


def test_put_items_rules():
    found = limits.check_request("PutItems", {"datasetArn": "not-an-arn", "items": [{}]})
    assert sorted((v.path, v.reason) for v in found) == [
        ("datasetArn", "pattern"),
        ("items[0].itemId", "missing"),
    ]


def test_huge_integers_are_measured_not_crashed_on():
    found = limits.check_request("PutEvents", valid_request(eventValue=10**30))
    assert found == []
