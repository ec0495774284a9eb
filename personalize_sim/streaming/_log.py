"""The delivery log: one record per attempt, and the summary every reader relies on.

This is a contract (the dashboard, the plots and the CLI read it); keep it stable.

**Attempt record** (:class:`Attempt`, also one row of :meth:`DeliveryLog.frame`). Times are
seconds on the monotonic clock since the stream started (``summary["started_at"]`` is that
start as Unix epoch seconds):

=============  =======  ==========================================================================
column         dtype    meaning
=============  =======  ==========================================================================
request_id     str      deterministic id of the PutEvents request (same rows → same id)
attempt        int      1 for the first send, 2… for retries
worker         int      process index (0 unless ``processes=N``)
events         int      events in the request
intended       float    when the first attempt was planned (schedule + pauses; never slips)
scheduled      float    when this attempt was due (after slips for attempt 1; after backoff later)
sent           float    when the request left
finished       float    when the response (or the connection error) came back
status         int      HTTP status; 0 when no response came back
error_code     str      ``""`` on success, else e.g. ThrottlingException, InvalidInputException,
                        InternalFailure, ConnectionError
message        str      the service's error message (``""`` on success)
outcome        str      ``delivered`` | ``retry`` (another attempt follows) | ``dead_letter``
missed         bool     attempt 1 only: its planned slot passed unsent (client was the bottleneck)
target_rate    float    target rate when sent, in ``summary["unit"]``/s (NaN for replay)
sdk_retries    int      retries the boto3 client made inside this attempt (0 when turned off)
=============  =======  ==========================================================================

**Summary** (:meth:`DeliveryLog.summary`, a plain dict):

* counts: ``input_requests``, ``input_events`` (read from the source so far),
  ``rejected_rows`` (invalid rows reported before sending, never sent),
  ``resumed_requests``/``resumed_events`` (delivered by an earlier run, per the checkpoint),
  ``delivered_requests``/``delivered_events``, ``dead_letter_requests``/``dead_letter_events``,
  ``pending_requests``/``pending_events`` (in flight, waiting to retry, or unsent after a stop);
* ledger: ``balanced`` (delivered + dead-lettered + resumed + pending == input, and no request
  finished twice), ``complete`` (every input event delivered, now or by the resumed run);
* attempts: ``attempts``, ``retried`` (attempts after the first), ``throttled``,
  ``server_errors``, ``connection_errors``, ``client_errors``, ``sdk_retries``;
* pacing: ``unit`` ("requests" or "events"), ``target_rate`` (current, None for replay),
  ``achieved_rate`` (first sends per second, in ``unit``), ``missed_sends``, ``bottleneck``
  (True when missed sends show the client could not keep up), ``duration_s``;
* latency in milliseconds, each a dict with ``count, mean, p50, p90, p99, p99.9, max``:
  ``latency_intended_ms`` (delivered requests, response time minus *intended* time of the first
  attempt: coordinated-omission corrected, includes backlog and retries) and
  ``latency_service_ms`` (every attempt, response time minus actual send time);
* ``state`` ("running", "paused", "stopping", "done", "stopped", "failed"), ``started_at``.
"""

from __future__ import annotations

