"""The delivery summary: a stream's ledger, attempts, pacing and latency, as one typed value."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

from .._latency import LatencySummary

__all__ = ["COUNT_FIELDS", "DeliverySummary", "StreamState"]


class StreamState(str, Enum):
    """Where a stream is in its life: new → running ⇄ paused → stopping → done/stopped/failed."""

    NEW = "new"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    DONE = "done"  # every request was delivered or dead-lettered
    STOPPED = "stopped"  # stop() was called: unsent requests stay pending
    FAILED = "failed"  # the stream itself crashed: wait() re-raises why

    @property
    def finished(self) -> bool:
        return self in (StreamState.DONE, StreamState.STOPPED, StreamState.FAILED)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, kw_only=True)
class DeliverySummary:
    """Everything a stream did, from its delivery log (``handle.summary``, ``handle.wait()``).

    Counts are of requests and events; a request is *input* once read from the source and
    ends delivered, dead-lettered, or (after a stop) pending; ``resumed`` ones were
    delivered by an earlier run with the same checkpoint. ``to_dict()`` gives plain JSON.
    """

    state: StreamState
    #: Unix epoch seconds of the stream's time 0 (the ``sent``… times of the log count from it)
    started_at: float
    #: what ``target_rate`` and ``achieved_rate`` count per second: "requests" or "events"
    unit: str
    # -- the ledger -------------------------------------------------------------------------
    input_requests: int
    input_events: int
    #: invalid rows reported before sending (``conversion=Conversion(invalid="skip")``)
    rejected_rows: int
    resumed_requests: int
    resumed_events: int
    delivered_requests: int
    delivered_events: int
    dead_letter_requests: int
    dead_letter_events: int
    #: in flight, waiting to retry, or unsent after a stop
    pending_requests: int
    pending_events: int
    #: delivered + dead-lettered + resumed + pending == input, and no request finished twice
    balanced: bool
    #: every input event delivered (now or by the resumed run) and no row rejected
    complete: bool
    # -- attempts ---------------------------------------------------------------------------
    attempts: int
    #: attempts after the first of their request
    retried: int
    throttled: int
    server_errors: int
    connection_errors: int
    client_errors: int
    #: retries a boto3 client made inside our attempts (0 when its retries are off)
    sdk_retries: int
    # -- pacing -----------------------------------------------------------------------------
    #: the current target (None for replay)
    target_rate: float | None
    #: first sends per second over the sending span (NaN before two sends)
    achieved_rate: float
    #: planned sends that passed unsent: the client, not the service, limited the rate
    missed_sends: int
    bottleneck: bool
    duration_s: float
    # -- latency (ms) -----------------------------------------------------------------------
    #: delivered requests, from the *intended* time of the first attempt (coordinated-omission
    #: corrected: includes backlog, backoff and retries)
    latency_intended: LatencySummary
    #: every attempt, from its actual send
    latency_service: LatencySummary

    @property
    def finished_events(self) -> int:
        """Events that need nothing more: delivered, dead-lettered, or resumed."""
        return self.delivered_events + self.dead_letter_events + self.resumed_events

    @property
    def sent_requests(self) -> int:
        """First attempts made (one per request sent)."""
        return self.attempts - self.retried

    def _repr_html_(self) -> str:
        """A compact table for notebooks: the ledger, the attempts, the rate, the latency."""
        import html

        rows = [
            ("state", str(self.state)),
            ("delivered", f"{self.delivered_events:,} of {self.input_events:,} events "
                          f"({self.delivered_requests:,} requests)"),
            ("dead-lettered · pending · rejected rows",
             f"{self.dead_letter_events:,} · {self.pending_events:,} · {self.rejected_rows:,}"),
            ("attempts (retried, throttled, 5xx)",
             f"{self.attempts:,} ({self.retried:,}, {self.throttled:,}, {self.server_errors:,})"),
            (f"rate, {self.unit}/s (target, achieved)",
             f"{_number(self.target_rate, '.4g')}, {_number(self.achieved_rate, '.4g')}"),
            ("latency p50 / p90 / p99 (ms), from intended time", self.latency_intended.describe()),
            ("latency p50 / p90 / p99 (ms), service", self.latency_service.describe()),
            ("balanced · complete", f"{self.balanced} · {self.complete}"),
        ]  # fmt: skip
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table><caption>DeliverySummary</caption>{cells}</table>"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values: the state as its name, latencies as ``latency_*_ms`` dicts,
        NaN as None."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, LatencySummary):
                out[f"{f.name}_ms"] = value.to_dict()
            elif isinstance(value, Enum):
                out[f.name] = value.value
            elif isinstance(value, float) and math.isnan(value):
                out[f.name] = None
            else:
                out[f.name] = value
        return out


def _number(value: float | None, spec: str) -> str:
    return "–" if value is None or math.isnan(value) else format(value, spec)


# every count of the ledger and of attempts, as DeliveryLog keeps them
COUNT_FIELDS = tuple(
    f.name for f in fields(DeliverySummary) if f.type == "int" and f.name != "started_at"
)
