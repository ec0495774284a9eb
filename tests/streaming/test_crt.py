"""The native transport (awscrt) against the real emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time

import pytest

from personalize_sim import stream
from personalize_sim.clock import VirtualClock
from personalize_sim.errors import ConfigError, DeliveryError
from personalize_sim.streaming import Boto3Target, CrtTarget, FastTarget, RetryPolicy
from personalize_sim.streaming._transports import fast_target, make_target
from personalize_sim.streaming._wire import Prepared
from personalize_sim.tracker import LocalTracker

from ..ports import reserved_port
from .conftest import make_requests

pytest.importorskip("awscrt")
pytestmark = pytest.mark.timeout(120)


def stored(tracker):
    frame = tracker.events().drop(columns=["RECEIVED_AT"])
    return frame.sort_values("EVENT_ID").reset_index(drop=True)


def varied_requests():
    requests = make_requests(30, events=4)
    for r in requests[::3]:  # optional members too
        r["eventList"][0].update(eventValue=1.5, properties='{"discount": "Yes"}',
                                 impression=["i1", "i2"], recommendationId="RID-1")  # fmt: skip
    return requests


def transport(kind, tracker):
    where = {"endpoint_url": tracker.endpoint_url, "region": "us-east-1"}
    if kind == "crt":
        return CrtTarget(**where)
    if kind == "fast":
        return FastTarget(**where)
    return Boto3Target(tracker.client(retries={"total_max_attempts": 1}))


def test_boto3_fast_and_crt_leave_identical_stores_and_pass_signature_checks():
    requests = varied_requests()
    frames = {}
    for kind in ("boto3", "fast", "crt"):
        with LocalTracker(max_tps=None, verify_signature=True, process=False) as tracker:
            handle = stream(requests, rate=500, target=transport(kind, tracker),
                            tracking_id=tracker.tracking_id, wait=True)  # fmt: skip
            assert handle.summary.complete, handle.dead_letters
            assert handle.summary.settings.transport == kind
            stats = tracker.stats()
            assert stats["PutEvents4xxErrors"] == 0 and stats["duplicates"] == 0
            assert stats["PutEventsRequests"] == handle.summary.attempts == 30
            frames[kind] = stored(tracker)
    assert len(frames["crt"]) == 120 and frames["crt"]["EVENT_ID"].is_unique
    assert frames["crt"].equals(frames["boto3"])
    assert frames["crt"].equals(frames["fast"])


def test_every_event_is_stored_exactly_once_with_signatures_checked():
    requests = make_requests(300, events=2)
    with LocalTracker(max_tps=None, verify_signature=True, process=False) as tracker:
        handle = stream(requests, rate=2000, target=CrtTarget(endpoint_url=tracker.endpoint_url),
                        tracking_id=tracker.tracking_id, wait=True)  # fmt: skip
        ids = list(tracker.events()["EVENT_ID"])
        stats = tracker.stats()
    s = handle.summary
    assert s.complete and s.balanced and s.delivered_events == 600
    assert sorted(ids) == sorted(e["eventId"] for r in requests for e in r["eventList"])
    assert stats["duplicates"] == 0 and stats["PutEvents4xxErrors"] == 0


def test_a_wrong_secret_gets_403_and_nothing_is_stored(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with LocalTracker(max_tps=None, verify_signature=True, process=False) as tracker:
        handle = stream(make_requests(3), rate=100, tracking_id=tracker.tracking_id,
                        target=CrtTarget(endpoint_url=tracker.endpoint_url), wait=True)  # fmt: skip
        assert tracker.events().empty
        assert tracker.stats()["PutEvents4xxErrors"] == 3
    s = handle.summary
    assert s.dead_letter_requests == 3 and s.client_errors == 3 and s.delivered_events == 0
    assert set(handle.dead_letters["error_code"]) == {"InvalidSignatureException"}
    assert set(handle.log["status"]) == {403}


def test_the_signed_headers_and_body_are_botocores():
    """The same request signed by botocore (FastTarget) and by the CRT: same signed header
    list, same body, and each signature verifies."""
    request = make_requests(1, events=2)[0]
    body = Prepared(request).body

    async def both():
        crt = CrtTarget(endpoint_url="http://127.0.0.1:9", access_key_id="AK",
                        secret_access_key="SK")  # fmt: skip
        fast = FastTarget(endpoint_url="http://127.0.0.1:9", region="us-east-1",
                          access_key_id="AK", secret_access_key="SK")  # fmt: skip
        await crt.open()
        await fast.open()
        try:
            return dict(crt.signed_request(body).headers), fast.signed_headers(body)
        finally:
            await crt.close()
            await fast.close()

    crt_headers, fast_headers = asyncio.run(both())

    def signed(authorization):
        return authorization.split("SignedHeaders=")[1].split(",")[0]

    assert signed(crt_headers["Authorization"]) == signed(fast_headers["Authorization"])
    assert "Credential=AK/" in crt_headers["Authorization"]
    assert "/us-east-1/personalize/aws4_request" in crt_headers["Authorization"]
    assert crt_headers["content-type"] == fast_headers["Content-Type"] == "application/json"
    assert crt_headers["content-length"] == str(len(body))


def test_fast_picks_the_native_transport_when_awscrt_is_installed():
    assert isinstance(make_target("crt"), CrtTarget)
    assert isinstance(make_target("fast"), CrtTarget)
    assert type(make_target("aiohttp")) is FastTarget
    with LocalTracker(max_tps=None, process=False) as tracker:
        target = fast_target(endpoint_url=tracker.endpoint_url, connections=8)
        handle = stream(make_requests(2), rate=100, tracking_id=tracker.tracking_id,
                        target=target, wait=True)  # fmt: skip
    summary = handle.summary
    assert summary.complete
    assert summary.settings.transport == "crt" and summary.settings.pool == ("connections", 8)
    assert "crt" in summary._repr_html_()


def test_missing_credentials_fail_before_the_first_send(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    target = CrtTarget(endpoint_url="https://personalize-events.example.com", region="us-east-1")
    with pytest.raises(ConfigError, match="no AWS credentials found for https://personalize"):
        stream(make_requests(1), rate=10, target=target, tracking_id="t")


def test_verification_can_be_turned_off_only_for_a_loopback_endpoint(tmp_path):
    with pytest.raises(ConfigError, match="only for a loopback endpoint"):
        CrtTarget(endpoint_url="https://example.com", insecure_local_tls=True)
    CrtTarget(endpoint_url="https://127.0.0.1:8443", insecure_local_tls=True)
    with pytest.raises(ConfigError, match=r"ca_file: got .*; the path of an existing PEM file"):
        CrtTarget(endpoint_url="https://127.0.0.1:8443", ca_file=str(tmp_path / "missing.pem"))


def test_it_runs_in_an_already_running_event_loop():
    """As in a notebook: open, send and close from a coroutine on the caller's own loop."""
    requests = make_requests(20)
    with LocalTracker(max_tps=None, verify_signature=True, process=False) as tracker:

        async def send_all():
            target = CrtTarget(endpoint_url=tracker.endpoint_url)
            await target.open()
            try:
                return await asyncio.gather(*(target.send(Prepared(r)) for r in requests))
            finally:
                await target.close()

        answers = asyncio.run(send_all())
        assert len(tracker.events()) == 20
    assert {a.status for a in answers} == {200}
    assert all(a.started <= a.ended for a in answers)


