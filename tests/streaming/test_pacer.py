import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize_sim.clock import VirtualClock
from personalize_sim.streaming._pacer import Pacer
from personalize_sim.streaming._schedules import constant, steps


def run(pacer, clock, n, *, events=1, busy=None, before=None):
    """Drive the pacer like the sender does: sleep to each due time, send, maybe stay busy."""
    sends = []
    for i in range(n):
        if before:
            before(i, pacer, clock)
        due = pacer.due(events)
        clock.sleep(due - clock.now())
        release = pacer.release(clock.now())
        sends.append((round(clock.now(), 9), round(release.intended, 9), release.missed))
        if busy:
            clock.sleep(busy(i))
    return sends


def test_send_times_on_an_absolute_schedule():
    clock = VirtualClock(start=5.0)
    pacer = Pacer(constant(10).cursor(), start=clock.now())
    sends = run(pacer, clock, 5)
    assert [s[0] for s in sends] == [5.0, 5.1, 5.2, 5.3, 5.4]
    assert pacer.missed == 0


def test_a_late_send_does_not_delay_the_next_ones():
    clock = VirtualClock()
    pacer = Pacer(constant(10).cursor(), start=0.0, max_lag=1.0)
    # the third send takes 0.25 s of client time: the next two catch up at once
    sends = run(pacer, clock, 6, busy=lambda i: 0.25 if i == 2 else 0.0)
    assert [s[0] for s in sends] == [0.0, 0.1, 0.2, 0.45, 0.45, 0.5]
    assert [s[1] for s in sends] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert pacer.missed == 0


def test_lag_past_the_cap_slips_the_schedule_and_counts_missed_sends():
    clock = VirtualClock()
    pacer = Pacer(constant(10).cursor(), start=0.0, max_lag=0.5)
    # the client stalls 1.05 s after its second send
    sends = run(pacer, clock, 6, busy=lambda i: 1.05 if i == 1 else 0.0)
    # the send due at 0.2 goes out at 1.15 (lag 0.95 > 0.5): the schedule restarts there,
    # and the slots planned for 0.3 … 1.1 (already passed) are counted as missed
    assert [s[0] for s in sends] == pytest.approx([0.0, 0.1, 1.15, 1.25, 1.35, 1.45])
    assert [s[2] for s in sends] == [False, False, True, True, True, True]
    assert [s[1] for s in sends] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert pacer.slips == 1
    more = run(pacer, clock, 10)
    # slots 0.6 … 1.1 were missed too; from 1.2 on the (slipped) schedule is kept
    assert [m[2] for m in more] == [True] * 6 + [False] * 4
    assert pacer.missed == 4 + 6


def test_pause_shifts_the_rest_of_the_schedule():
    clock = VirtualClock()
    pacer = Pacer(constant(10).cursor(), start=0.0)

    def before(i, pacer, clock):
        if i == 3:
            pacer.pause(clock.now())
            clock.sleep(2.0)
            pacer.resume(clock.now())

    sends = run(pacer, clock, 5, before=before)
    assert [s[0] for s in sends] == pytest.approx([0.0, 0.1, 0.2, 2.3, 2.4])
    assert not any(s[2] for s in sends)


def test_set_rate_applies_from_the_next_gap():
    clock = VirtualClock()
    pacer = Pacer(constant(10).cursor(), start=0.0)

    def before(i, pacer, clock):
        if i == 3:
            pacer.set_rate(100, clock.now())

    sends = run(pacer, clock, 6, before=before)
    assert [s[0] for s in sends] == pytest.approx([0.0, 0.1, 0.2, 0.21, 0.22, 0.23])


def test_set_rate_replans_a_request_already_waiting():
    clock = VirtualClock()
    pacer = Pacer(constant(1).cursor(), start=0.0)
    pacer.due(1)
    pacer.release(0.0)
    assert pacer.due(1) == 1.0  # waiting for t = 1 at 1/s
    clock.sleep(0.3)
    pacer.set_rate(100, clock.now())
    assert pacer.due(1) == pytest.approx(0.3)  # one new gap (0.01) after 0 is past: now


def test_events_per_second_and_steps():
    clock = VirtualClock()
    pacer = Pacer(steps([(50, 1), (100, 1)], per="events").cursor(), start=0.0)
    sends = run(pacer, clock, 8, events=10)
    assert [s[0] for s in sends] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.1, 1.2])


def test_release_without_due_is_a_bug():
    with pytest.raises(RuntimeError, match="due"):
        Pacer(constant(1).cursor(), start=0).release(0.0)


def test_max_lag_must_be_positive():
    with pytest.raises(ValueError, match="max_lag"):
        Pacer(constant(1).cursor(), start=0, max_lag=0)


@given(
    busy=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=60),
    rate=st.sampled_from([5.0, 10.0, 40.0]),
    max_lag=st.sampled_from([0.05, 0.3, 1.0]),
)
def test_pacer_invariants_under_any_client_stalls(busy, rate, max_lag):
    clock = VirtualClock()
    pacer = Pacer(constant(rate).cursor(), start=0.0, max_lag=max_lag)
    sends = run(pacer, clock, len(busy), busy=lambda i: busy[i])
    times = [s[0] for s in sends]
    # never early, never out of order, intended times exactly on the schedule
    assert times == sorted(times)
    assert [s[1] for s in sends] == pytest.approx([i / rate for i in range(len(busy))], abs=1e-9)
    assert all(t >= s[1] - 1e-9 for t, s in zip(times, sends, strict=True))
    # a send later than max_lag behind its (slipped) due time never happens
    missed = [s[2] for s in sends]
    assert pacer.missed == sum(missed)
    if not any(missed):
        assert all(t - s[1] <= max_lag + 1e-9 for t, s in zip(times, sends, strict=True))


def test_a_send_held_back_by_the_adaptive_rate_slips_without_counting_as_missed():
    p = Pacer(constant(10).cursor(), start=0.0, max_lag=0.5)
    p.due(1)
    held = p.release(3.0, held=True)  # 3 s late, on purpose
    assert not held.missed and p.missed == 0
    assert p.due(1) == pytest.approx(3.1)  # the schedule slipped: no burst of the backlog
