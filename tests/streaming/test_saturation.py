"""Honest numbers at saturation: wire-time stamps, queue time, and a bottleneck named right.

Against the real emulator in its own process (so its latency is not our GIL's), with both
transports given a pool smaller than ``max_in_flight``: requests queue in the client for a
connection or a thread, and that wait must show as queue time, not as the tracker's latency.
"""

from __future__ import annotations

import pytest

from personalize_sim import stream
from personalize_sim.streaming import Boto3Target, FastTarget, MemoryTarget, Pacing
from personalize_sim.streaming._summary import Limit, RunSettings, advice, diagnose
from personalize_sim.tracker import LocalTracker

from .conftest import make_requests

pytestmark = pytest.mark.timeout(120)

LATENCY_MS = 40
POOL = 4


@pytest.mark.parametrize("kind", ["boto3", "fast"])
def test_service_latency_is_the_trackers_when_max_in_flight_exceeds_the_pool(kind):
    with LocalTracker(max_tps=None, latency_ms=LATENCY_MS, process=True) as tracker:
        url = tracker.endpoint_url
        target = (
            FastTarget(endpoint_url=url, connections=POOL)
            if kind == "fast"
            else Boto3Target(endpoint_url=url, region="us-east-1", threads=POOL)
        )
        handle = stream(
            make_requests(100), rate=400, target=target, tracking_id=tracker.tracking_id,
            pacing=Pacing(max_in_flight=64), rng=0, wait=True,
        )  # fmt: skip
        server = tracker.stats()["latency"]
    s = handle.summary
    assert s.complete and s.attempts == 100
    # the client's service time is the tracker's (plus loopback HTTP, thread scheduling and, for
    # boto3, waits for the GIL), not the queue's: stamped at launch instead of on the wire, it
    # would hold the whole wait for a connection (hundreds of ms). Its excess over the tracker's
    # is compared with that wait, not with milliseconds: a busy host stretches both (each send
    # queues behind the sends ahead of it, each as slow as the host makes it)
    queued = s.latency_queue.p50
    for q in ("p50", "p90"):
        excess = getattr(s.latency_service, q) - server[q]
        assert excess < queued / 4, (q, s.latency_service, s.latency_queue, server)
    # 4 on the wire at once, 40 ms each: at most 100 sends/s really left, however many launched
    assert s.achieved_rate < 1.1 * POOL * 1000 / LATENCY_MS
    assert s.latency_queue.p50 > 5 * LATENCY_MS  # the wait for a connection is queue time
    log = handle.log
    assert ((log["finished"] - log["sent"]) * 1000 >= LATENCY_MS - 1).all()
    # at most POOL requests were on the wire at any moment
    assert max_overlap(log["sent"], log["finished"]) <= POOL
    expected = Limit.CONNECTIONS if kind == "fast" else Limit.THREADS
    assert s.limited_by is expected and s.bottleneck
    assert f"{POOL} {expected.value}" in s.diagnosis
    # advice in the caller's terms, never "raise max_in_flight" (already above the pool)
    assert "max_in_flight" not in s.advice() and "--max-in-flight" not in s.advice("cli")
    assert "--connections" in s.advice("cli") and "--" not in s.advice("python")
    if kind == "fast":
        assert "connections=" in s.advice() and "--transport fast" not in s.advice("cli")
    else:
        assert "threads=" in s.advice() and "--transport fast" in s.advice("cli")


def max_overlap(starts, ends) -> int:
    events = sorted([(t, 1) for t in starts] + [(t, -1) for t in ends], key=lambda e: (e[0], e[1]))
    on, peak = 0, 0
    for _, step in events:
        on += step
        peak = max(peak, on)
    return peak


def test_an_unsaturated_stream_names_no_limit_and_queues_nothing():
    handle = stream(make_requests(50), rate=10_000, target=MemoryTarget(), wait=True)
    s = handle.summary
    assert s.limited_by is Limit.NONE and not s.bottleneck and s.advice() == ""
    assert s.latency_queue.count == 50


SETTINGS = {
    "fast": RunSettings(transport="fast", pool=("connections", 64), max_in_flight=64),
    "boto3": RunSettings(transport="boto3", pool=("threads", 16), max_in_flight=64),
}


@pytest.mark.parametrize(
    ("case", "transport", "expected"),
    [
        ({"queued_s": 3.0, "service_s": 1.0}, "fast", Limit.CONNECTIONS),
        ({"queued_s": 3.0, "service_s": 1.0}, "boto3", Limit.THREADS),
        ({"missed_sends": 5, "service_s": 64.0}, "fast", Limit.IN_FLIGHT),
        ({"missed_sends": 5, "service_s": 1.0}, "boto3", Limit.CPU),
        ({"refused": 40}, "fast", Limit.SERVER),
        ({"refused": 1}, "fast", Limit.NONE),
    ],
)
def test_the_diagnosis_names_the_real_limit(case, transport, expected):
    args = {"attempts": 100, "missed_sends": 0, "refused": 0, "queued_s": 0.0,
            "service_s": 1.0, "span_s": 1.0} | case  # fmt: skip
    limit, why = diagnose(**args, settings=SETTINGS[transport])
    assert limit is expected
    assert bool(why) == (expected is not Limit.NONE)


def test_advice_is_never_what_is_already_in_effect():
    fast, boto3 = SETTINGS["fast"], SETTINGS["boto3"]
    assert "--transport fast" not in advice(Limit.CPU, fast, "cli")
    assert "--processes 2" in advice(Limit.CPU, fast, "cli")
    assert "--transport fast" in advice(Limit.CPU, boto3, "cli")
    assert "target='fast'" in advice(Limit.CPU, boto3, "python")
    assert "processes=2" in advice(Limit.CPU, boto3, "python")
    adaptive = RunSettings(transport="fast", retry_mode="adaptive")
    assert "adaptive" in advice(Limit.SERVER, fast, "cli")
    assert "adaptive" not in advice(Limit.SERVER, adaptive, "cli")
    assert "above 64" in advice(Limit.IN_FLIGHT, fast, "python")


def test_retries_inside_a_client_of_your_own_are_counted_and_noted(caplog):
    import logging

    with LocalTracker(max_tps=20, rng=0, process=False) as tracker:
        client = tracker.client()  # boto3's own (legacy) retries left on, as many users do
        with caplog.at_level(logging.WARNING, logger="personalize_sim"):
            handle = stream(make_requests(60), rate=200, target=client, rng=0,
                            tracking_id=tracker.tracking_id, wait=True)  # fmt: skip
        stats = tracker.stats()
    s = handle.summary
    assert s.sdk_retries > 0  # hidden inside boto3 before, counted from RetryAttempts now
    assert s.attempts + s.sdk_retries == stats["PutEventsRequests"]
    assert s.limited_by is Limit.SERVER  # the tracker's throttling, even when boto3 absorbed it
    notes = [r.getMessage() for r in caplog.records if "retries on its own" in r.getMessage()]
    assert len(notes) == 1
