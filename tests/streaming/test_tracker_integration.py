"""Against the real local emulator over real HTTP on 127.0.0.1, with the real boto3 client."""

import json

import pytest

from personalize_sim import stream
from personalize_sim.streaming import Boto3Target, FastTarget, JsonlTarget, RetryPolicy
from personalize_sim.streaming._wire import Prepared
from personalize_sim.tracker import LocalTracker

from .conftest import make_requests

pytestmark = pytest.mark.timeout(120)


def stored_ids(tracker):
    return list(tracker.events()["EVENT_ID"])


def all_ids(requests):
    return [e["eventId"] for r in requests for e in r["eventList"]]


def test_over_quota_every_event_is_delivered_or_dead_lettered_and_none_is_stored_twice():
    requests = make_requests(240, events=2)
    with LocalTracker(max_tps=100, rng=0, process=False) as tracker:
        client = tracker.client(retries={"total_max_attempts": 1})
        handle = stream(
            requests,
            rate=300,
            target=client,
            tracking_id=tracker.tracking_id,
            retry=RetryPolicy(max_attempts=6, base=0.05, cap=1.0, deadline=30),
            rng=0,
            wait=True,
        )
        s = handle.summary
        stats = tracker.stats()
        ids = stored_ids(tracker)
    assert s.throttled > 0 and stats["throttled"] == s.throttled
    assert s.balanced
    assert s.delivered_events + s.dead_letter_events == 480
    assert s.pending_events == 0
    assert stats["duplicates"] == 0
    assert len(ids) == len(set(ids)) == s.delivered_events
    dead = {e["eventId"] for r in handle.dead_letters["request"] for e in r["eventList"]}
    assert dead.isdisjoint(ids)
    assert dead | set(ids) == set(all_ids(requests))
    assert s.sdk_retries == 0  # boto3's own retries were off: every attempt is in the log
    assert stats["PutEventsRequests"] == s.attempts


def test_server_errors_are_retried_to_success():
    requests = make_requests(60, events=3)
    with LocalTracker(max_tps=None, error_rate=0.3, rng=1, process=False) as tracker:
        handle = stream(
            requests,
            rate=200,
            target=Boto3Target(endpoint_url=tracker.endpoint_url, region="us-east-1"),
            tracking_id=tracker.tracking_id,
            retry=RetryPolicy(max_attempts=20, base=0.01, cap=0.1),
            rng=1,
            wait=True,
        )
        s = handle.summary
        ids = stored_ids(tracker)
    assert s.server_errors > 0 and s.retried >= s.server_errors
    assert s.complete and s.delivered_events == 180
    assert sorted(ids) == sorted(all_ids(requests))


def test_fast_transport_and_boto3_store_identical_events_and_pass_signature_checks():
    requests = make_requests(30, events=4)
    for r in requests[::3]:  # optional members too
        r["eventList"][0].update(eventValue=1.5, properties='{"discount": "Yes"}',
                                 impression=["i1", "i2"], recommendationId="RID-1")  # fmt: skip
    frames = {}
    for kind in ("boto3", "fast"):
        with LocalTracker(max_tps=None, verify_signature=True, process=False) as tracker:
            target = (
                FastTarget(endpoint_url=tracker.endpoint_url, region="us-east-1")
                if kind == "fast"
                else tracker.client(retries={"total_max_attempts": 1})
            )
            handle = stream(requests, rate=500, target=target, tracking_id=tracker.tracking_id,
                            wait=True)  # fmt: skip
            assert handle.summary.complete, handle.dead_letters
            stats = tracker.stats()
            assert stats["PutEvents4xxErrors"] == 0
            frames[kind] = (
                tracker.events().drop(columns=["RECEIVED_AT"]).sort_values("EVENT_ID")
                .reset_index(drop=True)
            )  # fmt: skip
    assert len(frames["fast"]) == 120
    assert frames["fast"].equals(frames["boto3"])


def test_fast_transport_with_wrong_credentials_is_refused_and_dead_lettered(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with LocalTracker(max_tps=None, verify_signature=True, process=False) as tracker:
        target = FastTarget(endpoint_url=tracker.endpoint_url)
        handle = stream(make_requests(2), rate=100, tracking_id=tracker.tracking_id,
                        target=target, wait=True)  # fmt: skip
        assert tracker.events().empty
    s = handle.summary
    assert s.dead_letter_requests == 2 and s.client_errors == 2
    assert set(handle.dead_letters["error_code"]) - {""}


def test_fast_body_equals_what_boto3_puts_on_the_wire():
    import boto3
    from botocore.awsrequest import AWSResponse

    requests = make_requests(3, events=2)
    requests[0]["eventList"][0].update(eventValue=2.0, properties='{"a": 1}', impression=["x"])
    import datetime as dt

    requests[1]["eventList"][0]["sentAt"] = dt.datetime(
        2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc
    )
    client = boto3.client("personalize-events", region_name="us-east-1",
                          endpoint_url="http://127.0.0.1:9")  # fmt: skip
    bodies = []

    class _Raw:
        def stream(self, **kwargs):
            yield b""

    def capture(request, **kwargs):
        bodies.append(request.body)
        return AWSResponse(request.url, 200, {}, _Raw())

    client.meta.events.register("before-send.personalize-events.PutEvents", capture)
    for request in requests:
        client.put_events(**request)
    for request, body in zip(requests, bodies, strict=True):
        assert json.loads(Prepared(request).body) == json.loads(body)
    assert json.loads(bodies[1])["eventList"][0]["sentAt"] == 1704164645.678901


def test_user_client_with_boto3_retries_on_has_them_counted():
    with LocalTracker(max_tps=None, error_rate=0.5, rng=3, process=False) as tracker:
        client = tracker.client(retries={"total_max_attempts": 4, "mode": "standard"})
        handle = stream(make_requests(20), rate=200, target=client, rng=0,
                        tracking_id=tracker.tracking_id, wait=True)  # fmt: skip
        stats = tracker.stats()
    s = handle.summary
    assert s.sdk_retries > 0
    assert s.attempts + s.sdk_retries == stats["PutEventsRequests"]


def test_dry_run_writes_the_wire_bodies(tmp_path):
    path = tmp_path / "dry.jsonl"
    requests = make_requests(5, events=2)
    handle = stream(requests, rate=1000, target=JsonlTarget(path), wait=True)
    assert handle.summary.complete
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [json.loads(Prepared(r).body) for r in requests]


def test_processes_share_the_rate_and_merge_their_logs():
    requests = make_requests(120, events=2)
    with LocalTracker(max_tps=None, process=True) as tracker:
        target = FastTarget(endpoint_url=tracker.endpoint_url)
        handle = stream(requests, rate=200, processes=2, tracking_id=tracker.tracking_id,
                        target=target, wait=True)  # fmt: skip
        ids = stored_ids(tracker)
    s = handle.summary
    assert s.complete and s.balanced and s.delivered_events == 240
    assert sorted(ids) == sorted(all_ids(requests))
    log = handle.log
    assert set(log["worker"]) == {0, 1}
    assert (log["worker"].value_counts() == 60).all()
    first = log[log["attempt"] == 1].sort_values("intended")
    # the two workers interleave on one schedule: 200/s overall, 5 ms apart
    gaps = first["intended"].diff().dropna()
    assert gaps.to_numpy() == pytest.approx(0.005, abs=1e-6)
