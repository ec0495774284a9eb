"""stream() with an instant in-memory target under a virtual clock: exact times, exact ledgers."""

import itertools
import logging
import math

import pytest

from personalize_sim import stream
from personalize_sim.clock import VirtualClock
from personalize_sim.errors import ConfigError, ConfigTypeError, PayloadError
from personalize_sim.streaming import (
    Conversion,
    MemoryTarget,
    Pacing,
    Response,
    RetryPolicy,
    constant,
    open_stream,
    poisson,
    ramp,
    rate_function,
    replay,
    steps,
)

from .conftest import make_requests


def run(requests, rate, *, target=None, **kwargs):
    target = MemoryTarget() if target is None else target
    handle = stream(requests, rate=rate, target=target, clock=VirtualClock(), wait=True, **kwargs)
    return handle, target


def sent_times(handle):
    log = handle.log
    return [round(t, 9) for t in log.loc[log["attempt"] == 1, "sent"]]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (10, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),
        (constant(20), [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]),
        (constant(20, per="events"), [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),  # 2 events per request
        (ramp(0, 10, over=2), [round(math.sqrt(k / 2.5), 9) for k in range(6)]),
        (steps([(10, 0.3), (20, 1)]), [0.0, 0.1, 0.2, 0.3, 0.35, 0.4]),
        (rate_function(lambda t: 10), [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),
        (replay(speedup=10), [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),  # sentAt 1 s apart
    ],
)
def test_exact_send_times_for_every_schedule_kind(rate, expected):
    handle, target = run(make_requests(6, events=2), rate)
    assert sent_times(handle) == pytest.approx(expected, abs=1e-9)
    assert len(target.requests) == 6


def test_poisson_send_times_repeat_with_the_seed():
    a, _ = run(make_requests(20), poisson(100, rng=5))
    b, _ = run(make_requests(20), poisson(100, rng=5))
    assert sent_times(a) == sent_times(b)
    assert sent_times(a) != sent_times(run(make_requests(20), poisson(100, rng=6))[0])


def test_summary_ledger_balances_and_counts_all_events():
    handle, target = run(make_requests(7, events=3), 100)
    s = handle.summary
    assert s.input_requests == 7 and s.input_events == 21
    assert s.delivered_events == 21 and s.dead_letter_events == 0
    assert s.balanced and s.complete
    assert s.state == "done"
    assert s.achieved_rate == pytest.approx(100)
    assert target.requests == make_requests(7, events=3)


def test_retries_with_full_jitter_at_exact_times():
    def respond(request, n):  # the first request is throttled twice, then accepted
        return "ThrottlingException" if request["sessionId"] == "s0" and n <= 2 else None

    policy = RetryPolicy(base=0.1, cap=1.0)
    handle, _ = run(make_requests(3), 10, target=MemoryTarget(respond), retry=policy, rng=42)
    log = handle.log
    first = log[log["request_id"] == log["request_id"].iloc[0]]
    assert list(first["attempt"]) == [1, 2, 3]
    assert list(first["outcome"]) == ["retry", "retry", "delivered"]
    import numpy as np

    rng = np.random.default_rng(42)
    d1, d2 = rng.uniform(0, 0.1), rng.uniform(0, 0.2)
    assert list(first["sent"]) == pytest.approx([0.0, d1, d1 + d2])
    assert list(first["intended"]) == [0.0, 0.0, 0.0]
    s = handle.summary
    assert s.throttled == 2 and s.retried == 2 and s.delivered_events == 3
    assert s.latency_intended.max == pytest.approx((d1 + d2) * 1000, rel=1e-3)


def test_invalid_input_goes_to_dead_letters_with_the_service_message():
    def respond(request, n):
        if request["sessionId"] == "s1":
            return Response(400, "InvalidInputException", "Value at 'eventList' failed")
        return None

    handle, target = run(make_requests(6, events=2), 50, target=MemoryTarget(respond))
    s = handle.summary
    assert target.calls[handle.dead_letters["request_id"].iloc[0]] == 1  # never retried
    assert s.dead_letter_requests == 2 and s.dead_letter_events == 4
    assert s.delivered_events == 8
    assert s.balanced and not s.complete
    dead = handle.dead_letters
    assert list(dead["error_code"]) == ["InvalidInputException"] * 2
    assert set(dead["message"]) == {"Value at 'eventList' failed"}
    assert {r["sessionId"] for r in dead["request"]} == {"s1"}
    delivered = set(handle.log.query("outcome == 'delivered'")["request_id"])
    assert delivered.isdisjoint(set(dead["request_id"]))


def test_every_request_ends_exactly_once_under_random_faults():
    import numpy as np

    rng = np.random.default_rng(0)
    codes = ["ThrottlingException", "InternalFailure", "ConnectionError", None, None, None]

    def respond(request, n):
        return codes[rng.integers(len(codes))]

    policy = RetryPolicy(max_attempts=3, base=0.01)
    handle, target = run(
        make_requests(200, events=2), 500, target=MemoryTarget(respond), retry=policy
    )
    s = handle.summary
    assert s.balanced
    assert s.delivered_events + s.dead_letter_events == 400
    log = handle.log
    finals = log[log["outcome"] != "retry"]
    assert finals["request_id"].is_unique and len(finals) == 200
    assert s.delivered_requests == len(target.requests)
    assert s.connection_errors > 0 and s.server_errors > 0 and s.throttled > 0


def test_in_flight_cap_and_missed_sends_when_the_target_is_slow(caplog):
    class Slow(MemoryTarget):
        """Each call takes 0.25 s of virtual time: with one slot, sends wait for it."""

        def __init__(self, clock):
            super().__init__()
            self.clock = clock

        async def send(self, prepared):
            self.clock.advance(0.25)
            return await super().send(prepared)

    clock = VirtualClock()
    with caplog.at_level(logging.WARNING, logger="personalize_sim.streaming"):
        handle = stream(
            make_requests(12), rate=10, target=Slow(clock), clock=clock,
            pacing=Pacing(max_in_flight=1, max_lag=0.3), wait=True,
        )  # fmt: skip
    warnings = [r.getMessage() for r in caplog.records if "bottleneck" in r.getMessage()]
    assert len(warnings) == 1 and "in-flight slots were taken" in warnings[0]
    s = handle.summary
    assert s.missed_sends > 0 and s.bottleneck
    assert s.delivered_events == 12 and s.balanced
    assert s.latency_intended.max > s.latency_service.max


def test_frames_are_converted_and_invalid_rows_raise_before_sending():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "USER_ID": ["u1", "u1", "u2"],
            "SESSION_ID": ["s1", "s1", "s2"],
            "ITEM_ID": ["i1", "i2", "i3"],
            "EVENT_TYPE": ["View", "View", None],
            "TIMESTAMP": pd.to_datetime(
                ["2024-01-01 00:00:00", "2024-01-01 00:00:01", "2024-01-01 00:00:00"], utc=True
            ),
        }
    )
    target = MemoryTarget()
    with pytest.raises(PayloadError, match=r"EVENT_TYPE|eventType"):
        stream(frame, tracking_id="tid", rate=10, target=target, clock=VirtualClock(), wait=True)
    assert target.requests == []
    handle, target = run(frame, 10, tracking_id="tid", conversion=Conversion(invalid="skip"))
    s = handle.summary
    assert s.rejected_rows == 1 and s.delivered_events == 2
    assert not s.complete and s.balanced
    assert len(handle.problems) >= 1
    assert [e["itemId"] for r in target.requests for e in r["eventList"]] == ["i1", "i2"]


