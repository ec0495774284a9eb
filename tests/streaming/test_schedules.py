import math

import numpy as np
import pytest

from personalize_sim.errors import ConfigError
from personalize_sim.streaming._schedules import (
    constant,
    from_rate,
    poisson,
    ramp,
    rate_function,
    replay,
    steps,
)


def times(schedule, n, events=1, sent_at=None):
    cursor = schedule.cursor()
    return [cursor.next(events, None if sent_at is None else sent_at[i]) for i in range(n)]


def test_constant_requests_per_second_is_exact():
    assert times(constant(10), 5) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4], abs=1e-12)


def test_constant_has_no_accumulated_rounding():
    t = times(constant(3), 30_001)
    assert t[-1] == 10_000.0  # origin + work/rate: one division, no drift


def test_constant_events_per_second_weights_requests_by_their_size():
    cursor = constant(100, per="events").cursor()
    got = [cursor.next(n) for n in (10, 5, 10, 1)]
    assert got == pytest.approx([0.0, 0.10, 0.15, 0.25])


def test_ramp_inverts_the_integral_of_a_linear_rate():
    # rate 0 → 10 over 2 s: work(t) = 2.5 t², so request k is due at sqrt(k / 2.5)
    got = times(ramp(0, 10, over=2), 11)
    assert got == pytest.approx([math.sqrt(k / 2.5) for k in range(11)])
    # after the ramp (10 units of work) the rate holds at 10/s
    assert times(ramp(0, 10, over=2), 13)[-2:] == pytest.approx([2.1, 2.2])


def test_ramp_down():
    got = times(ramp(10, 5, over=1), 10)
    # work(t) = 10t - 2.5t² for t <= 1 (7.5 units)
    # then 5/s: work 8 is 0.5 past the ramp (t = 1.1), work 9 is 1.5 past it (t = 1.3)
    expected = [(10 - math.sqrt(100 - 10 * k)) / 5 for k in range(8)] + [1.1, 1.3]
    assert got == pytest.approx(expected)


def test_steps_including_a_silent_step():
    got = times(steps([(10, 1), (0, 1), (20, 1)]), 14)
    assert got == pytest.approx([*(i / 10 for i in range(10)), 2.0, 2.05, 2.1, 2.15])


def test_poisson_is_seeded_and_exponential():
    a = times(poisson(50, rng=7), 2000)
    b = times(poisson(50, rng=7), 2000)
    assert a == b
    gaps = np.diff(a)
    assert a[0] == 0.0
    rng = np.random.default_rng(7)
    assert gaps[:5] == pytest.approx(rng.exponential(1 / 50, size=5))
    assert gaps.mean() == pytest.approx(1 / 50, rel=0.1)


def test_replay_uses_the_first_event_time_sped_up():
    sent_at = [1000.0, 1060.0, 1090.0, 1030.0]  # the last is out of order
    got = times(replay(speedup=60), 4, sent_at=sent_at)
    assert got == [0.0, 1.0, 1.5, 0.5]


def test_replay_needs_timestamps():
    with pytest.raises(ValueError, match="sentAt"):
        times(replay(), 1)


def test_rate_function_follows_the_function():
    got = times(rate_function(lambda t: 10 if t < 1 else 20), 14)
    assert got == pytest.approx([i / 10 for i in range(11)] + [1.05, 1.1, 1.15])


def test_rate_function_waits_through_zero_rate():
    got = times(rate_function(lambda t: 0 if 0.35 <= t < 1.0 else 10, resolution=0.01), 6)
    assert got[:4] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    # half a request's budget before the silence, the other half after it
    assert got[4] == pytest.approx(1.05, abs=1e-9)


def test_rate_function_rejects_negative_rates():
    with pytest.raises(ConfigError, match=r"rate_function\(t=0.0\): got -1.0; a finite rate >= 0"):
        times(rate_function(lambda t: -1), 2)


def test_with_rate_continues_one_new_gap_after_the_last_request():
    cursor = constant(10).cursor()
    assert [cursor.next(1) for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    cursor = cursor.with_rate(100)
    assert [cursor.next(1) for _ in range(3)] == pytest.approx([0.21, 0.22, 0.23])


def test_with_rate_never_schedules_in_the_past():
    cursor = constant(0.1).cursor()
    cursor.next(1)  # at 0; the next would be at 10
    cursor = cursor.with_rate(10, now=4.0)
    assert cursor.next(1) == 4.0
    assert cursor.next(1) == pytest.approx(4.1)


def test_poisson_keeps_its_shape_when_re_rated():
    cursor = poisson(10, rng=1).cursor()
    cursor.next(1)
    assert type(cursor.with_rate(5)).__name__ == "_PoissonCursor"


def test_scaled_divides_the_rate():
    assert times(constant(10).scaled(0.5), 3) == pytest.approx([0.0, 0.2, 0.4])
    assert times(ramp(0, 10, over=2).scaled(0.5), 2)[1] == pytest.approx(math.sqrt(1 / 1.25))
    assert times(rate_function(lambda t: 10).scaled(0.5), 2)[1] == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: constant(0), "rate: got 0; a finite number > 0"),
        (lambda: constant(float("nan")), "finite"),
        (lambda: constant(True), "rate: got True; a finite number"),
        (lambda: constant(10, per="bytes"), "per: got 'bytes'; one of 'requests', 'events'"),
        (lambda: steps([]), "at least one"),
        (lambda: steps([(10, 1), (0, 1)]), "last step"),
        (lambda: ramp(1, 2, over=0), "over: got 0; a finite number > 0"),
        (lambda: replay(0), "speedup"),
    ],
)
def test_bad_schedules_name_the_value(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_from_rate_shorthand():
    assert from_rate(5) == constant(5)
    s = ramp(1, 2, over=1)
    assert from_rate(s) is s


def test_a_summary_gives_the_ramps_current_target_and_the_whole_schedule():
    from personalize_sim import stream
    from personalize_sim.clock import VirtualClock
    from personalize_sim.streaming import MemoryTarget, ramp

    from .conftest import make_requests

    handle = stream(make_requests(400), rate=ramp(50, 500, over=1), target=MemoryTarget(),
                    clock=VirtualClock(), wait=True)  # fmt: skip
    s = handle.summary
    assert s.target_rate == 500  # where the ramp ended, not where it began (50)
    assert s.settings.schedule == "50 → 500 over 1 s, then 500 requests/s"
    handle.set_rate(200)
    assert handle.summary.settings.schedule.endswith("; set to 200 requests/s while running")
