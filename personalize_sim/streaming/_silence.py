"""When a run gives up on an endpoint that has never answered (pure: times in, a verdict out).

A wrong URL, no tracker running or a hung server would otherwise be retried until every
request's deadline. The run ends when the endpoint has never answered (no HTTP status at all,
not even an error) and attempts keep failing to connect ``NEVER_ANSWERED_S`` after the first
failed one was handed to the transport: in seconds when connections are refused, at the
first answer timeout when they are accepted and nothing comes back. An endpoint that has
answered once and then goes away is an outage, retried until the deadline.

>>> silence = Silence()
>>> silence.observe(status=0, error_code="ConnectionError", handed=0.0, now=0.01)
False
>>> silence.observe(status=0, error_code="ConnectionError", handed=1.5, now=2.01)
True
>>> answered = Silence()
>>> answered.observe(status=503, error_code="ServiceUnavailable", handed=0.0, now=0.1)
False
>>> answered.observe(status=0, error_code="ConnectionError", handed=0.2, now=30.2)
False
"""

from __future__ import annotations

import math

from ._retry import CONNECTION_ERROR

__all__ = ["NEVER_ANSWERED_S", "Silence"]

#: seconds from the first failed attempt's hand-over, with no answer ever, before giving up
NEVER_ANSWERED_S = 2.0


class Silence:
    """Whether the endpoint has ever answered, and since when its attempts fail."""

    def __init__(self) -> None:
        self.answered = False
        self.failing_since = math.nan  # when the earliest failed attempt was handed over

    def observe(
        self, *, status: int, error_code: str, handed: float, now: float, giving_up: bool = False
    ) -> bool:
        """Note one attempt's result; True when the run should end (``giving_up``: the retry
        policy would dead-letter a request on it, which an endpoint never answering forbids)."""
        if status:  # any HTTP answer, even an error: the endpoint is there
            self.answered = True
            return False
        if self.answered or error_code != CONNECTION_ERROR:
            return False
        if not self.failing_since <= handed:  # NaN, or an earlier attempt failed later
            self.failing_since = handed
        return giving_up or now - self.failing_since >= NEVER_ANSWERED_S
