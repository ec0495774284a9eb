"""The delivery log: every attempt record, the running counts, and the summary from them.

The records are described in :mod:`._records`, the summary in :mod:`._summary`.
"""

from __future__ import annotations

import collections
import math
import operator
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._latency import LatencyHistogram, LatencySummary
from ._records import COLUMNS, DTYPES, Attempt, Outcome
from ._retry import classify
from ._summary import (
    COUNT_FIELDS,
    SHORT_OF_TARGET,
    DeliverySummary,
    RunSettings,
    StreamState,
    diagnose,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DeliveryLog"]

#: the counter each kind of failed attempt adds to
_FAILURE_COUNTS = {
    "throttled": "throttled",
    "server_error": "server_errors",
    "connection_error": "connection_errors",
    "client_error": "client_errors",
    "ok": "client_errors",  # an error code with a 2xx status: odd, and counted as the client's
}


class DeliveryLog:
    """Collects attempt records and keeps the running counts of the summary.

    ``max_records`` bounds the records kept for :meth:`frame` (the oldest are dropped);
    every count and histogram stays exact regardless, so a 100M-event stream can keep
    memory bounded.
    """

    def __init__(self, *, unit: str = "requests", max_records: int | None = None) -> None:
        self.unit = unit
        self.records: collections.deque[Attempt] = collections.deque(maxlen=max_records)
        self.intended = LatencyHistogram()
        self.service = LatencyHistogram()
        self.queue = LatencyHistogram()  # waits in the client for a connection or a thread
        self.settings = RunSettings()  # what the stream ran with, for the diagnosis
        self.counts = collections.Counter[str]()
        self.started_at = math.nan
        self.target_rate: float | None = None
        self._lock = threading.Lock()  # records are added on the stream's thread, read on others
        self._first_sent = math.inf
        self._last_sent = -math.inf
        self._sent_units = 0.0
        self._last_units = 0.0

    # -- writing ---------------------------------------------------------------------------
    def add_input(self, requests: int, events: int) -> None:
        """Requests read from the source: pending until an attempt finishes them."""
        self._count(input_requests=requests, input_events=events,
                    pending_requests=requests, pending_events=events)  # fmt: skip

    def add_resumed(self, requests: int, events: int) -> None:
        """Requests an earlier run delivered (per the checkpoint): input, finished already."""
        self._count(input_requests=requests, input_events=events,
                    resumed_requests=requests, resumed_events=events)  # fmt: skip

    def add_rejected(self, rows: int) -> None:
        """Invalid rows reported before sending, never sent."""
        self._count(rejected_rows=rows)

    def _count(self, **amounts: int) -> None:
        with self._lock:
            self.counts.update(amounts)

    def add(self, record: Attempt) -> None:
        """Count one attempt; a final outcome moves its request out of ``pending``."""
        with self._lock:
            self._add(record)

    def _add(self, record: Attempt) -> None:
        c = self.counts
        self.records.append(record)
        c["attempts"] += 1
        if record.attempt > 1:
            c["retried"] += 1
        else:
            if record.status:  # a real send, answered: a refused connection never went out
                units = record.events if self.unit == "events" else 1
                if record.sent < self._first_sent:
                    self._first_sent = record.sent
                if record.sent >= self._last_sent:
                    self._last_sent, self._last_units = record.sent, units
                self._sent_units += units
            if record.missed:
                c["missed_sends"] += 1
        c["sdk_retries"] += record.sdk_retries
        if record.error_code or record.status >= 300 or record.status == 0:
            c[_FAILURE_COUNTS[classify(record.status, record.error_code)]] += 1
        self.service.record(record.finished - record.sent)
        self.queue.record(record.queued)
        if record.outcome == Outcome.DELIVERED:
            self.intended.record(record.finished - record.intended)
            self._finish("delivered", record.events)
        elif record.outcome == Outcome.DEAD_LETTER:
            self._finish("dead_letter", record.events)

    def _finish(self, how: str, events: int) -> None:
        c = self.counts
        c[f"{how}_requests"] += 1
        c[f"{how}_events"] += events
        c["pending_requests"] -= 1
        c["pending_events"] -= events
        if c["pending_requests"] < 0:
            c["double_finished"] += 1  # a bug: the ledger shows it instead of hiding it

    def extend(self, records: Iterable[Attempt]) -> None:
        for record in records:
            self.add(record)

    # -- reading ---------------------------------------------------------------------------
    def summary(self, state: StreamState, *, percentiles: bool = True) -> DeliverySummary:
        """The summary now; ``percentiles=False`` leaves the latency percentiles out (NaN),
        which keeps the lock short for a live display."""
        with self._lock:
            return self._summary(state, percentiles)

    def _summary(self, state: StreamState, percentiles: bool) -> DeliverySummary:
        c = self.counts
        counts = {name: int(c[name]) for name in COUNT_FIELDS}
        finished = c["delivered_requests"] + c["dead_letter_requests"] + c["resumed_requests"]
        finished_events = c["delivered_events"] + c["dead_letter_events"] + c["resumed_events"]
        span = self._last_sent - self._first_sent
        if percentiles:
            latency = (self.intended.summary(), self.service.summary(), self.queue.summary())
        else:
            latency = (
                LatencySummary(self.intended.count),
                LatencySummary(self.service.count),
                LatencySummary(self.queue.count),
            )
        achieved = (self._sent_units - self._last_units) / span if span > 0 else math.nan
        target = self.target_rate
        short = target is None or not achieved >= SHORT_OF_TARGET * target
        limit, why = diagnose(
            attempts=c["attempts"], missed_sends=c["missed_sends"],
            refused=c["throttled"] + c["server_errors"] + c["sdk_retries"],
            queued_s=self.queue.total,
            service_s=self.service.total, span_s=span if span > 0 else 0.0,
            settings=self.settings, short=short,
        )  # fmt: skip
        return DeliverySummary(
            state=state,
            started_at=self.started_at,
            unit=self.unit,
            balanced=(
                finished + c["pending_requests"] == c["input_requests"]
                and finished_events + c["pending_events"] == c["input_events"]
                and c["double_finished"] == 0
            ),
            complete=(
                c["delivered_events"] + c["resumed_events"] == c["input_events"]
                and c["rejected_rows"] == 0
            ),
            target_rate=self.target_rate,
            achieved_rate=achieved,
            bottleneck=limit.client,
            limited_by=limit,
            diagnosis=why,
            retry_mode=self.settings.retry_mode,
            settings=self.settings,
            latency_queue=latency[2],
            duration_s=max(span, 0.0) if math.isfinite(span) else 0.0,
            latency_intended=latency[0],
            latency_service=latency[1],
            **counts,
        )

    def frame(self) -> pd.DataFrame:
        """The kept records as a DataFrame with the columns of the module docstring."""
        import pandas as pd

        with self._lock:
            records = list(self.records)
        row = operator.attrgetter(*COLUMNS)
        frame = pd.DataFrame([row(r) for r in records], columns=list(COLUMNS))
        frame["outcome"] = frame["outcome"].map(str)  # the enum's value, not its repr
        return frame.astype(DTYPES)

    def per_second(self) -> pd.DataFrame:
        """One row per second of sending: target vs achieved rate, errors, lag and latency.

        Columns: ``second, target_rate, sent (first attempts, in unit), attempts, delivered,
        errors, lag_p99_ms (sent − scheduled), latency_p50_ms, latency_p99_ms`` (intended-time).
        """
        import numpy as np
        import pandas as pd

        f = self.frame()
        cols = [
            "second", "target_rate", "sent", "attempts", "delivered", "errors",
            "lag_p99_ms", "latency_p50_ms", "latency_p99_ms",
        ]  # fmt: skip
        if f.empty:
            return pd.DataFrame(columns=cols)
        f["second"] = np.floor(f["sent"]).astype("int64")
        first = f["attempt"] == 1
        f["units"] = np.where(first, f["events"] if self.unit == "events" else 1, 0)
        f["lag"] = (f["sent"] - f["scheduled"]) * 1000
        delivered = f["outcome"] == "delivered"
        f["latency"] = np.where(delivered, (f["finished"] - f["intended"]) * 1000, np.nan)
        g = f.groupby("second")
        out = pd.DataFrame(
            {
                "target_rate": g["target_rate"].mean(),
                "sent": g["units"].sum(),
                "attempts": g.size(),
                "delivered": g["outcome"].apply(lambda s: int((s == "delivered").sum())),
                "errors": g["error_code"].apply(lambda s: int((s != "").sum())),
                "lag_p99_ms": g["lag"].quantile(0.99),
                "latency_p50_ms": g["latency"].median(),
                "latency_p99_ms": g["latency"].quantile(0.99),
            }
        ).reset_index()
        return out[cols]
