"""The delivery summary: a stream's ledger, attempts, pacing and latency, as one typed value.

It also names what limited the stream (:class:`Limit`): the transport's connections or
threads (requests queued in the client for one), the in-flight cap, the client's CPU, or the
tracker (throttling, 5xx); and :meth:`DeliverySummary.advice` says what to change, in Python
arguments or in CLI flags, never suggesting what is already in effect (:class:`RunSettings`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any, Literal

from .._latency import LatencySummary

__all__ = ["COUNT_FIELDS", "DeliverySummary", "Limit", "RunSettings", "StreamState", "diagnose"]


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


class Limit(str, Enum):
    """What limited a stream's rate: nothing, a client-side limit, or the tracker."""

    NONE = "none"
    CONNECTIONS = "connections"  # every connection of the fast transport was busy
    THREADS = "threads"  # every boto3 worker thread was busy
    IN_FLIGHT = "in-flight cap"  # every max_in_flight slot was taken
    CPU = "cpu"  # the client could not prepare and send fast enough
    SERVER = "server"  # the tracker throttled or failed

    @property
    def client(self) -> bool:
        """True for the limits the client imposed on itself."""
        return self in (Limit.CONNECTIONS, Limit.THREADS, Limit.IN_FLIGHT, Limit.CPU)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """What a stream ran with, so that advice never repeats what is already in effect."""

    transport: str = "target"  # the target's name: boto3, fast, memory, jsonl…
    #: the transport's own concurrency limit, ("connections", 64) or ("threads", 16)
    pool: tuple[str, int] | None = None
    max_in_flight: int = 64
    processes: int = 1
    retry_mode: str = "standard"
    #: the rate schedule in words ("20 → 200 over 5 s, then 200 requests/s")
    schedule: str = ""


#: a client limit counts when requests waited for it this share of their time in the client
_QUEUE_SHARE = 0.1
#: the in-flight cap counts when this share of its slots was taken on average
_SLOTS_SHARE = 0.8
#: the achieved rate fell short of the target when below this share of it
SHORT_OF_TARGET = 0.95
#: the tracker counts as the limit when this share of attempts was throttled or failed (5xx)
_SERVER_SHARE = 0.05


def diagnose(
    *,
    attempts: int,
    missed_sends: int,
    refused: int,
    queued_s: float,
    service_s: float,
    span_s: float,
    settings: RunSettings,
    short: bool = True,
) -> tuple[Limit, str]:
    """What limited the rate, and one sentence of evidence (times are totals over attempts).

    ``short``: the achieved rate fell short of the target (or there is no fixed target); a
    queue for connections that still kept the rate is no limit of it.

    >>> limit, why = diagnose(attempts=100, missed_sends=0, refused=0, queued_s=5.0,
    ...                       service_s=5.0, span_s=1.0,
    ...                       settings=RunSettings(transport="fast", pool=("connections", 8)))
    >>> print(limit, why, sep=": ")  # doctest: +NORMALIZE_WHITESPACE
    connections: requests waited 50.0 ms on average for one of the 8 connections (50% of their
    time in the client)
    """
    if attempts == 0:
        return Limit.NONE, ""
    if refused / attempts >= _SERVER_SHARE:  # more connections or slots would only add to it
        return Limit.SERVER, f"the tracker throttled or failed {refused:,} of {attempts:,} attempts"
    in_client = queued_s + service_s
    queueing = in_client > 0 and queued_s / in_client > _QUEUE_SHARE
    if settings.pool is not None and queueing and (short or missed_sends):
        what, size = settings.pool
        limit = Limit.CONNECTIONS if what == "connections" else Limit.THREADS
        why = (
            f"requests waited {1000 * queued_s / attempts:.1f} ms on average for one of the "
            f"{size} {what} ({100 * queued_s / in_client:.0f}% of their time in the client)"
        )
        return limit, why
    if missed_sends:
        slots = settings.max_in_flight * settings.processes
        busy = in_client / span_s / slots if span_s > 0 else 0.0
        if busy >= _SLOTS_SHARE:
            why = f"{missed_sends:,} sends missed their slot; {busy:.0%} of {slots} slots in flight"
            return Limit.IN_FLIGHT, why
        return Limit.CPU, f"{missed_sends:,} sends missed their slot with in-flight slots free"
    if refused and settings.retry_mode == "adaptive":  # few refusals: the adaptive rate held back
        why = f"the tracker throttled {refused:,} attempts and the adaptive rate held sends back"
        return Limit.SERVER, why
    return Limit.NONE, ""


