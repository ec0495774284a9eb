"""Normalisation: one pass over the frame that both validates and prepares every field.

Each field is read by its own step (text fields, event values, impressions, sentAt,
properties); every bad value goes to the problem report, so one call finds them all.

>>> import pandas as pd
>>> frame = pd.DataFrame({"sessionId": ["s1"], "EVENT_TYPE": [""], "TIMESTAMP": [1.5]})
>>> events, problems = normalise(frame, properties=None, time_unit="s", derive_ids=True)
>>> events.sent_us.tolist(), len(events.fields["eventId"][0])
([1500000], 32)
>>> problems.frame()[["field", "reason"]].values.tolist()
[['EVENT_TYPE', 'empty']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .. import _schema as schema
from .. import limits
from .._checks import instance
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
from ._columns import resolve_columns
from ._event_ids import event_ids
from ._event_values import event_values
from ._events import Events
from ._impressions import impressions
from ._problems import ProblemReport
from ._properties import encode_properties, property_columns
from ._requests import event_dict
from ._sent_at import TimeUnit, check_time_unit, epoch_microseconds
from ._strings import absent_text, text_column

__all__ = ["normalise"]

# Text fields: the frame's column, the API's name, the field's path in botocore's model.
_TEXT_FIELDS = (
    (SESSION_ID, "sessionId", "sessionId"),
    (USER_ID, "userId", "userId"),
    (EVENT_ID, "eventId", "eventList[].eventId"),
    (EVENT_TYPE, "eventType", "eventList[].eventType"),
    (ITEM_ID, "itemId", "eventList[].itemId"),
    (RECOMMENDATION_ID, "recommendationId", "eventList[].recommendationId"),
    (
        ATTRIBUTION_SOURCE,
        "metricAttribution",
        "eventList[].metricAttribution.eventAttributionSource",
    ),
)
# Columns every frame needs, if the model says the field they fill is required.
_REQUIRED = {
    SESSION_ID: "sessionId",
    EVENT_TYPE: "eventList[].eventType",
    TIMESTAMP: "eventList[].sentAt",
}


def normalise(
    frame: pd.DataFrame,
    *,
    properties: Sequence[str] | None,
    time_unit: TimeUnit | None,
    derive_ids: bool,
) -> tuple[Events, ProblemReport]:
    """The frame's events as arrays, and every problem found on the way.

    Bad arguments (not a DataFrame, an unknown ``time_unit``, two columns for one field,
    ``properties`` naming columns that are not there) raise
    :class:`~personalize_sim.errors.ConfigError`; bad rows go to the report.
    """
    instance(frame, "frame", pd.DataFrame, "a pandas DataFrame")
    check_time_unit(time_unit)
    resolved = resolve_columns(frame)
    named, blob = property_columns(frame, resolved, properties)
    problems = ProblemReport(labels=frame.index)
    _report_missing_columns(resolved, problems)
    events = Events(len(frame))
    _read_text_fields(events, frame, resolved, problems)
    _read_event_values(events, frame, resolved, problems)
    _read_impressions(events, frame, resolved, problems)
    _read_sent_at(events, frame, resolved, time_unit, problems)
    _read_properties(events, frame, named, blob, problems)
    _report_duplicate_ids(events, resolved, problems)
    if derive_ids:
        events.fields["eventId"] = event_ids(events)
    _report_large_events(events, problems)
    return events, problems


def _required(column: str) -> bool:
    return (
        column in _REQUIRED
        and limits.operation_limits("PutEvents").field(_REQUIRED[column]).required
    )


def _report_missing_columns(resolved: Mapping[str, str], problems: ProblemReport) -> None:
    for column in _REQUIRED:
        if _required(column) and column not in resolved:
            problems.add(
                None,
                column,
                "missing_column",
                None,
                f"a {column} column (or {schema.API_NAMES[column]}) is required",
            )


def _read_text_fields(
    events: Events, frame: pd.DataFrame, resolved: Mapping[str, str], problems: ProblemReport
) -> None:
    model = limits.operation_limits("PutEvents")
    for column, name, path in _TEXT_FIELDS:
        if column not in resolved:
            text = absent_text(events.n)
        else:
            series = frame[resolved[column]]
            text = text_column(
                series, resolved[column], model.field(path), problems, required=_required(column)
            )
        events.set_field(name, text.values, text.present, text.lengths)
        if text.typed is not None:
            events.typed[name] = text.typed


def _read_event_values(
    events: Events, frame: pd.DataFrame, resolved: Mapping[str, str], problems: ProblemReport
) -> None:
    if EVENT_VALUE in resolved:
        column = resolved[EVENT_VALUE]
        values = event_values(frame[column], column, problems)
    else:
        values = np.full(events.n, np.nan)
    events.fields["eventValue"] = values
    events.present["eventValue"] = ~np.isnan(values)


def _read_impressions(
    events: Events, frame: pd.DataFrame, resolved: Mapping[str, str], problems: ProblemReport
) -> None:
    if IMPRESSION in resolved:
        column = resolved[IMPRESSION]
        lists, chars = impressions(frame[column], column, problems)
    else:
        lists, chars = np.full(events.n, None, dtype=object), np.zeros(events.n, dtype=np.int64)
    # a list's characters include separators, so an empty list counts as absent
    events.set_field("impression", lists, chars > 0, chars)


def _read_sent_at(
    events: Events,
    frame: pd.DataFrame,
    resolved: Mapping[str, str],
    time_unit: TimeUnit | None,
    problems: ProblemReport,
) -> None:
    if TIMESTAMP in resolved:
        column = resolved[TIMESTAMP]
        events.sent_us = epoch_microseconds(frame[column], column, time_unit, problems)
    else:
        events.sent_us = np.zeros(events.n, dtype=np.int64)


def _read_properties(
    events: Events,
    frame: pd.DataFrame,
    named: list[str],
    blob: str | None,
    problems: ProblemReport,
) -> None:
    events.set_field("properties", encode_properties(frame, named, blob, problems))
    longest = limits.operation_limits("PutEvents").field("eventList[].properties").max
    if longest is not None:
        problems.add(
            events.lengths["properties"] > longest,
            blob or "properties",
            "too_long",
            events.fields["properties"],
            f"JSON length <= {longest}",
        )


def _report_duplicate_ids(
    events: Events, resolved: Mapping[str, str], problems: ProblemReport
) -> None:
    if EVENT_ID not in resolved:
        return
    given = events.fields["eventId"]
    dup = pd.Series(given).duplicated(keep="first").to_numpy() & events.present["eventId"]
    problems.add(
        dup,
        resolved[EVENT_ID],
        "duplicate_event_id",
        given,
        "unique; Personalize keeps only the first event with an id",
    )


def _report_large_events(events: Events, problems: ProblemReport) -> None:
    """The 10 KB per-event rule, checked exactly only where a cheap bound says it might fail."""
    n = events.n
    if not n:
        return
    text = ("itemId", "eventType", "recommendationId", "metricAttribution", "properties")
    chars = sum(events.lengths[name] for name in text)
    chars = chars + np.maximum(events.lengths["eventId"], 40)  # derived ids: 32 characters
    chars += events.lengths["impression"]
    # UTF-8 and JSON escapes cost at most 6 bytes a character; keys and numbers about 200
    suspects = np.flatnonzero(chars * 6 + 200 > limits.EVENT_MAX_BYTES)
    if not len(suspects):
        return
    mask = np.zeros(n, dtype=bool)
    sizes = np.zeros(n, dtype=np.int64)
    for i in suspects:
        size = limits.event_size(event_dict(events, int(i)))
        sizes[i] = size
        mask[i] = size > limits.EVENT_MAX_BYTES
    problems.add(
        mask, "event", "event_too_large", sizes, f"<= {limits.EVENT_MAX_BYTES} bytes of JSON"
    )