import collections
import math
import operator
import threading
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from .._latency import LatencyHistogram

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "Attempt", "DeliveryLog"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt to deliver one request (see the module docstring for each field)."""

    request_id: str
    attempt: int
    worker: int
    events: int
    intended: float
    scheduled: float
    sent: float
    finished: float
    status: int
    error_code: str
    message: str
    outcome: str
    missed: bool
    target_rate: float
    sdk_retries: int


COLUMNS = tuple(f.name for f in fields(Attempt))
_DTYPES = {
    "request_id": "string",
    "attempt": "int64",
    "worker": "int64",
    "events": "int64",
    "intended": "float64",
    "scheduled": "float64",
    "sent": "float64",
    "finished": "float64",
    "status": "int64",
    "error_code": "string",
    "message": "string",
    "outcome": "string",
    "missed": "bool",
    "target_rate": "float64",
    "sdk_retries": "int64",
}


_COUNT_KEYS = (
    "input_requests", "input_events", "rejected_rows", "resumed_requests", "resumed_events",
    "delivered_requests", "delivered_events", "dead_letter_requests", "dead_letter_events",
    "pending_requests", "pending_events", "attempts", "retried", "throttled", "server_errors",
    "connection_errors", "client_errors", "sdk_retries", "missed_sends",
)  # fmt: skip


def _summary_ms(histogram: LatencyHistogram) -> dict[str, float]:
    return {k: math.nan if v is None else v for k, v in histogram.summary().to_dict().items()}


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
        self.counts = collections.Counter[str]()
        self.started_at = math.nan
        self.target_rate: float | None = None
        self.state = "running"
        self._lock = threading.Lock()  # records are added on the stream's thread, read on others
        self._first_sent = math.inf
        self._last_sent = -math.inf
        self._sent_units = 0.0
        self._last_units = 0.0

    # -- writing ---------------------------------------------------------------------------
    def add_input(self, requests: int, events: int) -> None:
        with self._lock:
            self._add_input(requests, events)

    def _add_input(self, requests: int, events: int) -> None:
        self.counts["input_requests"] += requests
        self.counts["input_events"] += events
        self.counts["pending_requests"] += requests
        self.counts["pending_events"] += events

    def add_resumed(self, requests: int, events: int) -> None:
        with self._lock:
            self._add_resumed(requests, events)

    def _add_resumed(self, requests: int, events: int) -> None:
        self.counts["input_requests"] += requests
        self.counts["input_events"] += events
        self.counts["resumed_requests"] += requests
        self.counts["resumed_events"] += events

    def add_rejected(self, rows: int) -> None:
        self.counts["rejected_rows"] += rows

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
            from ._retry import RetryPolicy

            c[
                {
                    "throttled": "throttled",
                    "server_error": "server_errors",
                    "connection_error": "connection_errors",
                    "client_error": "client_errors",
                    "ok": "client_errors",
                }[RetryPolicy.classify(record.status, record.error_code)]
            ] += 1
        self.service.record(record.finished - record.sent)
        if record.outcome == "delivered":
            self.intended.record(record.finished - record.intended)
            self._finish("delivered", record.events)
        elif record.outcome == "dead_letter":
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
    def counts_snapshot(self) -> dict[str, int]:
        """A consistent copy of the running counts: cheap enough for a live display."""
        with self._lock:
            return dict(self.counts)

    def summary(self) -> dict[str, Any]:
        """The summary dict described in the module docstring."""
        with self._lock:
            return self._summary()

    def _summary(self) -> dict[str, Any]:
        c = self.counts
        names = _COUNT_KEYS
        out: dict[str, Any] = {"state": self.state, "started_at": self.started_at}
        out.update({name: int(c[name]) for name in names})
        finished = c["delivered_requests"] + c["dead_letter_requests"] + c["resumed_requests"]
        out["balanced"] = bool(
            finished + c["pending_requests"] == c["input_requests"]
            and c["delivered_events"]
            + c["dead_letter_events"]
            + c["resumed_events"]
            + c["pending_events"]
            == c["input_events"]
            and c["double_finished"] == 0
        )
        out["complete"] = bool(
            c["delivered_events"] + c["resumed_events"] == c["input_events"]
            and c["rejected_rows"] == 0
        )
        span = self._last_sent - self._first_sent
        out["unit"] = self.unit
        out["target_rate"] = self.target_rate
        out["achieved_rate"] = (
            (self._sent_units - self._last_units) / span if span > 0 else math.nan
        )
        out["bottleneck"] = c["missed_sends"] > 0
        out["duration_s"] = max(span, 0.0) if math.isfinite(span) else 0.0
        out["latency_intended_ms"] = _summary_ms(self.intended)
        out["latency_service_ms"] = _summary_ms(self.service)
        return out

    def frame(self) -> pd.DataFrame:
        """The kept records as a DataFrame with the columns of the module docstring."""
        import pandas as pd

        with self._lock:
            records = list(self.records)
        row = operator.attrgetter(*COLUMNS)
        rows = [row(r) for r in records]
        frame = pd.DataFrame(rows, columns=list(COLUMNS))
        return frame.astype(_DTYPES)

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
