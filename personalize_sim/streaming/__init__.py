"""③ Rate-controlled streaming: schedules, pacing, retries, targets, delivery log, handle.

:func:`open_stream` builds a :class:`StreamHandle` (not yet started) from a source, a rate
schedule and a target; :func:`personalize_sim.stream` starts it (and can show a dashboard).
Every attempt becomes an :class:`Attempt` record; :class:`DeliverySummary` sums them up.
"""

from __future__ import annotations

from .._latency import LatencySummary
from ._checkpoint import Checkpoint
from ._handle import Listener, StreamHandle
from ._log import DeliveryLog
from ._open import open_stream
from ._options import Conversion, Pacing
from ._records import Attempt, DeadLetter, Outcome
from ._retry import RetryPolicy
from ._schedules import Schedule, constant, poisson, ramp, rate_function, replay, steps
from ._summary import DeliverySummary, StreamState
from ._targets import Boto3Target, FastTarget, JsonlTarget, MemoryTarget, Response, Target

__all__ = [
    "Attempt",
    "Boto3Target",
    "Checkpoint",
    "Conversion",
    "DeadLetter",
    "DeliveryLog",
    "DeliverySummary",
    "FastTarget",
    "JsonlTarget",
    "LatencySummary",
    "Listener",
    "MemoryTarget",
    "Outcome",
    "Pacing",
    "Response",
    "RetryPolicy",
    "Schedule",
    "StreamHandle",
    "StreamState",
    "Target",
    "constant",
    "open_stream",
    "poisson",
    "ramp",
    "rate_function",
    "replay",
    "steps",
]
