"""⑥ A live ipywidgets dashboard for a stream.

In a notebook, ``stream(..., dashboard=True)`` shows one (it is ``handle.dashboard``)::

    fast = FastTarget(endpoint_url=tracker.endpoint_url)
    handle = stream(frame, rate=50, tracking_id=tracker.tracking_id, target=fast, dashboard=True)
    summary = handle.dashboard.wait()     # in a later cell: the stream ended, the view shows it

or attach one to any handle (running, finished or not yet started)::

    dash = Dashboard(handle).display()

How it stays safe in a notebook (``docs/reference/jupyter-widgets.md``): the widget tree is
displayed once, from the caller's thread; afterwards a throttled updater thread (at most
4 updates per second, the chart at most once a second) only assigns trait values, and the
chart's Output widget gets its ``outputs`` replaced in one assignment (never ``with out:``,
which captures whatever any thread prints). The dashboard listens to the stream's attempt
records through a listener that only appends to a queue; any error in the dashboard is
logged once and never reaches the stream.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import html
import io
import logging
import math
import operator
import threading
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from ._checks import instance, number
from ._latency import LatencySummary
from .clock import Clock, SystemClock
from .streaming import DeliverySummary, StreamHandle, StreamState

if TYPE_CHECKING:
    from .streaming import Attempt

__all__ = ["Dashboard"]

logger = logging.getLogger("personalize_sim.widgets")

#: fastest trait updates allowed (seconds between updates): ≤ 4 per second
MIN_INTERVAL = 0.25
#: attempt records kept for the charts (counters come from the delivery log's own counts)
_CHART_RECORDS = 200_000
#: the fields of each attempt record the chart and the live estimates read
_FIELDS = ("attempt", "events", "sent", "intended", "finished", "outcome", "error_code",
           "target_rate")  # fmt: skip
#: share of the time chart redraws may take (they share the GIL with the stream's sender)
CHART_BUDGET = 0.1
#: counters shown, in order: (key, label)
COUNTERS = (
    ("input", "input events"),
    ("sent", "sent requests"),
    ("delivered", "delivered events"),
    ("in_flight", "in flight requests"),
    ("retried", "retried attempts"),
    ("throttled", "throttled attempts"),
    ("dead_lettered", "dead-lettered events"),
    ("pending", "pending events"),
)
_BAR_STYLE = {StreamState.DONE: "success", StreamState.STOPPED: "warning",
              StreamState.FAILED: "danger"}  # fmt: skip


def counters(summary: DeliverySummary) -> dict[str, int]:
    """The dashboard's counters, computed from a stream's summary."""
    sent = summary.sent_requests
    finished = summary.delivered_requests + summary.dead_letter_requests
    return {
        "input": summary.input_events,
        "sent": sent,
        "delivered": summary.delivered_events + summary.resumed_events,
        "in_flight": max(sent - finished, 0),
        "retried": summary.retried,
        "throttled": summary.throttled,
        "dead_lettered": summary.dead_letter_events,
        "pending": summary.pending_events,
    }


class Dashboard:
    """Progress, counters, rate, latency and errors of one stream, with its controls.

    ``handle`` is a :class:`~personalize_sim.streaming.StreamHandle` in any state: attached before
    ``handle.start()`` it sees every attempt; attached to a finished, failed or stopped
    stream it shows that final state. ``interval`` (≥ 0.25 s) spaces the updates of the
    numbers, ``chart_interval`` the redraws of the chart. ``clock`` only paces updates
    (inject a ``VirtualClock`` to drive :meth:`update` by hand in tests); ``start=False``
    leaves the updater thread off.
    """

    def __init__(
        self,
        handle: StreamHandle,
        *,
        interval: float = MIN_INTERVAL,
        chart_interval: float = 1.0,
        clock: Clock | None = None,
        start: bool = True,
    ) -> None:
        # at most 4 updates per second
        self.interval = number(interval, "interval", low=MIN_INTERVAL)
        self.chart_interval = number(chart_interval, "chart_interval", low=MIN_INTERVAL)
        self.handle = instance(handle, "handle", StreamHandle, "a StreamHandle")
        self.clock = clock if clock is not None else SystemClock()
        self.updates = 0  # trait updates made, for tests and curiosity
        self.charts = 0
        self._queue: collections.deque[Attempt] = collections.deque()
        self._columns: dict[str, list[Any]] = {name: [] for name in _FIELDS}
        self.records_seen = 0  # attempt records taken in (each exactly once)
        self._estimates: dict[str, Any] = {}  # live achieved rate and latency percentiles
        self._errors: collections.Counter[str] = collections.Counter()
        self._last_update = -math.inf
        self._next_chart = -math.inf
        self._charted = -1  # records drawn in the last chart
        self._final = False
        self._failed = False  # the dashboard's own bug was logged once
        self._lock = threading.Lock()  # one update at a time (updater thread vs buttons)
        self._local = threading.local()  # marks slider changes made by the dashboard itself
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._build()
        self._attach()
        self.update(force=True)
        if start and not self._final:
            self._thread = threading.Thread(
                target=self._run, name="personalize-sim-dashboard", daemon=True
            )
            self._thread.start()

    # -- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        log = self.handle.delivery_log
        rate, unit = log.target_rate, log.unit
        self.title = w.HTML()
        self.progress = w.IntProgress(value=0, min=0, max=1, description="0%",
                                      layout=w.Layout(width="100%"))  # fmt: skip
        self.progress.add_class("ps-progress")
        self.numbers: dict[str, tuple[w.HTML, str]] = {}
        for key, label in COUNTERS:
            cell = w.HTML(layout=w.Layout(min_width="120px", margin="0 12px 0 0"))
            cell.add_class(f"ps-counter-{key.replace('_', '-')}")
            self.numbers[key] = (cell, label)
        self.counter_box = w.HBox([c for c, _ in self.numbers.values()],
                                  layout=w.Layout(flex_flow="row wrap"))  # fmt: skip
        self.rates = w.HTML()
        self.errors = w.HTML()
        self.errors.add_class("ps-errors")
        self.chart = w.Output(layout=w.Layout(min_height="40px"))
        self.pause_button = w.Button(description="pause", icon="pause")
        self.resume_button = w.Button(description="resume", icon="play")
        self.stop_button = w.Button(description="stop", icon="stop", button_style="danger")
        self.pause_button.on_click(lambda _: self._control("pause"))
        self.resume_button.on_click(lambda _: self._control("resume"))
        self.stop_button.on_click(lambda _: self._control("stop"))
        if isinstance(rate, int | float) and rate > 0:
            self.rate_slider = w.FloatLogSlider(
                value=rate, base=10, min=math.log10(rate) - 1, max=math.log10(rate) + 1,
                step=0.01, description=f"{unit}/s", continuous_update=False,
                readout_format=".4g", style={"description_width": "initial"},
            )  # fmt: skip
        else:  # a replay schedule has no rate to set
            self.rate_slider = w.FloatLogSlider(value=1, description="replay", disabled=True)
        self.rate_slider.observe(self._on_slider, names="value")
        controls = w.HBox(
            [self.pause_button, self.resume_button, self.stop_button, self.rate_slider]
        )
        self.widget = w.VBox(
            [self.title, self.progress, self.counter_box, self.rates, controls, self.chart,
             self.errors],
        )  # fmt: skip
        self.widget.add_class("ps-dashboard")

    def _attach(self) -> None:
        """Listen to new records, and take the ones already logged (without doubles)."""
        self.handle.add_listener(self._listener)
        records = self.handle.delivery_log.records
        for _ in range(1000):  # the stream may append while we copy: copy again
            try:
                snapshot = list(records)
                break
            except RuntimeError:
                continue
        else:
            snapshot = []
        # a record logged just before the listener was added may reach it too: skip those
        self._boot = snapshot
        self._boot_ids = {id(r) for r in snapshot}
        self._take(snapshot)

    def _listener(self, record: Attempt) -> None:
        self._queue.append(record)  # on the stream's thread: nothing that can fail or block

    # -- showing -------------------------------------------------------------------------------
    def display(self) -> Dashboard:
        """Display the dashboard (once; later updates change it in place); returns self."""
        from IPython.display import display

        display(self.widget)
        return self

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        c = counters(self.handle.summary)
        return (
            f"<Dashboard of a {self.handle.state} stream: {c['delivered']}/{c['input']} events "
            f"delivered, {c['dead_lettered']} dead-lettered>"
        )

    # -- updating ------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self.update(force=self.handle.done)
            if self._final:
                return
            self._stop.wait(self.interval)

    def update(self, *, force: bool = False) -> bool:
        """Bring the widgets up to date if ``interval`` has passed (or ``force``).

        Returns whether the widgets were updated. Any error is logged once and swallowed:
        the dashboard must never hurt the stream it watches.
        """
        try:
            with self._lock:
                return self._update(force)
        except Exception:
            if not self._failed:
                self._failed = True
                logger.exception("the dashboard failed to update; the stream goes on")
            return False

    def _update(self, force: bool) -> bool:
        now = self.clock.now()
        if self._final or (not force and now - self._last_update < self.interval):
            return False
        final = self.handle.done
        self._drain()
        # the exact summary computes HDR percentiles under the log's lock (tens of ms, which
        # stalls the sender): read it once at the end; meanwhile use the running counts
        summary = self.handle.summary if final else self.handle.live_summary()
        self._last_update = now
        self.updates += 1
        if final or now >= self._next_chart:
            started = time.perf_counter()
            self._show_chart(summary)
            cost = time.perf_counter() - started
            # a redraw shares the GIL with the stream: keep redraws under CHART_BUDGET of it
            self._next_chart = now + max(self.chart_interval, cost / CHART_BUDGET)
        if not final:
            summary = dataclasses.replace(summary, **self._estimates)
        self._show_numbers(summary)
        if final:
            self._finish(summary)
        return True

    def _drain(self) -> None:
        batch = []
        while self._queue:
            record = self._queue.popleft()
            if id(record) in self._boot_ids:  # ids are unique: self._boot keeps them alive
                continue
            batch.append(record)
        self._take(batch)

    def _take(self, records: list[Attempt]) -> None:
        columns = self._columns
        for name in _FIELDS:
            columns[name].extend(map(operator.attrgetter(name), records))
        self.records_seen += len(records)
        self._errors.update(r.error_code for r in records if r.error_code)
        excess = len(columns["sent"]) - _CHART_RECORDS
        if excess > 0:  # keep the newest records for the chart, dropping a quarter at a time
            drop = excess + _CHART_RECORDS // 4
            for values in columns.values():
                del values[:drop]

    def _frame(self) -> Any:
        """The kept records' fields as a frame (the columns the plots read)."""
        import numpy as np
        import pandas as pd

        return pd.DataFrame({name: np.asarray(values) for name, values in self._columns.items()})

    def _show_numbers(self, summary: DeliverySummary) -> None:
        c = counters(summary)
        finished = c["delivered"] + c["dead_lettered"]
        total = max(c["input"], 1)
        self.progress.max = total
        self.progress.value = min(finished, total)
        self.progress.description = f"{math.floor(100 * finished / total):.0f}%"
        for key, (cell, label) in self.numbers.items():
            cell.value = (
                f"<div class='ps-num' style='font-size:1.4em;font-weight:600'>{c[key]:,}</div>"
                f"<div class='ps-label' style='color:#666;font-size:0.85em'>{label}</div>"
            )
        state = self.handle.state
        self.title.value = (
            f"<b>personalize_sim stream</b> · <span class='ps-state'>{html.escape(state)}</span>"
        )
        self.rates.value = _rates_html(summary)
        self.errors.value = _errors_html(self._errors)
        rate = summary.target_rate
        if rate is not None and rate > 0 and not self.rate_slider.disabled:
            self._set_slider(float(rate))
        paused = state is StreamState.PAUSED
        self.pause_button.disabled = paused
        self.resume_button.disabled = not paused

    def _show_chart(self, summary: DeliverySummary) -> None:
        if not self._columns["sent"] or self.records_seen == self._charted:
            return
        self._charted = self.records_seen
        from matplotlib.figure import Figure

        from .plots import internal as plots

        frame = self._frame()
        self._estimates = _estimates(frame, summary.unit)
        series = plots.series(frame, unit=summary.unit)
        fig = Figure(figsize=(10, 3.2))
        # fixed margins: a constrained layout would cost more than the drawing itself
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.22)
        left, right = fig.subplots(1, 2)
        plots.draw_rate(left, series)
        plots.draw_latency(right, series)
        right.set_title("latency percentiles (ms)")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=72)
        output = {
            "output_type": "display_data",
            "data": {
                "image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                "text/plain": "<dashboard chart: rate and latency>",
            },
            "metadata": {},
        }
        self.chart.outputs = (output,)  # one assignment: never append, never `with out:`
        self.charts += 1

    def _finish(self, summary: DeliverySummary) -> None:
        self._final = True
        state = self.handle.state
        self.progress.bar_style = _BAR_STYLE.get(state, "")
        for control in (self.pause_button, self.resume_button, self.stop_button,
                        self.rate_slider):  # fmt: skip
            control.disabled = True
        message = ""
        if state is StreamState.FAILED:
            try:
                self.handle.wait(0)
            except Exception as error:  # the stream's crash, shown rather than raised
                message = f": {type(error).__name__}: {error}"
        self.title.value = (
            f"<b>personalize_sim stream</b> · <span class='ps-state'>{html.escape(state)}</span>"
            f"{html.escape(message)}"
        )
        self.handle.remove_listener(self._listener)

    # -- controls ------------------------------------------------------------------------------
    def _control(self, action: str) -> None:
        if self.handle.done:
            return
        getattr(self.handle, action)()
        self.update(force=True)

    def _on_slider(self, change: dict[str, Any]) -> None:
        if getattr(self._local, "syncing", False) or self.handle.done:
            return
        self.handle.set_rate(float(change["new"]))

    def _set_slider(self, rate: float) -> None:
        slider = self.rate_slider
        if math.isclose(slider.value, rate, rel_tol=1e-9):
            return
        self._local.syncing = True
        try:
            exponent = math.log10(rate)
            if exponent < slider.min:
                slider.min = exponent - 1
            if exponent > slider.max:
                slider.max = exponent + 1
            slider.value = rate
        finally:
            self._local.syncing = False

    # -- lifecycle -----------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> DeliverySummary:
        """Wait for the stream to end and the dashboard to show it; returns the summary.

        Re-raises a crash of the stream (as :meth:`StreamHandle.wait` does).
        """
        try:
            return self.handle.wait(timeout)
        finally:
            if self.handle.done:
                self._settle()

    def _settle(self) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if not self._final:
            self.update(force=True)

    def close(self) -> None:
        """Stop updating (the widgets keep their last values)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        if self.handle is not None and self._listener in self.handle.listeners:
            self.handle.remove_listener(self._listener)

    @property
    def state(self) -> dict[str, Any]:
        """What the dashboard shows now: counters, progress, stream state and error counts."""
        return {
            "counters": {k: _number_of(cell.value) for k, (cell, _) in self.numbers.items()},
            "progress": (self.progress.value, self.progress.max),
            "state": self.handle.state,
            "final": self._final,
            "errors": dict(self._errors),
        }


def _estimates(frame: Any, unit: str) -> dict[str, Any]:
    """Achieved rate and latency percentiles from the records seen (while running).

    The same definitions as :class:`~personalize_sim.streaming.DeliverySummary`'s, computed
    with numpy from the records instead of its HDR histograms, so the live view never holds
    the log's lock long.
    """
    import numpy as np

    first = frame[frame["attempt"] == 1]
    units = first["events"].to_numpy(float) if unit == "events" else np.ones(len(first))
    sent = first["sent"].to_numpy(float)
    achieved = math.nan
    if len(sent) > 1 and sent.max() > sent.min():
        last = units[np.argmax(sent)]
        achieved = (units.sum() - last) / (sent.max() - sent.min())
    delivered = frame[frame["outcome"] == "delivered"]
    intended = (delivered["finished"] - delivered["intended"]).to_numpy(float) * 1000
    service = (frame["finished"] - frame["sent"]).to_numpy(float) * 1000
    return {
        "achieved_rate": achieved,
        "latency_intended": _percentiles_ms(intended),
        "latency_service": _percentiles_ms(service),
    }


def _percentiles_ms(values: Any) -> LatencySummary:
    import numpy as np

    if len(values) == 0:
        return LatencySummary(count=0)
    p50, p90, p99 = np.percentile(values, (50, 90, 99))
    return LatencySummary(count=len(values), p50=float(p50), p90=float(p90), p99=float(p99))


def _number_of(cell_html: str) -> int:
    """The number shown in a counter cell."""
    start = cell_html.index(">") + 1
    return int(cell_html[start : cell_html.index("<", start)].replace(",", ""))


def _rates_html(s: DeliverySummary) -> str:
    unit = "req" if s.unit == "requests" else "ev"
    target, achieved = s.target_rate, s.achieved_rate

    parts = [
        f"<b>rate</b> target {'–' if target is None else f'{target:.4g}'} {unit}/s, "
        f"achieved {f'{achieved:.4g}' if math.isfinite(achieved) else '–'}"
        f" {unit}/s",
        f"<b>latency</b> p50/p90/p99 from intended time {s.latency_intended.describe()} ms, "
        f"service {s.latency_service.describe()} ms",
    ]
    if str(s.limited_by) != "none":
        who = "the client is the bottleneck" if s.bottleneck else "the tracker is the limit"
        advice = s.advice()
        parts.append(
            f"<b style='color:#b00'>{who}</b> ({html.escape(str(s.limited_by))}: "
            f"{html.escape(s.diagnosis)})" + (f"; {html.escape(advice)}" if advice else "")
        )
    return " · ".join(parts)


def _errors_html(errors: collections.Counter[str]) -> str:
    if not errors:
        return "<i>no errors</i>"
    rows = "".join(
        f"<tr><td>{html.escape(code)}</td><td style='text-align:right'>{n:,}</td></tr>"
        for code, n in errors.most_common()
    )
    return (
        "<table class='ps-errors-table'><tr><th>error code</th><th>attempts</th></tr>"
        f"{rows}</table>"
    )
