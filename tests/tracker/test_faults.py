"""The token bucket and the fault plan, exactly, with a virtual clock and a seeded rng."""

from __future__ import annotations

import math

import numpy as np
import pytest

from personalize_sim.clock import VirtualClock
from personalize_sim.errors import ConfigError, ConfigTypeError
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


@pytest.mark.parametrize(
    ("rate", "error"),
    [
        (0, ConfigError),
        (-1, ConfigError),
        (math.inf, ConfigError),
        (math.nan, ConfigError),
        ("5", ConfigTypeError),
        (True, ConfigTypeError),
    ],
)
def test_bucket_rejects_bad_rates(rate, error):
    with pytest.raises(error, match=r"^rate: got .*; a finite number > 0$"):
        TokenBucket(rate)


def test_bucket_rejects_a_burst_under_one_token():
    with pytest.raises(ConfigError, match=r"^burst: got 0.5; a finite number >= 1$"):
        TokenBucket(10, burst=0.5)


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


@pytest.mark.parametrize(
    ("spec", "error", "allowed"),
    [
        ("fast", ConfigError, "a number of ms (5), a range (2..8), exp:MEAN or"),
        ("-1", ConfigError, "a number of ms (5), a range (2..8), exp:MEAN or"),
        (None, ConfigTypeError, "a number of ms (5), a range (2..8), exp:MEAN or"),
        ("8..2", ConfigError, "LOW..HIGH with LOW <= HIGH"),
        ("lognormal:50,5", ConfigError, "lognormal:MEDIAN,P99 with 0 < MEDIAN <= P99"),
        ("exp:0", ConfigError, "exp:MEAN with a MEAN > 0 ms"),
    ],
)
def test_bad_latency_specs_say_how_to_write_one(spec, error, allowed):
    with pytest.raises(error) as info:
        Latency.parse(spec)
    assert info.value.field == "latency_ms"
    assert str(info.value).startswith(f"latency_ms: got {spec!r}; {allowed}")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "gamma"}, "latency_ms.kind"),
        ({"a": -1.0}, "latency_ms.a"),
        ({"b": "x"}, "latency_ms.b"),
    ],
)
def test_latency_fields_are_checked_by_name(changes, field):
    with pytest.raises(ConfigError) as info:
        Latency(**{"kind": "fixed", "a": 1.0, **changes})
    assert info.value.field == field


@pytest.mark.parametrize(
    ("rate", "error"), [(-0.1, ConfigError), (1.5, ConfigError), ("0.5", ConfigTypeError)]
)
def test_fault_plan_rejects_bad_error_rates(rate, error):
    with pytest.raises(error, match=r"^error_rate: got .*; a probability between 0 and 1$"):
        FaultPlan(error_rate=rate)


@pytest.mark.parametrize("statuses", [(), (404,), ("500",), 500])
def test_fault_plan_rejects_statuses_that_are_not_5xx(statuses):
    with pytest.raises(ConfigError, match=r"^error_statuses: got .*; a non-empty list of 5xx"):
        FaultPlan(error_statuses=statuses)
