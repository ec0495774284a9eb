"""The Dashboard: the widget tree, the throttled updater thread, the controls."""

from __future__ import annotations

import collections
import dataclasses
import html
import logging
import math
import operator
import threading
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .._checks import instance, number
from ..clock import Clock, SystemClock
from ..streaming import DeliverySummary, StreamHandle, StreamState
from ._panels import COUNTERS, charts, counters, errors_html, estimates, number_of, rates_html

if TYPE_CHECKING:
    from ..streaming import Attempt

__all__ = ["Dashboard"]

logger = logging.getLogger("personalize_sim.widgets")

#: fastest trait updates allowed (seconds between updates): ≤ 4 per second
MIN_INTERVAL = 0.25
#: attempt records kept for the live estimates (the charts read the whole delivery log)
_CHART_RECORDS = 200_000
#: the fields of each attempt record the live estimates read
_FIELDS = ("attempt", "events", "sent", "intended", "finished", "outcome", "error_code",
           "target_rate")  # fmt: skip
#: share of the time chart redraws may take (they share the GIL with the stream's sender)
CHART_BUDGET = 0.1
_BAR_STYLE = {StreamState.DONE: "success", StreamState.STOPPED: "warning",
              StreamState.FAILED: "danger"}  # fmt: skip


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
        self.rate_chart, self.latency_chart = w.HTML(), w.HTML()
        self.rate_chart.add_class("ps-chart")
        self.latency_chart.add_class("ps-chart")
        # side by side when the notebook is wide enough, else one under the other
        self.chart = w.Box([self.rate_chart, self.latency_chart],
                           layout=w.Layout(flex_flow="row wrap", min_height="40px"))  # fmt: skip
        self.series: Any = None  # the series last charted (plots.internal.Series)
        fit = {"layout": w.Layout(width="auto")}  # a narrow notebook must not cut the words
        self.pause_button = w.Button(description="pause", icon="pause", **fit)
        self.resume_button = w.Button(description="resume", icon="play", **fit)
        self.stop_button = w.Button(description="stop", icon="stop", button_style="danger", **fit)
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
            [self.pause_button, self.resume_button, self.stop_button, self.rate_slider],
            layout=w.Layout(flex_flow="row wrap"),
        )
        self.widget = w.VBox(
            [self.title, self.progress, self.counter_box, self.rates, controls, self.chart,
             self.errors],
        )  # fmt: skip
        self.widget.add_class("ps-dashboard")

    def _attach(self) -> None:
        """Listen to new records, and take the ones already logged (without doubles), those
        spilled to disk included."""
        self.handle.add_listener(self._listener)
        log = self.handle.delivery_log
        spilled, snapshot = log.snapshot()
        skip = spilled - _CHART_RECORDS  # only the newest feed the estimates
        for batch in log.spilled(spilled, _FIELDS):
            self.records_seen += batch.num_rows
            codes = batch.column("error_code").value_counts()
            self._errors.update({str(c["values"]): int(c["counts"]) for c in codes.to_pylist()
                                 if c["values"]})  # fmt: skip
            skip -= batch.num_rows
            if skip < 0:
                for name, values in zip(_FIELDS, batch.columns, strict=True):
                    self._columns[name].extend(values.to_pylist())
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
        self.rates.value = rates_html(summary)
        self.errors.value = errors_html(self._errors)
        rate = summary.target_rate
        if rate is not None and rate > 0 and not self.rate_slider.disabled:
            self._set_slider(float(rate))
        paused = state is StreamState.PAUSED
        self.pause_button.disabled = paused
        self.resume_button.disabled = not paused

    def _show_chart(self, summary: DeliverySummary) -> None:
        if not self._columns["sent"] or self.records_seen == self._charted:
            return
        from ..plots import internal as plots

        self._charted = self.records_seen
        self._estimates = estimates(self._frame(), summary.unit)
        # the whole run, read from the delivery log (its spill a batch at a time)
        self.series = plots.series(self.handle.delivery_log, unit=summary.unit)
        rate, latency = charts(self.series)
        self.rate_chart.value, self.latency_chart.value = rate, latency  # one assignment each
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
            "counters": {k: number_of(cell.value) for k, (cell, _) in self.numbers.items()},
            "progress": (self.progress.value, self.progress.max),
            "state": self.handle.state,
            "final": self._final,
            "errors": dict(self._errors),
        }
