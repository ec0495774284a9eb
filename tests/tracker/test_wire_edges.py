"""Edges of the wire protocol, each as a client meets it: the header limit to the byte (a raw
socket), a lone surrogate echoed in a message, a signature scoped to another region (boto3)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from personalize_sim._aws import boto3_client
from personalize_sim.tracker import LocalTracker, TrackerConfig
from personalize_sim.tracker._uvicorn import MAX_HEADER_BYTES
from personalize_sim.tracker.internal import TrackerServer

from .conftest import event, request
from .test_hostile import closed_by_server, connect, read_response


@pytest.fixture(scope="module", params=["httptools", "h11"])
def url(request, tmp_path_factory) -> Iterator[str]:
    """An emulator on each HTTP parser uvicorn may run."""
    server = TrackerServer(
        TrackerConfig(max_tps=0), db_path=tmp_path_factory.mktemp("db") / "e.db", http=request.param
    )
    ready = threading.Event()
    thread = threading.Thread(
        target=server.run, kwargs={"on_ready": lambda _: ready.set()}, daemon=True
    )
    thread.start()
    assert ready.wait(30)
    yield server.url
    server.stop()
    thread.join(30)


def head_of(size: int) -> bytes:
    """A GET /stats request whose request line and headers, blank line included, are
    exactly ``size`` bytes."""
    start, end = b"GET /stats HTTP/1.1\r\nHost: x\r\nX-Pad: ", b"\r\n\r\n"
    return start + b"a" * (size - len(start) - len(end)) + end


@pytest.mark.parametrize(
    ("size", "status"),
    [
        (MAX_HEADER_BYTES - 1, 200),
        (MAX_HEADER_BYTES, 200),
        (MAX_HEADER_BYTES + 1, 431),
        (70_000, 431),  # was answered 200
        (100_000, 431),  # was answered 200
    ],
)
def test_the_header_limit_holds_to_the_byte(url, size, status):
    with connect(url) as sock:
        sock.sendall(head_of(size))
        if status == 200:
            assert read_response(sock)[0] == 200
            return
        answer = closed_by_server(sock)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:80]
    assert b"connection: close" in answer


def test_the_limit_is_counted_across_reads(url):
    """A head sent in small pieces is counted whole, whatever the reads cut it into."""
    with connect(url) as sock:
        head = head_of(MAX_HEADER_BYTES + 1)
        try:
            for at in range(0, len(head), 7_000):
                sock.sendall(head[at : at + 7_000])
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert closed_by_server(sock).startswith(b"HTTP/1.1 431 ")


def test_a_lone_surrogate_is_shown_as_the_request_wrote_it(shared_client):
    """Not a bytes repr (was: Value 'b'?''): the value with its escape, as sent."""
    with pytest.raises(shared_client.exceptions.InvalidInputException) as info:
        shared_client.put_events(**request([event(0)], userId="a\ud800b"))
    assert info.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'a\\ud800b' at 'userId' failed to satisfy "
        "constraint: Member must be a valid Unicode string (no unpaired surrogate)"
    )


def test_a_request_signed_for_another_region_is_refused_as_aws_does():
    with LocalTracker(process=False, verify_signature=True, rng=0) as tracker:
        keys = ("testing", "testing")
        other = boto3_client(region="eu-west-1", endpoint_url=tracker.endpoint_url, keys=keys,
                             retries={"total_max_attempts": 1})  # fmt: skip
        with pytest.raises(ClientError) as info:
            other.put_events(**request([event(0)], trackingId=tracker.tracking_id))
        error = info.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert error["Error"]["Code"] == "InvalidSignatureException"
        assert error["Error"]["Message"].startswith("Credential should be scoped to a valid region")
        assert tracker.client().put_events(**request([event(1)], trackingId=tracker.tracking_id))
        assert tracker.stats()["accepted_events"] == 1
