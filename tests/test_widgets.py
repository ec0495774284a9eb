"""Dashboard: its numbers equal the delivery log's summary, whatever the stream's state."""

from __future__ import annotations

import logging

import pytest

from personalize_sim import stream
from personalize_sim.clock import VirtualClock
from personalize_sim.streaming import MemoryTarget, Target, open_stream
from personalize_sim.widgets import Dashboard
from personalize_sim.widgets._panels import counters

from .streaming.conftest import make_requests


def requests(n: int) -> list[dict]:
    return make_requests(n, events=2, sessions=4)


def throttle_s0(request, attempt):
    """Every 4th request is throttled on its first attempt."""
    return "ThrottlingException" if request["sessionId"] == "s0" and attempt == 1 else None


def virtual(n=40, *, respond=throttle_s0, **kwargs):
    """An unstarted stream of n requests in virtual time."""
    return open_stream(requests(n), rate=10, target=MemoryTarget(respond), clock=VirtualClock(),
                  rng=1, **kwargs)  # fmt: skip


def assert_shows(dash: Dashboard, summary: dict) -> None:
    shown = dash.state
    assert shown["counters"] == counters(summary)
    assert shown["counters"]["delivered"] == summary.delivered_events
    assert shown["counters"]["dead_lettered"] == summary.dead_letter_events
    assert shown["counters"]["retried"] == summary.retried
    assert shown["counters"]["throttled"] == summary.throttled
    finished = summary.delivered_events + summary.dead_letter_events
    assert shown["progress"] == (finished, summary.input_events)
    assert shown["final"] and shown["state"] == summary.state


def test_numbers_match_the_summary_at_the_end():
    handle = virtual()
    dash = Dashboard(handle)
    handle.start()
    summary = dash.wait(timeout=30)
    assert summary.complete and summary.throttled == 10
    assert_shows(dash, summary)
    assert dash.state["counters"]["delivered"] == 80 == dash.progress.value == dash.progress.max
    assert dash.state["errors"] == {"ThrottlingException": 10}
    assert "ThrottlingException</td><td style='text-align:right'>10<" in dash.errors.value
    assert dash.progress.bar_style == "success" and dash.progress.description == "100%"
    assert "done" in dash.title.value
    assert all(b.disabled for b in (dash.pause_button, dash.resume_button, dash.stop_button))
    assert dash.rate_slider.disabled


def test_the_charts_are_svg_replaced_never_appended():
    handle = virtual(60)
    clock = VirtualClock()
    dash = Dashboard(handle, clock=clock, start=False)

    def redraw_every_ten(record):  # three redraws while running, one a second apart
        if len(handle.delivery_log.records) in (10, 20, 30):
            clock.advance(100.0)  # past the chart interval, however long a redraw took
            dash.update()

    handle.add_listener(redraw_every_ten)
    handle.start()
    dash.wait(timeout=30)  # and the final one
    assert dash.charts == 4
    for chart, name in ((dash.rate_chart, "rate"), (dash.latency_chart, "latency")):
        assert chart.value.startswith(f"<svg class='ps-chart-{name}'")
        assert chart.value.count("<svg") == 1  # replaced, not appended
    # the labels are text the browser draws, in full
    for label in ("achieved", "target", "p50 from intended", "p99 service"):
        assert f">{label}</text>" in dash.rate_chart.value + dash.latency_chart.value


def test_updates_are_throttled_to_four_per_second():
    handle = virtual()
    clock = VirtualClock()
    dash = Dashboard(handle, clock=clock, start=False)
    assert dash.updates == 1  # the first view
    updated = []
    for _ in range(200):  # two virtual seconds, asked every 10 ms
        clock.advance(0.01)
        updated.append(dash.update())
    assert sum(updated) == 8 and dash.updates == 9
    assert Dashboard(virtual(), interval=1.0, clock=clock, start=False).interval == 1.0
    with pytest.raises(ValueError, match=r"^interval: got 0.1; a finite number >= 0.25"):
        Dashboard(handle, interval=0.1)
    with pytest.raises(ValueError, match="chart_interval"):
        Dashboard(handle, chart_interval=0)


def test_attached_to_a_finished_stream_it_shows_the_final_state():
    handle = virtual()
    handle.start()
    summary = handle.wait(timeout=30)
    dash = Dashboard(handle)
    assert dash._thread is None  # nothing left to watch
    assert_shows(dash, summary)
    assert dash.state["errors"] == {"ThrottlingException": 10}  # taken from the log
    assert "<svg" in dash.rate_chart.value  # the chart is drawn from the log too


def test_attached_to_a_stopped_stream_it_shows_stopped_and_pending():
    handle = virtual(40)

    def stop_at_ten(record):
        if len(handle.delivery_log.records) == 10:
            handle.stop()

    handle.add_listener(stop_at_ten)
    handle.start()
    summary = handle.wait(timeout=30)
    dash = Dashboard(handle)
    assert summary.state == "stopped" and summary.pending_events > 0
    assert_shows(dash, summary)
    assert dash.progress.bar_style == "warning"
    assert dash.progress.value < dash.progress.max
    assert "stopped" in dash.title.value


class Broken(Target):
    name = "broken"

    async def open(self):
        raise OSError("the tracker is unreachable")


