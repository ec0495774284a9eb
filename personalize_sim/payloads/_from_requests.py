"""The inverse of :func:`to_put_events`: PutEvents requests back to an events frame."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as schema
from .._schema import (
    ATTRIBUTION_SOURCE,
    EVENT_ID,
    EVENT_TYPE,
    EVENT_VALUE,
    IMPRESSION,
    ITEM_ID,
    RECOMMENDATION_ID,
    SESSION_ID,
    TIMESTAMP,
    USER_ID,
)
from .._timestamps import epoch_us, utc_from_seconds, utc_from_us, wire_seconds

__all__ = ["from_put_events"]


def from_put_events(requests: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The events frame of ``requests``: the inverse of :func:`to_put_events`.

    Rows come in request order; property keys become UPPER_SNAKE_CASE columns.

    >>> frame = from_put_events([{"trackingId": "t", "sessionId": "s1", "eventList": [
    ...     {"eventType": "View", "sentAt": 1.5, "properties": '{"numRatings": 4}'}]}])
    >>> frame[["SESSION_ID", "EVENT_TYPE", "TIMESTAMP", "NUM_RATINGS"]].values.tolist()
    [['s1', 'View', Timestamp('1970-01-01 00:00:01.500000+0000', tz='UTC'), 4]]
    """
    rows: dict[str, list[Any]] = {c: [] for c in schema.EVENT_COLUMNS}
    props: list[dict[str, Any]] = []
    for request in requests:
        user, session = request.get("userId"), request["sessionId"]
        for event in request["eventList"]:
            rows[USER_ID].append(user)
            rows[SESSION_ID].append(session)
            rows[ITEM_ID].append(event.get("itemId"))
            rows[EVENT_TYPE].append(event["eventType"])
            value = event.get("eventValue")
            rows[EVENT_VALUE].append(np.nan if value is None else float(value))
            rows[TIMESTAMP].append(event["sentAt"])
            rows[EVENT_ID].append(event.get("eventId"))
            impression = event.get("impression")
            rows[IMPRESSION].append(None if impression is None else list(impression))
            rows[RECOMMENDATION_ID].append(event.get("recommendationId"))
            source = (event.get("metricAttribution") or {}).get("eventAttributionSource")
            rows[ATTRIBUTION_SOURCE].append(source)
            props.append(json.loads(event["properties"]) if event.get("properties") else {})
    frame = pd.DataFrame({c: v for c, v in rows.items() if c not in (TIMESTAMP, IMPRESSION)})
    frame.insert(5, TIMESTAMP, _to_utc(rows[TIMESTAMP]))
    frame.insert(7, IMPRESSION, pd.Series(rows[IMPRESSION], dtype=object))
    keys = list(dict.fromkeys(k for p in props for k in p))
    for key in keys:
        frame[schema.snake_upper(key)] = [p.get(key) for p in props]
    return frame


def _to_utc(values: list[Any]) -> pd.Series:
    """sentAt values (datetimes, epoch seconds, or strings of either) as UTC, to the µs."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.Series(utc_from_seconds(values))
    micros = [
        epoch_us(v) if isinstance(v, dt.datetime) else round(wire_seconds(v) * 1_000_000)
        for v in values
    ]
    return pd.Series(utc_from_us(np.asarray(micros, dtype=np.int64)))
