"""What to do after an attempt: pure retry policy (classification, backoff, limits).

Throttling, 5xx and connection errors are retried with capped exponential backoff and
*full jitter* (sleep a uniform time in ``[0, min(cap, base·2^(attempt-1))]``, as the AWS
Architecture Blog recommends) until ``deadline`` seconds after the request's intended send
time: a tracker restart or a few minutes of throttling are ridden out, not dead-lettered.
``max_attempts`` optionally caps the attempts too (None, the default: only the deadline).
Everything else the service refuses (``InvalidInputException`` above all) goes straight to
the dead letters, never retried: sending the same bad request again cannot succeed.

``mode="adaptive"`` adds a client-side send rate that backs off on throttling and probes
back up (:mod:`._adaptive`, as botocore's adaptive retry mode), for delivering as fast as the
tracker allows rather than on a fixed open-model schedule.

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

from .._checks import check, count, one_of, positive
from ._records import Outcome

__all__ = [
    "CONNECTION_ERROR",
    "RETRY_MODES",
    "THROTTLING_CODES",
    "TLS_ERROR",
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
#: error code of an answer lost to a certificate or host name that did not verify (not retried)
TLS_ERROR = "TlsError"

#: ``standard``: backoff and full jitter; ``adaptive``: the same, under a client-side rate limit
RETRY_MODES = ("standard", "adaptive")

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
    """Capped exponential backoff with full jitter, until a deadline.

    ``deadline`` is in seconds from the request's intended send time (``math.inf`` for
    none): a retry that would start after it is not made, and the request is dead-lettered.
    ``max_attempts`` (None by default) also caps the attempts, counting the first (1 disables
    retries). ``mode="adaptive"`` also limits the send rate on the client while the tracker
    throttles (see :mod:`personalize_sim.streaming._adaptive`).

    >>> try:
    ...     RetryPolicy(max_attempts=0)
    ... except ValueError as e:
    ...     print(e)
    max_attempts: got 0; an integer >= 1 (or no cap at all: retry until the deadline)
    """

    deadline: float = 120.0
    max_attempts: int | None = None
    base: float = 0.05
    cap: float = 5.0
    mode: Literal["standard", "adaptive"] = "standard"

    def __post_init__(self) -> None:
        if self.max_attempts is not None:
            if isinstance(self.max_attempts, int) and not isinstance(self.max_attempts, bool):
                check(
                    self.max_attempts >= 1, "max_attempts", self.max_attempts,
                    "an integer >= 1 (or no cap at all: retry until the deadline)",
                )  # fmt: skip
            count(self.max_attempts, "max_attempts", low=1)
        positive(self.base, "base")
        positive(self.cap, "cap")
        positive(self.deadline, "deadline", finite=False)  # math.inf: no deadline
        one_of(self.mode, "mode", RETRY_MODES)

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
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return Decision(Outcome.DEAD_LETTER, reason=f"{what} after {attempt} attempts")
        delay = self.backoff(attempt, rng)
        if elapsed + delay > self.deadline:
            reason = f"{what}; the retry deadline of {self.deadline:g} s passed"
            return Decision(Outcome.DEAD_LETTER, reason=reason)
        return Decision(Outcome.RETRY, delay=delay, reason=kind)