def test_an_iterator_of_frames_streams_lazily():
    import pandas as pd

    pulled = []

    def frames():
        for k in range(3):
            pulled.append(k)
            yield pd.DataFrame(
                {
                    "SESSION_ID": [f"s{k}"] * 4,
                    "EVENT_TYPE": ["View"] * 4,
                    "TIMESTAMP": pd.date_range("2024-01-01", periods=4, freq="s", tz="UTC"),
                }
            )

    seen_when_first_sent = []
    handle = stream(
        frames(), tracking_id="tid", rate=10, target=MemoryTarget(), clock=VirtualClock(),
        listeners=[lambda r: seen_when_first_sent.append(len(pulled))], wait=True,
    )  # fmt: skip
    assert handle.summary.delivered_events == 12
    # the first frame's request was on the wire before the last frame was even read
    assert seen_when_first_sent[0] < 3


def test_tracking_id_overrides_requests():
    _, target = run(make_requests(2), 10, tracking_id="other")
    assert {r["trackingId"] for r in target.requests} == {"other"}


def test_listeners_get_every_attempt_and_a_broken_one_is_not_fatal(caplog):
    records = []

    def broken(record):
        raise RuntimeError("widget bug")

    with caplog.at_level(logging.ERROR, logger="personalize_sim.streaming"):
        handle, _ = run(make_requests(5), 10, listeners=[broken, records.append])
    assert [r.request_id for r in records] == list(handle.log["request_id"])
    assert handle.summary.delivered_events == 5
    assert (
        sum("widget bug" in r.getMessage() or "listener" in r.getMessage() for r in caplog.records)
        == 1
    )


