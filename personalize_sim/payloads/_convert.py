"""The two converters of an events frame: :func:`validate_events` and :func:`to_put_events`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from .. import limits
from .._checks import one_of
from .._gc import paused_gc
from ..errors import ConfigError, ConfigTypeError, PayloadError
from ._normalise import normalise
from ._requests import build_requests
from ._sent_at import TimeUnit

__all__ = ["to_put_events", "validate_events"]


def validate_events(
    frame: pd.DataFrame,
    *,
    properties: Sequence[str] | None = None,
    time_unit: TimeUnit | None = None,
) -> pd.DataFrame:
    """Every problem that would stop rows of ``frame`` from being sent, one row each.

    Columns: ``row`` (the frame's index label, None for a column-wide problem),
    ``field`` (the frame's column), ``reason`` (a stable code such as ``too_long``),
    ``value`` and ``limit``. An empty result means every row can be sent.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"SESSION_ID": ["s1", ""], "EVENT_TYPE": ["View", "View"],
    ...                       "TIMESTAMP": pd.to_datetime(["2024-01-01"] * 2, utc=True)})
    >>> validate_events(frame.head(1)).empty
    True
    >>> validate_events(frame)[["row", "field", "reason", "limit"]].values.tolist()
    [[1, 'SESSION_ID', 'empty', 'length >= 1']]
    """
    found = normalise(frame, properties=properties, time_unit=time_unit, derive_ids=False)[1]
    return found.frame()


@overload
def to_put_events(
    frame: pd.DataFrame,
    tracking_id: str,
    *,
    properties: Sequence[str] | None = ...,
    time_unit: TimeUnit | None = ...,
    errors: Literal["raise"] = ...,
) -> list[dict[str, Any]]: ...


@overload
def to_put_events(
    frame: pd.DataFrame,
    tracking_id: str,
    *,
    properties: Sequence[str] | None = ...,
    time_unit: TimeUnit | None = ...,
    errors: Literal["collect"],
) -> tuple[list[dict[str, Any]], pd.DataFrame]: ...


def to_put_events(
    frame: pd.DataFrame,
    tracking_id: str,
    *,
    properties: Sequence[str] | None = None,
    time_unit: TimeUnit | None = None,
    errors: Literal["raise", "collect"] = "raise",
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], pd.DataFrame]:
    """PutEvents requests for the events of ``frame``: ``client.put_events(**request)``.

    Raises :class:`PayloadError` (with ``.problems``) if any row breaks a limit; with
    ``errors="collect"`` returns ``(requests for the valid rows, problems)`` instead.
    Bad arguments raise :class:`~personalize_sim.errors.ConfigError`. See the package
    docstring for the conversion rules.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"SESSION_ID": ["s1"], "USER_ID": ["u1"], "EVENT_TYPE": ["View"],
    ...                       "ITEM_ID": ["i1"], "EVENT_ID": ["e1"],
    ...                       "TIMESTAMP": pd.to_datetime(["2024-01-01"], utc=True)})
    >>> (request,) = to_put_events(frame, "tid")
    >>> request["userId"], request["eventList"]
    ('u1', [{'eventId': 'e1', 'eventType': 'View', 'itemId': 'i1', 'sentAt': 1704067200.0}])
    >>> to_put_events(frame, "", errors="ignore")
    Traceback (most recent call last):
    ...
    personalize_sim.errors.ConfigError: errors: got 'ignore'; one of 'raise', 'collect'
    """
    one_of(errors, "errors", ("raise", "collect"))
    _check_tracking_id(tracking_id)
    # Millions of new lists and dicts, none of them in a cycle: with the collector paused
    # the conversion takes about a fifth less CPU (benchmarks/payloads.py weighs it).
    with paused_gc():
        events, found = normalise(
            frame, properties=properties, time_unit=time_unit, derive_ids=True
        )
        problems = found.frame()
        if len(problems) and errors == "raise":
            raise PayloadError(problems)
        keep = np.ones(events.n, dtype=bool)
        if found.column_level():
            keep[:] = False
        bad = found.bad_positions()
        keep[bad[bad >= 0]] = False
        requests = build_requests(events, np.flatnonzero(keep), tracking_id)
    return (requests, problems) if errors == "collect" else requests


def _check_tracking_id(tracking_id: Any) -> None:
    """A tracking id the service would accept, checked against botocore's model."""
    event = {"eventType": "t", "sentAt": 0}
    probe = {"trackingId": tracking_id, "sessionId": "s", "eventList": [event]}
    for violation in limits.check_request("PutEvents", probe):
        error = ConfigError if isinstance(tracking_id, str) else ConfigTypeError
        raise error("tracking_id", tracking_id, violation.message)
