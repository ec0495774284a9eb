"""Retries that ride out outages and throttling, under the default policy.

The full-length scenarios run on a :class:`VirtualClock` with an in-memory tracker whose
faults follow that clock (deterministic, and 20 s of throttling costs no real time); the
real-emulator versions below check the same over HTTP, with real time kept short.
"""

from __future__ import annotations

import time

import pytest

from personalize_sim import stream
from personalize_sim.clock import VirtualClock
from personalize_sim.streaming import Boto3Target, FastTarget, MemoryTarget, RetryPolicy
from personalize_sim.streaming._adaptive import AdaptiveRate
from personalize_sim.streaming._retry import CONNECTION_ERROR
from personalize_sim.tracker import LocalTracker
from personalize_sim.tracker._faults import TokenBucket

from ..ports import reserved_port
from .conftest import make_requests

pytestmark = pytest.mark.timeout(180)


def test_a_10_s_outage_mid_run_ends_with_zero_dead_letters_under_the_defaults():
    clock = VirtualClock()

    def down_from_5_to_15_s(request, attempt):
        return CONNECTION_ERROR if 5.0 <= clock.now() < 15.0 else None

    target = MemoryTarget(respond=down_from_5_to_15_s)
    handle = stream(make_requests(400), rate=20, target=target, clock=clock, rng=1, wait=True)
    s = handle.summary
    assert s.connection_errors > 100  # the outage was seen, and ridden out
    assert s.dead_letter_requests == 0 and s.complete and s.balanced
    ids = [r["eventList"][0]["eventId"] for r in target.requests]
    assert len(ids) == len(set(ids)) == 400


def throttling_tracker(clock, quota):
    bucket = TokenBucket(quota, clock=clock)
    return MemoryTarget(respond=lambda request, attempt: None if bucket.take() else
                        "ThrottlingException")  # fmt: skip


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_throttling_at_5x_the_quota_for_20_s_delivers_every_event_once(mode):
    clock = VirtualClock()
    quota = 20.0
    target = throttling_tracker(clock, quota)
    handle = stream(make_requests(int(5 * quota * 20)), rate=5 * quota, target=target,
                    clock=clock, rng=2, retry=RetryPolicy(mode=mode), wait=True)  # fmt: skip
    s = handle.summary
    assert s.throttled > 0 and s.retry_mode == mode
    assert s.dead_letter_requests == 0 and s.complete
    ids = [r["eventList"][0]["eventId"] for r in target.requests]
    assert len(ids) == len(set(ids)) == 2000
    # the tracker's quota is the limit: it took at least 2000 / 20 = 100 s
    assert s.duration_s >= 0 and clock.now() >= 100 - 1
    if mode == "adaptive":  # the client-side rate settled near the quota: few wasted attempts
        assert s.throttled < 0.5 * s.delivered_requests
        assert str(s.limited_by) == "server" and "adaptive" not in s.advice("cli")


def test_adaptive_mode_wastes_fewer_attempts_than_standard():
    throttled = {}
    for mode in ("standard", "adaptive"):
        clock = VirtualClock()
        target = throttling_tracker(clock, 20.0)
        handle = stream(make_requests(600), rate=100, target=target, clock=clock, rng=3,
                        retry=RetryPolicy(mode=mode), wait=True)  # fmt: skip
        assert handle.summary.complete
        throttled[mode] = handle.summary.throttled
    assert throttled["adaptive"] < throttled["standard"] / 3, throttled


def test_the_adaptive_rate_backs_off_on_throttling_and_probes_back_up():
    limiter = AdaptiveRate(now=0.0)
    for i in range(40):  # 20 answers a second for 2 s
        limiter.on_response(i / 20, throttled=False)
    assert not limiter.enabled and limiter.ready_at(2.0) == 2.0
    limiter.on_response(2.0, throttled=True)
    cut = limiter.rate
    assert limiter.enabled and cut == pytest.approx(0.7 * limiter.measured)
    limiter.take(2.0)
    assert limiter.ready_at(2.0) > 2.0  # the bucket now gates sends
    rates = []
    t = 2.0
    while t < 12.0:  # successes only: the rate climbs back (CUBIC), past where it was cut
        t += 1 / max(limiter.rate, 1)
        limiter.on_response(t, throttled=False)
        rates.append(limiter.rate)
    assert rates[-1] > cut and rates == sorted(rates)


# -- over real HTTP ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_10_s_tracker_restart_mid_run_loses_nothing_under_the_defaults(tmp_path):
    db = tmp_path / "events.db"
    requests = make_requests(500)
    port = reserved_port()  # the tracker comes back on it
    tracker = LocalTracker(max_tps=None, db_path=db, port=port, process=True).start()
    target = Boto3Target(endpoint_url=tracker.endpoint_url, region="us-east-1")
    handle = stream(requests, rate=40, target=target, tracking_id="tid", rng=4, wait=False)
    try:
        wait_for(lambda: handle.live_summary().delivered_requests >= 40)
        tracker.close()  # the outage begins
        down = time.monotonic()
        wait_for(lambda: handle.live_summary().connection_errors >= 20)
        time.sleep(max(0.0, 10.0 - (time.monotonic() - down)))
        tracker = LocalTracker(max_tps=None, db_path=db, port=port, process=True).start()
        s = handle.wait(timeout=150)
        ids = list(tracker.events()["EVENT_ID"])
    finally:
        handle.stop()
        tracker.close()
    assert s.connection_errors >= 20
    assert s.dead_letter_requests == 0 and s.complete and s.balanced
    assert sorted(ids) == sorted(r["eventList"][0]["eventId"] for r in requests)


@pytest.mark.slow
def test_throttling_at_5x_the_quota_over_http_delivers_every_event_once():
    # 5x the quota for 2 s instead of 20 s: the policy's times are scaled down 10x with it
    quota = 40.0
    requests = make_requests(int(5 * quota * 2), events=2)
    with LocalTracker(max_tps=quota, process=True) as tracker:
        target = FastTarget(endpoint_url=tracker.endpoint_url)
        handle = stream(requests, rate=5 * quota, target=target, tracking_id="tid", rng=5,
                        retry=RetryPolicy(base=0.005, cap=0.5, deadline=12.0),
                        wait=True)  # fmt: skip
        stats = tracker.stats()
        ids = list(tracker.events()["EVENT_ID"])
    s = handle.summary
    assert s.throttled > 0 and stats["throttled"] == s.throttled
    assert s.dead_letter_requests == 0 and s.complete
    assert len(ids) == len(set(ids)) == 800 and stats["duplicates"] == 0


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
