"""③ Rate-controlled streaming: schedules, pacing, retries, targets, delivery log, handle.

:func:`open_stream` builds a :class:`StreamHandle` (not yet started) from a source, a rate
schedule and a target; ``personalize_sim.stream`` starts it (and shows a dashboard).
"""

from __future__ import annotations

from ._checkpoint import Checkpoint
from ._handle import StreamHandle
from ._log import Attempt, DeliveryLog
from ._open import open_stream
from ._retry import RetryPolicy
from ._schedules import Schedule, constant, poisson, ramp, rate_function, replay, steps
from ._targets import Boto3Target, FastTarget, JsonlTarget, MemoryTarget, Response, Target

__all__ = [
    "Attempt",
    "Boto3Target",
    "Checkpoint",
    "DeliveryLog",
    "FastTarget",
    "JsonlTarget",
    "MemoryTarget",
    "Response",
    "RetryPolicy",
    "Schedule",
    "StreamHandle",
    "Target",
    "constant",
    "open_stream",
    "poisson",
    "ramp",
    "rate_function",
    "replay",
    "steps",
]
