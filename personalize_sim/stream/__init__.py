"""③ Rate-controlled streaming: schedules, pacing, retries, targets, delivery log, handle.

``schedules`` (when each request is due) · ``pacer`` (open-model arithmetic) · ``retry``
(backoff policy) · ``targets`` (boto3, fast signed HTTP, JSONL, memory; the only socket
users here) · ``sender`` (the asyncio driver) · ``log`` (attempt records and summary) ·
``checkpoint`` · ``handle`` (:class:`StreamHandle`) · ``workers`` (``processes=N``) ·
``api`` (:func:`stream`) · ``cli`` (``personalize-sim stream``).

Names load on first use, so importing this package (as the CLI parser does) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr, make_callable

_EXPORTS = {
    "stream": "api",
    "StreamHandle": "handle",
    "Schedule": "schedules",
    "constant": "schedules",
    "ramp": "schedules",
    "steps": "schedules",
    "poisson": "schedules",
    "replay": "schedules",
    "rate_function": "schedules",
    "RetryPolicy": "retry",
    "Target": "targets",
    "Response": "targets",
    "Boto3Target": "targets",
    "FastTarget": "targets",
    "JsonlTarget": "targets",
    "MemoryTarget": "targets",
    "Attempt": "log",
    "DeliveryLog": "log",
    "Checkpoint": "checkpoint",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs; the names load lazily below
    from .api import stream  # noqa: F401
    from .checkpoint import Checkpoint  # noqa: F401
    from .handle import StreamHandle  # noqa: F401
    from .log import Attempt, DeliveryLog  # noqa: F401
    from .retry import RetryPolicy  # noqa: F401
    from .schedules import Schedule, constant, poisson, ramp, rate_function, replay, steps  # noqa: F401
    from .targets import Boto3Target, FastTarget, JsonlTarget, MemoryTarget, Response, Target  # noqa: F401


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


make_callable(__name__, f"{__name__}.api", "stream")  # see personalize_sim._lazy