def advice(limit: Limit, settings: RunSettings, style: Literal["python", "cli"]) -> str:
    """What to change for ``limit``, in Python arguments or CLI flags ("" when nothing)."""
    cli = style == "cli"
    size = settings.pool[1] if settings.pool else 0
    fast = settings.transport in ("fast", "crt")
    more_processes = (
        f"--processes {settings.processes + 1}" if cli else f"processes={settings.processes + 1}"
    )
    if limit is Limit.CONNECTIONS:
        return (
            f"raise --connections above {size}" if cli
            else f"raise {'CrtTarget' if settings.transport == 'crt' else 'FastTarget'}"
            f"(connections=…) above {size}"
        )  # fmt: skip
    if limit is Limit.THREADS:
        return (
            f"raise --connections above {size}, or use --transport fast" if cli
            else f"raise Boto3Target(threads=…) above {size} (a client of your own also needs "
            "Config(max_pool_connections=…)), or use target='fast'"
        )  # fmt: skip
    if limit is Limit.IN_FLIGHT:
        n = settings.max_in_flight
        return (
            f"raise --max-in-flight above {n}" if cli
            else f"raise Pacing(max_in_flight=…) above {n}"
        )  # fmt: skip
    if limit is Limit.CPU:
        if fast:
            return f"use {more_processes}"
        return f"use {'--transport fast' if cli else 'target=' + repr('fast')} or {more_processes}"
    if limit is Limit.SERVER:
        text = "lower the rate, or raise the tracker's quota"
        if settings.retry_mode != "adaptive":
            adaptive = "--retry-mode adaptive" if cli else "RetryPolicy(mode='adaptive')"
            text += f"; {adaptive} delivers as fast as the tracker allows"
        return text
    return ""


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
    #: the current target: the schedule's rate at the latest send (None for replay);
    #: ``settings.schedule`` says the whole schedule
    target_rate: float | None
    #: first sends that reached the tracker, per second over the sending span (NaN before two)
    achieved_rate: float
    #: planned sends that passed unsent: the client, not the service, limited the rate
    missed_sends: int
    #: the client limited the rate (``limited_by`` says how)
    bottleneck: bool
    duration_s: float
    #: what limited the rate, and the evidence (see :meth:`advice` for what to change)
    limited_by: Limit = Limit.NONE
    diagnosis: str = ""
    #: the retry mode that ran: "standard" or "adaptive"
    retry_mode: str = "standard"
    # -- latency (ms) -----------------------------------------------------------------------
    #: delivered requests, from the *intended* time of the first attempt (coordinated-omission
    #: corrected: includes backlog, backoff and retries)
    latency_intended: LatencySummary
    #: every attempt, from when it went on the wire (a connection or a thread acquired)
    latency_service: LatencySummary
    #: every attempt, its wait in the client for a connection or a thread before the wire
    latency_queue: LatencySummary = field(default_factory=lambda: LatencySummary(0))
    settings: RunSettings = field(default_factory=RunSettings)

    def advice(self, style: Literal["python", "cli"] = "python") -> str:
        """What to change so the limit named by ``limited_by`` goes away ("" when none)."""
        return advice(self.limited_by, self.settings, style)

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
            ("queue time p50 / p90 / p99 (ms), in the client", self.latency_queue.describe()),
            ("transport · retry mode", f"{self.settings.transport} · {self.retry_mode}"),
            ("balanced · complete", f"{self.balanced} · {self.complete}"),
        ]  # fmt: skip
        if self.limited_by is not Limit.NONE:
            rows.append((f"limited by {self.limited_by}", f"{self.diagnosis}: {self.advice()}"))
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
            elif isinstance(value, RunSettings):
                out[f.name] = asdict(value)
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
