"""When a run gives up on an endpoint that has never answered (pure: results in, a verdict out).

A wrong URL, no tracker running or a hung server would otherwise be retried until every
request's deadline. The run ends when the endpoint has never answered (no HTTP status at all,
not even an error) and attempts keep failing to connect ``NEVER_ANSWERED_S`` after the first
failed one was handed to the transport: in seconds when connections are refused, at the
first answer timeout when they are accepted and nothing comes back. A certificate that does
not verify, before any answer, ends it at once as a settings problem (a
:class:`~personalize_sim.errors.ConfigError` naming ``endpoint_url``, as every transport
reports it). An endpoint that has answered once and then goes away is an outage, retried
until the deadline.

>>> refused = Response(0, "ConnectionError", "connection refused")
>>> silence = Silence("http://127.0.0.1:9")
>>> silence.observe(refused, handed=0.0, now=0.01) is None
True
>>> print(silence.observe(refused, handed=1.5, now=2.01))  # doctest: +ELLIPSIS
the endpoint http://127.0.0.1:9 never answered (connection refused); nothing was delivered...
>>> answered = Silence("http://127.0.0.1:9")
>>> answered.observe(Response(503, "ServiceUnavailable"), handed=0.0, now=0.1) is None
True
>>> answered.observe(refused, handed=0.2, now=30.2) is None  # an outage: retried
True
"""

from __future__ import annotations

import math

from ..errors import ConfigError, DeliveryError, PersonalizeSimError
from ._retry import CONNECTION_ERROR, TLS_ERROR
from ._transports.base import Response

__all__ = ["NEVER_ANSWERED_S", "Silence"]

#: seconds from the first failed attempt's hand-over, with no answer ever, before giving up
NEVER_ANSWERED_S = 2.0


class Silence:
    """Whether ``endpoint`` has ever answered, and since when its attempts fail."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.answered = False
        self.failing_since = math.nan  # when the earliest failed attempt was handed over

    def observe(
        self, response: Response, *, handed: float, now: float, giving_up: bool = False
    ) -> PersonalizeSimError | None:
        """Note one attempt's result; the error that ends the run, or None (``giving_up``:
        the retry policy would dead-letter a request on it, which silence forbids)."""
        if response.status:  # any HTTP answer, even an error: the endpoint is there
            self.answered = True
            return None
        if self.answered:
            return None
        if response.error_code == TLS_ERROR:  # nothing can be delivered: fix the settings
            return ConfigError("endpoint_url", self.endpoint, response.message)
        if response.error_code != CONNECTION_ERROR:
            return None
        if not self.failing_since <= handed:  # NaN, or an earlier attempt failed later
            self.failing_since = handed
        if giving_up or now - self.failing_since >= NEVER_ANSWERED_S:
            return DeliveryError(
                f"the endpoint {self.endpoint} never answered ({response.message}); nothing "
                "was delivered or dead-lettered, every request is still pending: is a "
                "tracker running there, and is the URL right?"
            )
        return None
