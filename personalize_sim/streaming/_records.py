"""What the sender emits: an :class:`Attempt` per try, a :class:`DeadLetter` per request given up.

This is a contract (the delivery log, the dashboard, the plots, the CLI and the checkpoint
read it); keep it stable.

**Attempt record** (also one row of :meth:`DeliveryLog.frame`). Times are seconds on the
monotonic clock since the stream started (``summary.started_at`` is that start as Unix
epoch seconds):

=============  =======  ==========================================================================
column         dtype    meaning
=============  =======  ==========================================================================
request_id     str      deterministic id of the PutEvents request (same rows → same id)
attempt        int      1 for the first send, 2… for retries
worker         int      process index (0 unless ``processes=N``)
events         int      events in the request
intended       float    when the first attempt was planned (schedule + pauses; never slips)
scheduled      float    when this attempt was due (after slips for attempt 1; after backoff later)
sent           float    when the request went on the wire (a connection or a boto3 thread acquired)
finished       float    when the response (or the connection error) came back
status         int      HTTP status; 0 when no response came back
error_code     str      ``""`` on success, else e.g. ThrottlingException, InvalidInputException,
                        InternalFailure, ConnectionError
message        str      the service's error message (``""`` on success)
outcome        str      ``delivered`` | ``retry`` (another attempt follows) | ``dead_letter``
missed         bool     attempt 1 only: its planned slot passed unsent (client was the bottleneck)
target_rate    float    target rate when sent, in ``summary.unit``/s (NaN for replay)
sdk_retries    int      retries the boto3 client made inside this attempt (0 when turned off)
queued         float    seconds it waited in the client for a connection or a thread before
                        ``sent`` (the transport's queue; ``finished - sent`` is the service's)
=============  =======  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

__all__ = ["COLUMNS", "DTYPES", "Attempt", "DeadLetter", "Outcome"]


class Outcome(str, Enum):
    """How an attempt ended for its request."""

    DELIVERED = "delivered"
    RETRY = "retry"  # another attempt follows
    DEAD_LETTER = "dead_letter"  # given up: see the dead letters

    def __str__(self) -> str:
        return self.value


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
    outcome: Outcome
    missed: bool
    target_rate: float
    sdk_retries: int
    queued: float = 0.0


#: the columns of the delivery log, in order, and their dtypes
COLUMNS = tuple(f.name for f in fields(Attempt))
DTYPES = {
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
    "queued": "float64",
}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A request that will not be delivered, with the service's last word on it."""

    request_id: str
    events: int
    error_code: str
    message: str
    reason: str
    request: dict[str, Any]
