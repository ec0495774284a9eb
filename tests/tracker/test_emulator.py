"""The emulator's pure core: order of checks, quota, faults, validation verdicts and messages."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest

from personalize_sim.clock import VirtualClock
from personalize_sim.tracker import TrackerConfig
from personalize_sim.tracker._config import DEFAULT_TRACKING_ID
from personalize_sim.tracker._emulator import Emulator
from personalize_sim.tracker._faults import FaultPlan

from .conftest import TRACKING_ID, event, request


def post(emulator: Emulator, body: Any, path: str = "/events"):
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return emulator.handle("POST", path, {}, raw)


def test_accepted_request_gives_rows_in_the_store_layout():
    emulator = Emulator(TrackerConfig(), clock=VirtualClock(epoch=1_800_000_000.0))
    outcome = post(emulator, request([event(0), event(1, eventValue=None, impression=None)]))
    assert (outcome.status, outcome.error_code, outcome.body) == (200, None, b"")
    assert outcome.table == "events"
    first, second = outcome.rows
    assert first == (
        TRACKING_ID,
        "user-1",
        "session-1",
        "e-0",
        "click",
        1.5,
        "item-0",
        json.dumps({"discount": "Yes", "numRatings": 0}),
        1_704_164_645.678901,
        "RID-1",
        '["item-0","item-x","item-y"]',
        "SOURCE_A",
        1_800_000_000.0,
    )
    assert (second[5], second[10]) == (None, None)


@pytest.mark.parametrize(
    ("sent_at", "stored"),
    [
        (1_704_164_645, 1_704_164_645.0),  # botocore < 1.44 truncates to an int
        (1_704_164_645.678901, 1_704_164_645.678901),  # botocore >= 1.44 keeps microseconds
        ("2024-01-02T03:04:05.5Z", 1_704_164_645.5),
    ],
)
def test_sent_at_as_int_float_or_iso_string(sent_at, stored):
    outcome = post(Emulator(), request([event(sentAt=sent_at)]))
    assert outcome.status == 200
    assert outcome.rows[0][8] == stored


@pytest.mark.parametrize(
    ("sent_at", "stored"),
    [
        ("1704164645", 1_704_164_645.0),  # numeric strings, as some clients send
        ("1704164645.5", 1_704_164_645.5),
        ("2024-01-02T03:04:05", 1_704_164_645.0),  # naive ISO-8601 means UTC
        ("2024-01-02T04:04:05+01:00", 1_704_164_645.0),
    ],
)
def test_sent_at_as_numeric_or_iso_strings(sent_at, stored):
    outcome = post(Emulator(), request([event(sentAt=sent_at)]))
    assert (outcome.status, outcome.rows[0][8]) == (200, stored)
    assert type(outcome.rows[0][8]) is float


@pytest.mark.parametrize("sent_at", ["soon", "", "nan", "inf", "-inf", "2024-13-45"])
def test_sent_at_strings_that_are_no_time_are_invalid_input(sent_at):
    outcome = post(Emulator(), request([event(1), event(sentAt=sent_at)]))
    assert (outcome.status, outcome.error_code) == (400, "InvalidInputException")
    assert f"Value {sent_at!r} at 'eventList.2.member.sentAt'" in outcome.message
    assert outcome.rows == []


def test_missing_event_ids_are_made_up_from_the_seeded_request_id():
    def ids(seed):
        emulator = Emulator(TrackerConfig(rng=seed))
        outcome = post(emulator, request([event(0, eventId=None), event(1, eventId=None)]))
        return outcome.request_id, [row[3] for row in outcome.rows]

    request_id, event_ids = ids(3)
    assert event_ids == [f"{request_id}-0", f"{request_id}-1"]
    assert ids(3) == (request_id, event_ids)
    assert ids(4)[0] != request_id


def test_quota_throttles_exactly_by_the_token_bucket():
    clock = VirtualClock()
    emulator = Emulator(TrackerConfig(max_tps=2), clock=clock)
    codes = [post(emulator, request()).error_code for _ in range(3)]
    assert codes == [None, None, "ThrottlingException"]
    clock.advance(0.5)
    assert post(emulator, request()).status == 200
    throttled = post(emulator, request())
    assert (throttled.status, throttled.message) == (400, "Rate exceeded")
    # another tracking id has its own bucket
    assert post(emulator, request(trackingId="other")).status == 200
    stats = emulator.stats()
    assert (stats["PutEventsRequests"], stats["throttled"], stats["PutEvents4xxErrors"]) == (
        6,
        2,
        2,
    )


def test_throttle_status_429_and_invalid_requests_spend_tokens_too():
    emulator = Emulator(TrackerConfig(max_tps=1, throttle_status=429), clock=VirtualClock())
    bad = post(emulator, request([event(impression=[])]))
    assert bad.error_code == "InvalidInputException"
    throttled = post(emulator, request())
    assert (throttled.status, throttled.error_code) == (429, "ThrottlingException")


def test_no_quota_when_max_tps_is_zero_or_none():
    for tps in (0, None):
        emulator = Emulator(TrackerConfig(max_tps=tps), clock=VirtualClock())
        assert all(post(emulator, request()).status == 200 for _ in range(50))


def test_faults_follow_the_seeded_plan_request_by_request():
    config = TrackerConfig(error_rate=0.4, latency_ms="1..3", rng=11)
    emulator = Emulator(config)
    outcomes = [post(emulator, request()) for _ in range(60)]
    plan = FaultPlan(error_rate=0.4, latency="1..3", rng=11)
    expected = [plan.draw() for _ in range(60)]
    assert [o.status for o in outcomes] == [f.status or 200 for f in expected]
    assert [o.latency_s for o in outcomes] == [f.latency_s for f in expected]
    codes = {o.status: o.error_code for o in outcomes}
    assert codes == {200: None, 500: "InternalFailure", 503: "ServiceUnavailable"}
    stats = emulator.stats()
    assert stats["PutEvents5xxErrors"] == sum(o.status >= 500 for o in outcomes)


def test_unknown_tracking_id_is_404_only_when_ids_are_configured():
    known = Emulator(TrackerConfig(tracking_ids=("a", "b")))
    outcome = post(known, request(trackingId="c"))
    assert (outcome.status, outcome.error_code) == (404, "ResourceNotFoundException")
    assert "'c'" in outcome.message
    assert post(known, request(trackingId="b")).status == 200
    assert post(Emulator(), request(trackingId="anything")).status == 200
    assert TrackerConfig().tracking_id == DEFAULT_TRACKING_ID
    assert TrackerConfig(tracking_ids=("a", "b")).tracking_id == "a"


def test_validation_comes_before_the_tracking_id_check():
    known = Emulator(TrackerConfig(tracking_ids=("a",)))
    outcome = post(known, request([event(recommendationId="r" * 41)], trackingId="zzz"))
    assert outcome.error_code == "InvalidInputException"


_AT_MOST = "Member must have length less than or equal to "


@pytest.mark.parametrize(
    ("body", "path_in_message", "limit_in_message"),
    [
        (request([event(i) for i in range(11)]), "at 'eventList'", _AT_MOST + "10"),
        (
            request([event(impression=[f"i{i}" for i in range(26)])]),
            "at 'eventList.1.member.impression'",
            "Member must have length less than or equal to 25",
        ),
        (request(userId="u" * 257), "at 'userId'", _AT_MOST + "256"),
        (
            request([event(recommendationId="r" * 41)]),
            "at 'eventList.1.member.recommendationId'",
            _AT_MOST + "40",
        ),
        (
            request([event(properties=json.dumps({"k": "v" * 1016}))]),
            "at 'eventList.1.member.properties'",
            _AT_MOST + "1024",
        ),
        (
            request([event(metricAttribution={"eventAttributionSource": "   "})]),
            "Value '   ' at 'eventList.1.member.metricAttribution.eventAttributionSource'",
            "Member must satisfy regular expression pattern: ^[\\x20-\\x7E]*",
        ),
        (request(sessionId=None), "Value null at 'sessionId'", "Member must not be null"),
        (
            request([event(sentAt=None)]),
            "Value null at 'eventList.1.member.sentAt'",
            "Member must not be null",
        ),
        (
            request([event(eventValue="1.5")]),
            "Value '1.5' at 'eventList.1.member.eventValue'",
            "Member must be of type float",
        ),
        (
            request(extra="x"),
            "Value 'x' at 'extra'",
            "Member must be a member of the request shape",
        ),
    ],
)
def test_each_broken_rule_is_named_with_its_field_and_limit_in_aws_words(
    body, path_in_message, limit_in_message
):
    outcome = post(Emulator(), body)
    assert (outcome.status, outcome.error_code) == (400, "InvalidInputException")
    assert outcome.message.startswith("1 validation error detected: Value ")
    assert f"{path_in_message} failed to satisfy constraint: {limit_in_message}" in (
        outcome.message
    )
    assert orjson.loads(outcome.body) == {"message": outcome.message}


def test_the_message_is_exactly_aws_format():
    outcome = post(Emulator(), request([event(eventType="t" * 257)]))
    assert outcome.message == (
        f"1 validation error detected: Value '{'t' * 257}' at 'eventList.1.member.eventType' "
        "failed to satisfy constraint: Member must have length less than or equal to 256"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (request([event(properties="not json")]), "Error parsing properties json"),
        (request([event(properties='["a"]')]), "Error parsing properties json"),
        (request([event(properties='{"a": NaN}')]), "Error parsing properties json"),
        (
            request([event(properties='{"Timestamp": 1}')]),
            "Invalid properties: the key 'Timestamp' is reserved",
        ),
        (
            request([event(impression=["é" * 256] * 25)]),
            "Event at 'eventList.1.member' is 13132 bytes; the maximum size of an event is 10240",
        ),
    ],
)
def test_documented_rules_answer_in_the_service_words(body, message):
    outcome = post(Emulator(), body)
    assert (outcome.status, outcome.error_code) == (400, "InvalidInputException")
    assert outcome.message.startswith(message)


def test_several_broken_rules_are_all_reported():
    outcome = post(
        Emulator(), request([event(recommendationId="r" * 41, impression=[])], userId="")
    )
    assert outcome.message.startswith("3 validation errors detected: ")


def test_malformed_json_and_huge_bodies_are_invalid_input():
    emulator = Emulator()
    broken = emulator.handle("POST", "/events", {}, b'{"trackingId": ')
    assert (broken.status, broken.error_code) == (400, "InvalidInputException")
    assert "not valid JSON" in broken.message
    huge = emulator.handle("POST", "/events", {}, b"{}", body_size=3 * 1024 * 1024)
    assert (huge.status, huge.error_code) == (413, "RequestEntityTooLargeException")
    assert "larger than the maximum of 2097152 bytes" in huge.message
    # json.dumps writes inf as Infinity: not JSON, but read it, to name the member
    infinite = json.dumps(request([event(eventValue=math.inf)])).encode()
    message = emulator.handle("POST", "/events", {}, infinite).message
    assert "Value 'Infinity' at 'eventList.1.member.eventValue'" in message
    assert "Member must be a finite number" in message
    not_object = emulator.handle("POST", "/events", {}, b"[1, 2]")
    assert not_object.error_code == "InvalidInputException"


def test_unknown_routes_are_404_and_not_counted_as_put_events():
    emulator = Emulator()
    outcome = emulator.handle("GET", "/events", {}, b"")
    assert (outcome.status, outcome.error_code) == (404, "UnknownOperationException")
    assert emulator.handle("POST", "/nothing", {}, b"{}").status == 404
    assert emulator.stats()["PutEventsRequests"] == 0


def test_put_items_and_put_users_are_validated_and_stored():
    emulator = Emulator()
    arn = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS"
    items = emulator.handle(
        "POST",
        "/items",
        {},
        orjson.dumps(
            {"datasetArn": arn, "items": [{"itemId": "i1", "properties": '{"price": 3}'}]}
        ),
    )
    assert (items.status, items.table, items.rows[0][:3]) == (
        200,
        "items",
        (arn, "i1", '{"price": 3}'),
    )
    users_arn = arn.replace("/ITEMS", "/USERS")
    users = emulator.handle(
        "POST", "/users", {}, orjson.dumps({"datasetArn": users_arn, "users": [{"userId": "u1"}]})
    )
    assert (users.status, users.table) == (200, "users")
    bad = emulator.handle(
        "POST", "/items", {}, orjson.dumps({"datasetArn": "nope", "items": [{"itemId": "i"}]})
    )
    assert bad.error_code == "InvalidInputException"
    assert "datasetArn" in bad.message
