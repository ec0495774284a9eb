"""What to do after an attempt: pure retry policy (classification, backoff, limits).

Throttling, 5xx and connection errors are retried with exponential backoff and
*full jitter* (sleep a uniform time in ``[0, min(cap, base·2^(attempt-1))]``, as the AWS
Architecture Blog recommends), bounded by ``max_attempts`` and by ``deadline`` seconds
after the request's intended send time. Everything else the service refuses
(``InvalidInputException`` above all) goes straight to the dead letters, never retried:
sending the same bad request again cannot succeed.

>>> classify(400, "ThrottlingException")
'throttled'
>>> policy = RetryPolicy(base=0.1, cap=1.0)
>>> decision = policy.decide(
...     attempt=1, status=400, error_code="InvalidInputException", elapsed=0.0, rng=0
... )
>>> decision.action, decision.reason
(<Outcome.DEAD_LETTER: 'dead_letter'>, 'InvalidInputException is not retryable')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._checks import count, positive
from ._records import Outcome

__all__ = [
    "CONNECTION_ERROR",
    "THROTTLING_CODES",
    "Decision",
    "RetryPolicy",
    "classify",
]

#: error codes that mean "slow down" (botocore's own list, plus HTTP 429)
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",
        "ProvisionedThroughputExceededException",
    }
)
#: error code the targets report when no HTTP response came back (refused, reset, timeout)
CONNECTION_ERROR = "ConnectionError"

Kind = Literal["ok", "throttled", "server_error", "connection_error", "client_error"]


def classify(status: int | None, error_code: str | None) -> Kind:
    """Sort a result: ok, throttled, server_error, connection_error or client_error."""
    if error_code == CONNECTION_ERROR:
        return "connection_error"
    if error_code in THROTTLING_CODES or status == 429:
        return "throttled"
    if status is not None and status >= 500:
        return "server_error"
    if error_code or (status is not None and status >= 300):
        return "client_error"
    return "ok"


@dataclass(frozen=True)
class Decision:
    """What follows an attempt: delivered, a retry after ``delay`` seconds, or a dead letter."""

    action: Outcome
    delay: float = 0.0
    reason: str = ""


_DELIVERED = Decision(Outcome.DELIVERED)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and a deadline.

    ``max_attempts`` counts the first attempt (1 disables retries); ``deadline`` is in
    seconds from the request's intended send time (``math.inf`` for none): a retry that
    would start after it is not made, and the request is dead-lettered.
    """

    max_attempts: int = 8
    base: float = 0.05
    cap: float = 5.0
    deadline: float = 120.0

    def __post_init__(self) -> None:
        count(self.max_attempts, "max_attempts", low=1)
        positive(self.base, "base")
        positive(self.cap, "cap")
        positive(self.deadline, "deadline", finite=False)  # math.inf: no deadline

    def backoff(self, attempt: int, rng: Any) -> float:
        """Full-jitter delay before attempt ``attempt + 1``: U[0, min(cap, base·2^(attempt-1))]."""
        ceiling = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return float(np.random.default_rng(rng).uniform(0.0, ceiling))

    def decide(
        self,
        *,
        attempt: int,
        status: int | None,
        error_code: str | None,
        elapsed: float,
        rng: Any,
    ) -> Decision:
        """What follows attempt ``attempt`` (1-based), ``elapsed`` s after the intended time."""
        kind = classify(status, error_code)
        if kind == "ok":
            return _DELIVERED
        what = error_code or status
        if kind == "client_error":
            return Decision(Outcome.DEAD_LETTER, reason=f"{what} is not retryable")
        if attempt >= self.max_attempts:
            return Decision(Outcome.DEAD_LETTER, reason=f"{what} after {attempt} attempts")
        delay = self.backoff(attempt, rng)
        if elapsed + delay > self.deadline:
            reason = f"{what}; the retry deadline of {self.deadline:g} s passed"
            return Decision(Outcome.DEAD_LETTER, reason=reason)
        return Decision(Outcome.RETRY, delay=delay, reason=kind)