def test_attached_to_a_failed_stream_it_shows_the_error_instead_of_raising():
    handle = open_stream(requests(5), rate=10, target=Broken(), clock=VirtualClock())
    dash = Dashboard(handle)
    handle.start()
    with pytest.raises(OSError, match="unreachable"):
        dash.wait(timeout=30)  # wait re-raises, as handle.wait does …
    assert dash.state["final"]  # … but the view is final and shows it
    assert (
        "failed" in dash.title.value and "OSError: the tracker is unreachable" in dash.title.value
    )
    assert dash.progress.bar_style == "danger"
    later = Dashboard(handle)  # attaching afterwards never raises
    assert "the tracker is unreachable" in later.title.value


def test_attaching_mid_stream_misses_and_doubles_no_record():
    handle = virtual(30)
    attached = []

    def attach_at_seven(record):
        if len(handle.delivery_log.records) == 7 and not attached:
            attached.append(Dashboard(handle, clock=VirtualClock(), start=False))

    handle.add_listener(attach_at_seven)
    handle.start()
    summary = handle.wait(timeout=30)
    (dash,) = attached
    dash.update(force=True)
    assert dash.records_seen == len(handle.log) == summary.attempts
    assert sum(dash.state["errors"].values()) == summary.throttled
    assert_shows(dash, summary)


def test_controls_are_wired_to_the_handle():
    # real time, slow enough that the stream is still running while we press the buttons
    handle = open_stream(requests(200), rate=20, target=MemoryTarget())
    dash = Dashboard(handle)
    handle.start()
    try:
        dash.pause_button.click()
        assert handle.state == "paused" and dash.pause_button.disabled
        assert not dash.resume_button.disabled
        dash.resume_button.click()
        assert handle.state == "running"
        dash.rate_slider.value = 50.0
        assert handle.summary.target_rate == 50.0
        handle.set_rate(400.0)  # outside the slider's range: the slider follows
        dash.update(force=True)
        assert dash.rate_slider.value == pytest.approx(400.0) and dash.rate_slider.max > 2.6
        assert handle.summary.target_rate == 400.0  # following did not echo a set_rate
        dash.stop_button.click()
    finally:
        handle.stop()
    summary = dash.wait(timeout=30)
    assert summary.state == "stopped"
    assert_shows(dash, summary)


def test_a_broken_dashboard_never_stops_the_stream(caplog):
    handle = virtual()
    dash = Dashboard(handle, clock=VirtualClock(), start=False)

    def bug(summary):
        raise KeyError("a dashboard bug")

    dash._show_numbers = bug
    handle.start()
    with caplog.at_level(logging.ERROR, logger="personalize_sim.widgets"):
        assert dash.update(force=True) is False
        assert dash.update(force=True) is False
        summary = handle.wait(timeout=30)
    assert summary.complete
    failures = [r for r in caplog.records if "dashboard failed" in r.getMessage()]
    assert len(failures) == 1  # logged once, not per update


def test_stream_dashboard_true_makes_handle_dashboard(capsys):
    handle = stream(requests(12), rate=10, target=MemoryTarget(), clock=VirtualClock(),
                    dashboard=True, wait=False)  # fmt: skip
    assert isinstance(handle.dashboard, Dashboard)
    summary = handle.dashboard.wait(timeout=30)
    assert_shows(handle.dashboard, summary)
    assert "VBox" in capsys.readouterr().out  # displayed once (plain text outside Jupyter)


def test_stream_without_dashboard_has_none():
    handle = stream(requests(2), rate=10, target=MemoryTarget(), clock=VirtualClock(), wait=True)
    assert handle.dashboard is None


def test_dashboard_rejects_what_is_not_a_handle():
    with pytest.raises(TypeError, match=r"^handle: got .*; a StreamHandle"):
        Dashboard(object())  # type: ignore[arg-type]


def test_a_dashboard_that_cannot_start_leaves_the_stream_running(monkeypatch, caplog):
    import personalize_sim.widgets as widgets

    def cannot_start(handle):
        raise RuntimeError("no frontend")

    monkeypatch.setattr(widgets, "Dashboard", cannot_start)
    with caplog.at_level(logging.ERROR, logger="personalize_sim.streaming"):
        handle = stream(requests(4), rate=10, target=MemoryTarget(), clock=VirtualClock(),
                        dashboard=True, wait=True)  # fmt: skip
    assert handle.dashboard is None and handle.summary.complete
    assert "the dashboard could not be shown" in caplog.text


def test_the_rate_line_names_the_limit_and_the_advice_in_python_terms():
    import dataclasses

    from personalize_sim.streaming import Limit
    from personalize_sim.widgets._panels import rates_html as _rates_html

    handle = stream(make_requests(10), rate=100, target=MemoryTarget(), clock=VirtualClock(),
                    wait=True)  # fmt: skip
    assert "bottleneck" not in _rates_html(handle.summary)
    capped = dataclasses.replace(
        handle.summary, limited_by=Limit.IN_FLIGHT, bottleneck=True, diagnosis="64 of 64 busy"
    )
    line = _rates_html(capped)
    assert "the client is the bottleneck" in line and "in-flight cap: 64 of 64 busy" in line
    assert "Pacing(max_in_flight=…)" in line and "--max-in-flight" not in line
