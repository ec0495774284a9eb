"""The emulator on the wire: the real boto3 client against the real server on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from typing import Any

import boto3
import botocore
import pandas as pd
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from personalize_sim._schema import EVENT_COLUMNS as FRAME_COLUMNS
from personalize_sim.tracker import LocalTracker
from personalize_sim.tracker._store import EVENT_COLUMNS

from .conftest import TRACKING_ID, event, request

NO_RETRY = {"total_max_attempts": 1}


def raises(client: Any, kwargs: dict[str, Any], code: str, status: int, cls: str | None = None):
    """put_events(**kwargs) must raise ``cls`` (default ClientError) with this code and status."""
    expected = getattr(client.exceptions, cls) if cls else ClientError
    with pytest.raises(expected) as info:
        client.put_events(**kwargs)
    error = info.value.response
    assert type(info.value).__name__ == (cls or "ClientError")
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["ResponseMetadata"]["RequestId"]
    return error["Error"]["Message"]


def test_accepted_request_is_200_with_a_request_id(shared_client):
    response = shared_client.put_events(**request([event(i) for i in range(10)]))
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200
    assert len(meta["RequestId"]) == 36
    assert meta["HTTPHeaders"]["content-length"] == "0"


_AT_MOST = "failed to satisfy constraint: Member must have length less than or equal to "


@pytest.mark.parametrize(
    ("kwargs", "where", "limit"),
    [
        (request([event(i) for i in range(11)]), "at 'eventList' ", _AT_MOST + "10"),
        (
            request([event(impression=[f"i{i}" for i in range(26)])]),
            "at 'eventList.1.member.impression' ",
            _AT_MOST + "25",
        ),
        (request(userId="u" * 257), "at 'userId' ", _AT_MOST + "256"),
        (request(sessionId="s" * 257), "at 'sessionId' ", _AT_MOST + "256"),
        (request([event(itemId="i" * 257)]), "at 'eventList.1.member.itemId' ", _AT_MOST + "256"),
        (
            request([event(eventId="e" * 257)]),
            "at 'eventList.1.member.eventId' ",
            _AT_MOST + "256",
        ),
        (
            request([event(recommendationId="r" * 41)]),
            "at 'eventList.1.member.recommendationId' ",
            _AT_MOST + "40",
        ),
        (
            request([event(properties=json.dumps({"k": "v" * 1016}))]),
            "at 'eventList.1.member.properties' ",
            _AT_MOST + "1024",
        ),
        (
            request([event(metricAttribution={"eventAttributionSource": "caf\u00e9"})]),
            "Value 'caf\u00e9' at 'eventList.1.member.metricAttribution.eventAttributionSource' ",
            "failed to satisfy constraint: Member must satisfy regular expression pattern: ",
        ),
        (
            request([event(properties=json.dumps({"sessionId": "s"}))]),
            "Invalid properties: the key 'sessionId' is reserved",
            "at 'eventList.1.member.properties'",
        ),
        (
            request([event(properties="{'single': 'quotes'}")]),
            "Error parsing properties json",
            "",
        ),
        (
            request([event(impression=["\u00e9" * 256] * 25)]),
            "Event at 'eventList.1.member'",
            "the maximum size of an event is 10240 bytes",
        ),
    ],
)
def test_every_limit_is_invalid_input_in_aws_words(shared_client, kwargs, where, limit):
    message = raises(shared_client, kwargs, "InvalidInputException", 400, "InvalidInputException")
    assert where in message
    assert limit in message


def test_botocore_really_puts_these_over_limit_payloads_on_the_wire(tracker):
    """With its default validation botocore still sends maxima (it checks only minimums)."""
    client = tracker.client(retries=NO_RETRY)
    with pytest.raises(client.exceptions.InvalidInputException):
        client.put_events(**request([event(i) for i in range(11)]))


def test_malformed_json_is_invalid_input(tracker):
    client = tracker.client(retries=NO_RETRY)
    # make botocore send a broken body: rewrite it after serialisation, before signing
    client.meta.events.register_first(
        "before-sign.personalize-events.PutEvents",
        lambda request, **_: setattr(request, "data", request.data[:-3]),
    )
    message = raises(client, request(), "InvalidInputException", 400, "InvalidInputException")
    assert "not valid JSON" in message


def test_body_too_large_is_413_before_it_is_read(shared_client):
    huge = request([event(properties=json.dumps({"blob": "x" * (3 * 1024 * 1024)}))])
    message = raises(shared_client, huge, "RequestEntityTooLargeException", 413)
    assert "larger than the maximum of 2097152 bytes" in message


def test_unknown_tracking_id_is_resource_not_found(shared_client):
    message = raises(
        shared_client,
        request(trackingId="nope"),
        "ResourceNotFoundException",
        404,
        "ResourceNotFoundException",
    )
    assert "'nope'" in message


@pytest.mark.parametrize("status", [400, 429])
def test_over_quota_is_throttling_exception(status):
    # a bucket of one token that takes 100 s to refill: the second call is over quota
    # however slow this machine is (the exact arithmetic is in test_faults/test_handler)
    with LocalTracker(process=False, max_tps=0.01, throttle_status=status) as tracker:
        client = tracker.client(retries=NO_RETRY)
        client.put_events(**request(trackingId=tracker.tracking_id))
        message = raises(
            client, request(trackingId=tracker.tracking_id), "ThrottlingException", status
        )
        stats = tracker.stats()
    assert message == "Rate exceeded"
    assert (stats["throttled"], stats["PutEvents4xxErrors"], stats["accepted_events"]) == (1, 1, 1)


def test_botocore_retries_throttling_until_it_gives_up():
    # one token that takes 1000 s to come back, so every retry is throttled too
    with LocalTracker(process=False, max_tps=0.001) as tracker:
        client = tracker.client(retries={"mode": "standard", "total_max_attempts": 2})
        client.put_events(**request(trackingId=tracker.tracking_id))
        with pytest.raises(ClientError) as info:
            client.put_events(**request(trackingId=tracker.tracking_id))
        meta = info.value.response["ResponseMetadata"]
        assert (meta["MaxAttemptsReached"], meta["RetryAttempts"]) == (True, 1)
        assert tracker.stats()["PutEventsRequests"] == 3
        assert tracker.stats()["throttled"] == 2


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalFailure"), (503, "ServiceUnavailable")]
)
def test_injected_5xx_errors(status, code):
    with LocalTracker(process=False, error_rate=1.0, rng=1) as tracker:
        client = tracker.client(retries=NO_RETRY)
        seen = {_error_of(client, request(trackingId=tracker.tracking_id)) for _ in range(30)}
        assert (status, code) in seen
        assert tracker.stats()["PutEvents5xxErrors"] == 30
    assert tracker.events().empty


def test_added_latency_shows_in_the_latency_counter():
    with LocalTracker(process=False, latency_ms=30, max_tps=0) as tracker:
        client = tracker.client()
        for _ in range(3):
            client.put_events(**request(trackingId=tracker.tracking_id))
        latency = tracker.stats()["latency"]
    assert set(latency) == {"count", "mean", "p50", "p90", "p99", "p99.9", "max"}  # in ms
    assert latency["count"] == 3
    assert latency["p50"] >= 30
    assert latency["mean"] >= 30 and latency["max"] >= latency["p99"] >= latency["p50"]


# ---------------------------------------------------------------------------------------------
# SigV4


@pytest.fixture
def signed_tracker():
    with LocalTracker(
        process=False, verify_signature=True, access_key_id="AKIDLOCAL", secret_access_key="s3cret"
    ) as tracker:
        yield tracker


def other_client(tracker: LocalTracker, key: str, secret: str, **config: Any) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1"
    )
    return session.client(
        "personalize-events",
        endpoint_url=tracker.endpoint_url,
        config=Config(retries=NO_RETRY, **config),
    )


def test_signed_requests_with_the_configured_key_pair_pass(signed_tracker):
    response = signed_tracker.client().put_events(**request(trackingId=signed_tracker.tracking_id))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    # signed for another region: refused as AWS refuses it (test_wire_edges.py)
    other_region = other_client(signed_tracker, "AKIDLOCAL", "s3cret", region_name="eu-west-1")
    raises(other_region, request(), "InvalidSignatureException", 403)


def test_wrong_secret_is_invalid_signature(signed_tracker):
    client = other_client(signed_tracker, "AKIDLOCAL", "wrong")
    message = raises(client, request(), "InvalidSignatureException", 403)
    assert "signature we calculated does not match" in message


def test_unknown_access_key_is_invalid_client_token_id(signed_tracker):
    client = other_client(signed_tracker, "AKIDOTHER", "s3cret")
    raises(client, request(), "InvalidClientTokenId", 403)


def test_unsigned_request_is_missing_authentication_token(signed_tracker):
    client = other_client(signed_tracker, "x", "y", signature_version=botocore.UNSIGNED)
    message = raises(client, request(), "MissingAuthenticationToken", 403)
    assert message == "Missing Authentication Token"


def test_tampered_body_is_invalid_signature(signed_tracker):
    client = other_client(signed_tracker, "AKIDLOCAL", "s3cret")
    client.meta.events.register(
        "before-send.personalize-events.PutEvents",  # signed already; same length, other user
        lambda request, **_: setattr(request, "body", request.body.replace(b"user-1", b"user-2")),
    )
    raises(client, request(), "InvalidSignatureException", 403)


def test_garbled_authorization_header_is_incomplete_signature(signed_tracker):
    response = _raw_post(
        signed_tracker.endpoint_url + "/events",
        b"{}",
        {"Authorization": "AWS4-HMAC-SHA256 nonsense"},
    )
    assert response[0] == 400
    assert response[1]["x-amzn-errortype"].split(":")[0] == "IncompleteSignatureException"


def test_signatures_are_not_checked_unless_asked(tracker):
    client = other_client(tracker, "anything", "at-all", signature_version=botocore.UNSIGNED)
    assert client.put_events(**request())["ResponseMetadata"]["HTTPStatusCode"] == 200


# ---------------------------------------------------------------------------------------------
# what was accepted reads back, equal to what was sent


def test_every_accepted_event_reads_back_equal(tracker, client):
    sent = [
        request([event(i) for i in range(10)]),
        request(
            [event(10, eventValue=None, impression=None, properties=None, itemId=None)],
            userId=None,
            sessionId="anon",
        ),
        request(
            [event(11, recommendationId=None, metricAttribution=None, sentAt=1_704_164_700)],
            userId="u\u00e9-2",
        ),
    ]
    for kwargs in sent:
        client.put_events(**kwargs)
    with sqlite3.connect(tracker.db_path) as db:
        rows = db.execute(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY rowid"
        ).fetchall()
    expected = [
        (
            kwargs["trackingId"],
            kwargs.get("userId"),
            kwargs["sessionId"],
            e["eventId"],
            e["eventType"],
            e.get("eventValue"),
            e.get("itemId"),
            e.get("properties"),
            float(e["sentAt"]),
            e.get("recommendationId"),
            None if "impression" not in e else json.dumps(e["impression"], separators=(",", ":")),
            e.get("metricAttribution", {}).get("eventAttributionSource"),
        )
        for kwargs in sent
        for e in kwargs["eventList"]
    ]
    assert [row[:-1] for row in rows] == expected
    frame = tracker.events()
    assert tuple(frame.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    assert str(frame["TIMESTAMP"].dtype) == "datetime64[us, UTC]"
    assert frame["TIMESTAMP"][0] == pd.Timestamp("2024-01-02 03:04:05.678901", tz="UTC")
    assert frame["IMPRESSION"][0] == ["item-0", "item-x", "item-y"]
    assert frame["IMPRESSION"][10] is None
    assert pd.isna(frame["EVENT_VALUE"][10]) and pd.isna(frame["USER_ID"][10])
    assert frame["DISCOUNT"].tolist()[:2] == ["Yes", "Yes"]
    assert frame["NUM_RATINGS"].tolist()[:3] == [0, 1, 2]
    assert frame["EVENT_ID"].tolist() == [f"e-{i}" for i in range(12)]
    assert frame["USER_ID"][11] == "u\u00e9-2"


def test_read_back_round_trips_through_the_payload_layer(tracker, client):
    from personalize_sim import to_put_events
    from personalize_sim.payloads import from_put_events

    frame = pd.DataFrame(
        {
            "USER_ID": ["u1", "u1", None],
            "SESSION_ID": ["s1", "s1", "s2"],
            "ITEM_ID": ["i1", "i2", "i3"],
            "EVENT_TYPE": ["View", "Purchase", "View"],
            "EVENT_VALUE": [None, 9.5, None],
            "TIMESTAMP": pd.to_datetime(
                [
                    "2024-01-01 00:00:00.250001",
                    "2024-01-01 00:00:05.000000",
                    "2024-01-01 00:01:00.000000",
                ],
                utc=True,
            ),
            "IMPRESSION": [["i1", "i2"], None, ["i3"]],
            "DISCOUNT": ["Yes", "No", "No"],
        }
    )
    requests = to_put_events(frame, TRACKING_ID)
    for kwargs in requests:
        client.put_events(**kwargs)
    received = tracker.events()
    sent = from_put_events(requests)
    assert len(received) == len(frame) == len(sent)
    for column in [*frame.columns.drop("IMPRESSION"), "EVENT_ID"]:
        assert _plain(received[column]) == _plain(sent[column]), column
    assert received["IMPRESSION"].tolist() == sent["IMPRESSION"].tolist()


def _plain(series: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else v for v in series]


def test_duplicates_are_counted_not_stored(tracker, client):
    client.put_events(**request([event(0), event(1)]))
    client.put_events(**request([event(1, eventType="changed"), event(2)]))
    stats = tracker.stats()
    assert (stats["accepted_events"], stats["duplicates"]) == (3, 1)
    frame = tracker.events()
    assert frame["EVENT_ID"].tolist() == ["e-0", "e-1", "e-2"]
    assert frame["EVENT_TYPE"].tolist() == ["click", "click", "click"]  # the first copy wins
    # the same event id under another tracking id is another event
    with LocalTracker(process=False, max_tps=0, db_path=tracker.db_path.with_name("two.db")) as two:
        other = two.client()
        other.put_events(**request([event(0)], trackingId="a"))
        other.put_events(**request([event(0)], trackingId="b"))
        assert two.stats()["duplicates"] == 0
        assert len(two.events()) == 2
        assert two.events(tracking_id="b")["EVENT_ID"].tolist() == ["e-0"]


def test_stats_count_like_cloudwatch(tracker, client):
    client.put_events(**request([event(0)]))
    with pytest.raises(client.exceptions.InvalidInputException):
        client.put_events(**request([event(1, impression=[])]))
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.put_events(**request(trackingId="nope"))
    stats = tracker.stats()
    assert {
        k: stats[k] for k in ("PutEventsRequests", "PutEvents4xxErrors", "PutEvents5xxErrors")
    } == {
        "PutEventsRequests": 3,
        "PutEvents4xxErrors": 2,
        "PutEvents5xxErrors": 0,
    }
    assert (stats["accepted_events"], stats["throttled"], stats["latency"]["count"]) == (1, 0, 3)
    status, headers, body = _raw_get(tracker.endpoint_url + "/stats")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body)["PutEventsRequests"] == 3


def test_put_items_and_put_users_through_boto3(tracker, client):
    arn = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS"
    client.put_items(datasetArn=arn, items=[{"itemId": "i1", "properties": '{"price": 3}'}])
    users_arn = arn.replace("/ITEMS", "/USERS")
    client.put_users(datasetArn=users_arn, users=[{"userId": "u1", "properties": '{"age": 30}'}])
    with pytest.raises(client.exceptions.InvalidInputException):
        client.put_items(datasetArn=arn, items=[{"itemId": f"i{i}"} for i in range(11)])
    with sqlite3.connect(tracker.db_path) as db:
        assert db.execute("SELECT dataset_arn, item_id, properties FROM items").fetchall() == [
            (arn, "i1", '{"price": 3}')
        ]
        assert db.execute("SELECT user_id FROM users").fetchall() == [("u1",)]
    stats = tracker.stats()
    assert (stats["PutItemsRequests"], stats["PutItems4xxErrors"], stats["accepted_items"]) == (
        2,
        1,
        1,
    )


def test_raw_int_and_fractional_sent_at_both_accepted(tracker):
    for sent_at in ("1704164645", "1704164645.678901"):
        event_text = f'{{"eventId":"{sent_at}","eventType":"t","sentAt":{sent_at}}}'
        body = f'{{"trackingId":"{TRACKING_ID}","sessionId":"s","eventList":[{event_text}]}}'
        assert _raw_post(tracker.endpoint_url + "/events", body.encode(), {})[0] == 200
    assert tracker.events()["TIMESTAMP"].tolist() == [
        pd.Timestamp("2024-01-02 03:04:05", tz="UTC"),
        pd.Timestamp("2024-01-02 03:04:05.678901", tz="UTC"),
    ]


def _error_of(client: Any, kwargs: dict[str, Any]) -> tuple[int, str] | None:
    try:
        client.put_events(**kwargs)
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]
    return None


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def _raw_get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_a_failed_commit_is_a_500_never_a_200(tracker, client):
    client.put_events(**request([event(0)]))
    tracker._server.app.committer.store._db.close()  # the disk "fails" under the emulator
    error = raises(client, request([event(1)]), "InternalFailure", 500)
    assert "store failed" in error
    assert tracker.stats()["PutEvents5xxErrors"] == 1
    assert tracker.stats()["accepted_events"] == 1
