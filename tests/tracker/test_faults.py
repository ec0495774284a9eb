"""The token bucket and the fault plan, exactly, with a virtual clock and a seeded rng."""

from __future__ import annotations

import math

import numpy as np
import pytest

from personalize_sim.clock import VirtualClock
from personalize_sim.tracker._faults import Fault, FaultPlan, Latency, TokenBucket


def test_bucket_starts_full_then_refills_at_the_rate():
    clock = VirtualClock()
    bucket = TokenBucket(10, clock=clock)
    assert [bucket.take() for _ in range(11)] == [True] * 10 + [False]
    clock.advance(0.1)  # exactly one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.advance(0.05)
    assert not bucket.take()
    assert bucket.tokens == pytest.approx(0.5)
    clock.advance(0.05)
    assert bucket.take()


def test_bucket_never_saves_more_than_burst():
    clock = VirtualClock()
    bucket = TokenBucket(4, burst=2, clock=clock)
    clock.advance(100)
    assert [bucket.take() for _ in range(3)] == [True, True, False]


def test_bucket_refusal_spends_nothing():
    clock = VirtualClock()
    bucket = TokenBucket(1, clock=clock)
    assert bucket.take()
    assert not bucket.take()
    assert not bucket.take()
    clock.advance(1.0)
    assert bucket.take()


def test_bucket_under_overload_admits_burst_plus_rate_times_time():
    clock = VirtualClock()
    bucket = TokenBucket(1024, clock=clock)  # steps of 1/1024 s are exact in binary
    admitted = 0
    for _ in range(3 * 1024):  # 3 s, asking for twice the quota
        admitted += bucket.take() + bucket.take()
        clock.advance(1 / 1024)
    assert admitted == 1024 + (3 * 1024 - 1)  # the full bucket, then one token per step


@pytest.mark.parametrize("rate", [0, -1, math.inf, math.nan, "5"])
def test_bucket_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match="rate must be"):
        TokenBucket(rate)


def test_fault_plan_follows_its_documented_draw_order():
    plan = FaultPlan(error_rate=0.3, latency="2..8", rng=7)
    faults = [plan.draw() for _ in range(200)]
    rng = np.random.default_rng(7)
    expected = []
    for _ in range(200):
        fails = rng.random() < 0.3
        pick = rng.random()
        latency = (2 + 6 * rng.random()) / 1000
        expected.append(
            Fault(latency_s=latency, status=(500, 503)[int(pick * 2)] if fails else None)
        )
    assert faults == expected
    statuses = [f.status for f in faults]
    assert {500, 503, None} == set(statuses)
    assert 40 <= sum(s is not None for s in statuses) <= 80  # about 30% of 200


def test_same_seed_same_faults_other_seed_other_faults():
    def run(seed):
        plan = FaultPlan(error_rate=0.5, latency="exp:5", rng=seed)
        return [plan.draw() for _ in range(50)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_fault_plan_inactive_draws_nothing():
    assert FaultPlan().draw() == Fault(latency_s=0.0, status=None)
    always = FaultPlan(error_rate=1.0, error_statuses=(503,), rng=0)
    assert {always.draw().status for _ in range(20)} == {503}


@pytest.mark.parametrize(
    ("spec", "kind", "a", "b"),
    [
        (5, "fixed", 5.0, 0.0),
        ("5", "fixed", 5.0, 0.0),
        ("2..8", "uniform", 2.0, 8.0),
        ((2, 8), "uniform", 2.0, 8.0),
        ("exp:5", "exponential", 5.0, 0.0),
        ("lognormal:5,50", "lognormal", 5.0, 50.0),
    ],
)
def test_latency_specs(spec, kind, a, b):
    latency = Latency.parse(spec)
    assert (latency.kind, latency.a, latency.b) == (kind, a, b)
    assert Latency.parse(str(latency)) == latency  # the CLI spelling round-trips


def test_lognormal_latency_has_the_asked_median_and_p99():
    latency = Latency.parse("lognormal:5,50")
    rng = np.random.default_rng(0)
    samples = np.array([latency.sample_ms(rng) for _ in range(40_000)])
    assert np.median(samples) == pytest.approx(5, rel=0.05)
    assert np.percentile(samples, 99) == pytest.approx(50, rel=0.1)


@pytest.mark.parametrize("spec", ["fast", "8..2", "-1", "lognormal:50,5", "exp:0", None])
def test_bad_latency_specs_say_how_to_write_one(spec):
    with pytest.raises(ValueError, match="latency"):
        Latency.parse(spec)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_fault_plan_rejects_bad_error_rates(rate):
    with pytest.raises(ValueError, match="error_rate must be a probability"):
        FaultPlan(error_rate=rate)