# -- TLS, with a throwaway CA (the test_ca fixture) --------------------------------------------


def test_over_tls_with_a_test_ca_every_event_is_stored_once_and_a_wrong_secret_gets_403(
    test_ca, monkeypatch
):
    requests = make_requests(100, events=2)
    tls = {"tls_cert": test_ca["cert"], "tls_key": test_ca["key"]}
    with LocalTracker(max_tps=None, verify_signature=True, process=False, **tls) as tracker:
        assert tracker.endpoint_url.startswith("https://127.0.0.1:")
        target = CrtTarget(endpoint_url=tracker.endpoint_url, ca_file=test_ca["ca"])
        handle = stream(requests, rate=1000, target=target, tracking_id=tracker.tracking_id,
                        wait=True)  # fmt: skip
        ids = list(tracker.events()["EVENT_ID"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        wrong = stream(make_requests(3, tracking_id="other"), rate=100, wait=True,
                       target=CrtTarget(endpoint_url=tracker.endpoint_url, ca_file=test_ca["ca"]),
                       tracking_id=tracker.tracking_id)  # fmt: skip
        stats = tracker.stats()
    assert handle.summary.complete and handle.summary.delivered_events == 200
    assert sorted(ids) == sorted(e["eventId"] for r in requests for e in r["eventList"])
    assert stats["duplicates"] == 0 and stats["accepted_events"] == 200
    assert wrong.summary.delivered_events == 0 and wrong.summary.client_errors == 3
    assert set(wrong.dead_letters["error_code"]) == {"InvalidSignatureException"}
    assert set(wrong.log["status"]) == {403}


@pytest.mark.slow
def test_a_certificate_that_does_not_verify_is_refused_naming_the_endpoint(test_ca):
    """Unknown to the system's CAs, signed by another CA, or for another host name: each
    stream fails naming the endpoint, nothing is sent. (awscrt's TLS, s2n, reports a failed
    handshake only after a random 10-30 s "blinding" delay, so the three run at once.)"""
    good = {"tls_cert": test_ca["cert"], "tls_key": test_ca["key"]}
    wrong_host = {"tls_cert": test_ca["wrong_host_cert"], "tls_key": test_ca["wrong_host_key"]}
    with (
        LocalTracker(max_tps=None, process=False, **good) as tracker,
        LocalTracker(max_tps=None, process=False, **wrong_host) as other,
    ):
        cases = {  # why it fails: (endpoint, the CA file given)
            "the system's CAs do not know the test CA": (tracker.endpoint_url, None),
            "a CA that did not sign it": (tracker.endpoint_url, test_ca["other_ca"]),
            "a certificate for another host name": (other.endpoint_url, test_ca["ca"]),
        }
        handles = {}
        for why, (url, ca_file) in cases.items():
            target = CrtTarget(endpoint_url=url, ca_file=ca_file)
            handles[why] = stream(make_requests(3), rate=100, target=target, wait=False,
                                  tracking_id=tracker.tracking_id)  # fmt: skip
        for why, handle in handles.items():
            with pytest.raises(ConfigError, match="TLS with " + cases[why][0]) as caught:
                handle.wait(timeout=90)
            assert "ca_file=" in str(caught.value), why
        for emulator in (tracker, other):
            assert emulator.stats()["PutEventsRequests"] == 0
            assert emulator.events().empty


def test_only_the_explicit_local_testing_flag_skips_verification(test_ca):
    tls = {"tls_cert": test_ca["wrong_host_cert"], "tls_key": test_ca["wrong_host_key"]}
    with LocalTracker(max_tps=None, process=False, **tls) as tracker:
        target = CrtTarget(endpoint_url=tracker.endpoint_url, insecure_local_tls=True)
        handle = stream(make_requests(3), rate=100, target=target,
                        tracking_id=tracker.tracking_id, wait=True)  # fmt: skip
        assert len(tracker.events()) == 3
    assert handle.summary.complete


# -- lost connections -------------------------------------------------------------------------


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.slow
def test_connections_dropped_mid_request_are_retried_counted_and_nothing_is_stored_twice(
    tmp_path,
):
    """The emulator dies (SIGKILL) with requests on the wire (each held 300 ms), then comes
    back on the same port: the dropped requests are retried on new connections."""
    db = tmp_path / "events.db"
    requests = make_requests(150)
    options = {"max_tps": None, "db_path": db, "process": True, "latency_ms": 300}
    port = reserved_port()  # the tracker comes back on it
    tracker = LocalTracker(**options, port=port).start()
    target = CrtTarget(endpoint_url=tracker.endpoint_url, connections=16)
    retry = RetryPolicy(base=0.05, cap=0.5)
    handle = stream(requests, rate=50, target=target, tracking_id="tid", rng=5, retry=retry,
                    wait=False)  # fmt: skip
    try:
        wait_for(lambda: handle.live_summary().delivered_requests >= 20)
        tracker.kill()  # mid-request: about 15 requests are on the wire
        tracker.close()  # its pipes (the process is gone already)
        wait_for(lambda: handle.live_summary().connection_errors >= 5)
        tracker = LocalTracker(**options, port=port).start()
        s = handle.wait(timeout=90)
        ids = list(tracker.events()["EVENT_ID"])
    finally:
        handle.stop()
        tracker.close()
    assert s.connection_errors >= 5 and s.retried >= s.connection_errors
    assert s.dead_letter_requests == 0 and s.complete and s.balanced
    assert sorted(ids) == sorted(r["eventList"][0]["eventId"] for r in requests)
    log = handle.log
    dropped = log[log["error_code"] == "ConnectionError"]
    assert len(dropped) == s.connection_errors and set(dropped["status"]) == {0}


def test_connections_the_server_closed_while_idle_are_replaced_without_errors():
    """The emulator closes idle keep-alive connections after 0.2 s; later sends open new ones."""
    with LocalTracker(max_tps=None, idle_timeout=0.2, process=False) as tracker:

        async def two_bursts():
            target = CrtTarget(endpoint_url=tracker.endpoint_url, connections=4)
            await target.open()
            try:
                first = await asyncio.gather(*(target.send(Prepared(r)) for r in batch(0)))
                await asyncio.sleep(1.0)  # idle well past the server's timeout
                stale = len(target._live.idle)
                second = await asyncio.gather(*(target.send(Prepared(r)) for r in batch(1)))
                return first + second, stale
            finally:
                await target.close()

        def batch(n):
            return make_requests(16)[8 * n : 8 * n + 8]

        answers, stale = asyncio.run(two_bursts())
        assert len(tracker.events()) == 16
    assert stale >= 1  # connections were pooled, and the server then closed them
    assert [a.status for a in answers] == [200] * 16


def test_an_endpoint_that_never_answered_ends_the_run_within_seconds_naming_it(refused_url):
    url = refused_url
    clock = VirtualClock()  # the run's own seconds, which a busy host does not stretch
    handle = stream(make_requests(20), rate=100, target=CrtTarget(endpoint_url=url), rng=0,
                    clock=clock, wait=False)  # fmt: skip
    with pytest.raises(DeliveryError, match="never answered") as info:
        handle.wait(timeout=30)
    # it ends once refused for NEVER_ANSWERED_S (2 s), not at the retry deadline (120 s)
    assert clock.now() < 8
    assert url in str(info.value)
    s = handle.summary
    assert s.dead_letter_requests == 0 and s.pending_requests == s.input_requests


@pytest.mark.slow
def test_worker_processes_each_get_their_own_native_transport():
    requests = make_requests(200, events=2)
    with LocalTracker(max_tps=None, verify_signature=True, process=True) as tracker:
        target = CrtTarget(endpoint_url=tracker.endpoint_url, connections=8)
        handle = stream(requests, rate=400, processes=2, target=target,
                        tracking_id=tracker.tracking_id, wait=True)  # fmt: skip
        ids = list(tracker.events()["EVENT_ID"])
        assert tracker.stats()["PutEvents4xxErrors"] == 0
    s = handle.summary
    assert s.complete and s.settings.transport == "crt" and s.settings.processes == 2
    assert sorted(ids) == sorted(e["eventId"] for r in requests for e in r["eventList"])


def test_an_answer_later_than_the_timeout_is_a_connection_error_saying_so():
    """Every answer 30 s late, the timeout 0.2 s: no answer ever came, so the run ends as
    for an endpoint that never answered, saying why, without waiting for the answers."""
    with LocalTracker(max_tps=None, latency_ms=30_000, process=False) as tracker:
        target = CrtTarget(endpoint_url=tracker.endpoint_url, timeout=0.2)
        handle = stream(make_requests(2), rate=100, target=target, wait=False,
                        tracking_id=tracker.tracking_id)  # fmt: skip
        with pytest.raises(DeliveryError, match=r"no answer within 0\.2 s from http://127"):
            handle.wait(timeout=30)
    s = handle.summary
    assert s.connection_errors >= 2 and s.dead_letter_requests == 0
    # each attempt gave up after its 0.2 s, not after the 30 s answer (the bound leaves a busy
    # host seconds of delay before an attempt is stamped finished)
    assert (handle.log["finished"] - handle.log["sent"]).max() < 10
