"""The delivery log: every attempt record, the running counts, and the summary from them.

The records are described in :mod:`._records`, the summary in :mod:`._summary`.
"""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .._latency import LatencyHistogram, LatencySummary
from ._records import Attempt, Outcome
from ._retry import classify
from ._spill import Spill, to_batch, to_frame
from ._summary import (
    COUNT_FIELDS,
    SHORT_OF_TARGET,
    DeliverySummary,
    RunSettings,
    StreamState,
    diagnose,
)

if TYPE_CHECKING:
    import os

    import pandas as pd
    import pyarrow as pa

__all__ = ["DeliveryLog"]

#: the counter each kind of failed attempt adds to
_FAILURE_COUNTS = {
    "throttled": "throttled",
    "server_error": "server_errors",
    "connection_error": "connection_errors",
    "client_error": "client_errors",
    "ok": "client_errors",  # an error code with a 2xx status: odd, and counted as the client's
}


#: records kept in memory before a batch of them moves to the spill file
SPILL_EVERY = 50_000
#: latencies that wait for a bulk record into the histograms (a summary records them at once)
_HISTOGRAM_BATCH = 4096


class DeliveryLog:
    """Collects attempt records and keeps the running counts of the summary.

    Memory stays bounded however long the stream runs: every count and histogram is exact
    and small, and the records go in batches of ``spill_every`` to a temporary Arrow IPC
    file (:mod:`._spill`), so :meth:`frame` still has every attempt at the end (and
    :meth:`write` copies them to Parquet or CSV a batch at a time). ``max_records`` keeps
    only the newest records instead (a window, nothing on disk). ``records`` holds the
    newest records in memory (those not yet spilled).
    """

    def __init__(
        self,
        *,
        unit: str = "requests",
        max_records: int | None = None,
        spill_every: int | None = None,
    ) -> None:
        self.unit = unit
        self.max_records = max_records
        self.spill_every = SPILL_EVERY if spill_every is None else spill_every
        self.records: list[Attempt] | collections.deque[Attempt] = (
            [] if max_records is None else collections.deque(maxlen=max_records)
        )
        self._spill: Spill | None = None
        # latencies (s) not yet in the histograms: recorded in bulk, see _record_latencies
        self._service_s: list[float] = []
        self._intended_s: list[float] = []
        self._queue_s: list[float] = []
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
        records = self.records
        records.append(record)
        if len(records) >= self.spill_every and self.max_records is None:
            self._spill_records()
        if len(self._service_s) >= _HISTOGRAM_BATCH:
            self._record_latencies()
        c["attempts"] += 1
        if record.attempt > 1:
            c["retried"] += 1
        else:
            if record.target_rate == record.target_rate:  # not NaN (replay): a ramp moves on
                self.target_rate = record.target_rate
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
        self._service_s.append(record.finished - record.sent)
        self._queue_s.append(record.queued)
        if record.outcome == Outcome.DELIVERED:
            self._intended_s.append(record.finished - record.intended)
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

    def _record_latencies(self) -> None:
        """Move the pending latencies into the histograms (in bulk: a third of the cost)."""
        self.service.record_many(self._service_s)
        self.intended.record_many(self._intended_s)
        self.queue.record_many(self._queue_s)
        self._service_s.clear()
        self._intended_s.clear()
        self._queue_s.clear()

    def _spill_records(self) -> None:
        if self._spill is None:
            self._spill = Spill()
        self._spill.write(self.records)
        self.records.clear()

    def extend(self, records: Iterable[Attempt]) -> None:
        for record in records:
            self.add(record)

    def close(self) -> None:
        """Remove the spill file; :meth:`frame` then has only the records in memory."""
        with self._lock:
            if self._spill is not None:
                self._spill.close()
                self._spill = None

    # -- reading ---------------------------------------------------------------------------
    def summary(self, state: StreamState, *, percentiles: bool = True) -> DeliverySummary:
        """The summary now; ``percentiles=False`` leaves the latency percentiles out (NaN),
        which keeps the lock short for a live display."""
        with self._lock:
            return self._summary(state, percentiles)

    def _summary(self, state: StreamState, percentiles: bool) -> DeliverySummary:
        self._record_latencies()
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

    @property
    def kept(self) -> int:
        """Records :meth:`frame` would return (spilled and in memory)."""
        with self._lock:
            return len(self.records) + (0 if self._spill is None else self._spill.rows)

    def snapshot(self) -> tuple[int, list[Attempt]]:
        """(rows spilled, the records in memory) at one instant: what :meth:`batches` reads."""
        with self._lock:  # copy the list only: converting it would stall the sender
            return (0 if self._spill is None else self._spill.rows), list(self.records)

    def spilled(self, rows: int, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The first ``rows`` spilled records as Arrow batches (``columns`` of them), from disk."""
        spill = self._spill
        if spill is None or rows <= 0:
            return
        for batch in spill.batches(rows=rows):
            yield batch if columns is None else batch.select(list(columns))

    def reader(
        self, columns: Sequence[str] | None = None
    ) -> Callable[[], Iterator[pa.RecordBatch]]:
        """Read the records kept now, as often as needed (the same rows each time): the
        spilled ones from disk, the ones in memory converted once. A plot reads twice."""
        spilled, newest = self.snapshot()
        last = [to_batch(newest, columns)] if newest else []

        def read() -> Iterator[pa.RecordBatch]:
            yield from self.spilled(spilled, columns)
            yield from last

        return read

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The kept records as Arrow record batches, oldest first (a spill file is streamed);
        ``columns`` picks some columns, in that order (reading and memory in proportion)."""
        spilled, newest = self.snapshot()
        yield from self.spilled(spilled, columns)
        if newest:
            yield to_batch(newest, columns)

    def frame(self) -> pd.DataFrame:
        """The kept records as a DataFrame with the columns of :mod:`._records`."""
        return to_frame(list(self.batches()))

    def write(self, path: str | os.PathLike[str]) -> int:
        """Write the kept records to ``path`` (``.parquet``, else CSV) a batch at a time, so a
        log larger than memory can be saved; a pipe or a device works. Returns the rows."""
        rows = 0
        with open(path, "wb") as f:
            if str(path).endswith(".parquet"):
                rows = _write_parquet(self.batches(), f)
            else:
                for batch in self.batches():
                    to_frame([batch]).to_csv(f, header=rows == 0, index=False)
                    rows += batch.num_rows
                if rows == 0:
                    to_frame([]).to_csv(f, index=False)
        return rows

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


def _write_parquet(batches: Iterator[pa.RecordBatch], f: Any) -> int:
    """Batches into one Parquet file with the pandas dtypes of the log (as ``frame()`` has)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, writer = 0, None
    try:
        for batch in batches:
            table = pa.Table.from_pandas(to_frame([batch]), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(f, table.schema)
            writer.write_table(table)
            rows += batch.num_rows
        if writer is None:
            to_frame([]).to_parquet(f, index=False)
    finally:
        if writer is not None:
            writer.close()
    return rows