def test_controls_from_a_listener_apply_at_once():
    """pause/resume/set_rate/stop called on the stream's own thread act deterministically."""
    clock = VirtualClock()
    calls = []

    def listener(record):
        n = len(calls)
        calls.append(record.sent)
        if n == 2:
            handle_box[0].set_rate(100)
        if n == 5:
            handle_box[0].stop()

    handle_box = []
    target = MemoryTarget()
    # wait=False so the handle exists before the first record
    from personalize_sim.streaming import open_stream

    handle = open_stream(
        make_requests(50), rate=10, target=target, clock=clock, listeners=[listener]
    )
    handle_box.append(handle)
    handle.start()
    s = handle.wait(timeout=30)
    assert calls == pytest.approx([0.0, 0.1, 0.2, 0.21, 0.22, 0.23])
    assert s.state == "stopped"
    assert s.delivered_requests == 6 and s.pending_requests == 44
    assert s.balanced and not s.complete


def test_pause_and_resume_from_another_thread():
    import threading

    clock = VirtualClock()
    paused = threading.Event()
    n = []

    def listener(record):
        n.append(record)
        if len(n) == 3:
            handle_box[0].pause()
            paused.set()

    handle_box = []
    handle = open_stream(make_requests(6), rate=10, target=MemoryTarget(), clock=clock,
                    listeners=[listener])  # fmt: skip
    handle_box.append(handle)
    handle.start()
    assert paused.wait(10)
    assert handle.state == "paused"
    before = len(n)
    clock.advance(5.0)  # time passes while paused; nothing is sent (the loop is parked)
    assert len(n) == before == 3
    handle.resume()
    s = handle.wait(timeout=30)
    assert s.delivered_requests == 6
    sent = [r.sent for r in n]
    assert sent[:3] == pytest.approx([0.0, 0.1, 0.2])
    assert sent[3] >= 5.2 - 1e-9  # the rest of the schedule moved by the pause
    assert [round(b - a, 9) for a, b in itertools.pairwise(sent[3:])] == [0.1, 0.1]


@pytest.mark.parametrize(
    ("build", "field", "error"),
    [
        (lambda: Pacing(max_in_flight=0), "max_in_flight", ConfigError),
        (lambda: Pacing(max_in_flight=1.5), "max_in_flight", ConfigTypeError),
        (lambda: Pacing(max_lag=0), "max_lag", ConfigError),
        (lambda: Conversion(invalid="drop"), "invalid", ConfigError),
        (lambda: Conversion(time_unit="h"), "time_unit", ConfigError),
        (lambda: stream([], rate=1, target=MemoryTarget(), processes=0), "processes", ConfigError),
        (lambda: stream([], rate=0, target=MemoryTarget()), "rate", ConfigError),
        (lambda: stream([], rate=1, target=MemoryTarget(), retry=3), "retry", ConfigTypeError),
        (lambda: stream([], rate=1, target=42), "target", ConfigTypeError),
        (lambda: stream({"a": 1}, rate=1, target=MemoryTarget()), "source", ConfigTypeError),
    ],
)
def test_bad_settings_raise_config_errors_naming_the_argument(build, field, error):
    """One validation style: the project's error, also a ValueError or TypeError as fits."""
    with pytest.raises(error, match=rf"^{field}: got") as info:
        build()
    assert isinstance(info.value, ValueError if error is ConfigError else TypeError)


def test_bad_sources_and_targets():
    import pandas as pd

    with pytest.raises(TypeError, match="source"):
        stream({"trackingId": "x"}, rate=1, target=MemoryTarget())
    with pytest.raises(TypeError, match="target"):
        stream(make_requests(1), rate=1, target=42)
    frame = pd.DataFrame({"SESSION_ID": ["s"]})
    with pytest.raises(ConfigError, match="tracking_id"):
        stream(frame, rate=1, target=MemoryTarget())


def test_handle_repr_and_per_second():
    handle, _ = run(make_requests(30), 10)
    assert "30/30 events delivered" in repr(handle)
    per = handle.per_second()
    assert list(per["second"]) == [0, 1, 2]
    assert list(per["sent"]) == [10, 10, 10]
    assert list(per["target_rate"]) == [10.0, 10.0, 10.0]


def test_a_bad_frame_in_an_iterator_stops_the_stream_there():
    import pandas as pd

    def frames():
        for k, event_type in enumerate(["View", None, "View"]):
            yield pd.DataFrame(
                {
                    "SESSION_ID": [f"s{k}"] * 2,
                    "EVENT_TYPE": [event_type, "View"],
                    "TIMESTAMP": pd.date_range("2024-01-01", periods=2, freq="s", tz="UTC"),
                }
            )

    target = MemoryTarget()
    handle = stream(frames(), tracking_id="tid", rate=10, target=target, clock=VirtualClock(),
                    wait=False)  # fmt: skip
    with pytest.raises(PayloadError, match="row 0"):
        handle.wait(timeout=30)
    s = handle.summary
    assert s.state == "failed"
    assert s.delivered_events == 2 and s.balanced
    assert [r["sessionId"] for r in target.requests] == ["s0"]
