"""What a valid write request stores: its rows, in the layout of the store's tables.

:func:`event_rows` turns a PutEvents request into ``events`` rows (docs/architecture.md,
"Emulator store"), checking what the model cannot carry: ``sentAt`` a time botocore can
hold (:data:`SENT_AT_RANGE`), ``eventValue`` as the API's float. :func:`record_rows`
does the same for PutItems / PutUsers / PutActions, :func:`action_interaction_rows` for
PutActionInteractions (``timestamp`` checked as ``sentAt`` is).

>>> rows = event_rows({"trackingId": "t", "sessionId": "s",
...     "eventList": [{"eventType": "click", "sentAt": "1.5"}]}, "req", received=9.0)
>>> rows[0][3], rows[0][8], rows[0][12]
('req-0', 1.5, 9.0)
"""

from __future__ import annotations

from typing import Any

from personalize_sim import _operations as operations
from personalize_sim import limits
from personalize_sim._timestamps import wire_seconds

from ._bodies import INVALID, RefusedError
from ._messages import aws_message

__all__ = ["SENT_AT_RANGE", "action_interaction_rows", "event_rows", "record_rows"]

#: sentAt accepted, epoch seconds: what botocore (a Python datetime) can represent, years 1-9999
SENT_AT_RANGE = (-62_135_596_800.0, 253_402_300_800.0)


def event_rows(
    request: dict[str, Any], request_id: str, *, received: float
) -> list[tuple[Any, ...]]:
    """One row per event; an event without an id gets ``{request_id}-{index}``."""
    import orjson

    tracking_id, session_id = request["trackingId"], request["sessionId"]
    user_id = request.get("userId")
    rows = []
    for i, event in enumerate(request["eventList"]):
        sent_at = _sent_at(event["sentAt"])
        if sent_at is None:
            violation = limits.Violation(
                f"eventList[{i}].sentAt", "timestamp_range", event["sentAt"]
            )
            raise RefusedError(
                400, INVALID, aws_message([violation], limits.operation_limits("PutEvents"))
            )
        value = event.get("eventValue")
        impression = event.get("impression")
        attribution = event.get("metricAttribution")
        rows.append(
            (
                tracking_id,
                user_id,
                session_id,
                # Personalize makes up an id when none is given; ours derive from the request id
                event.get("eventId") or f"{request_id}-{i}",
                event["eventType"],
                None if value is None else float(value),  # the API's type: finite, checked
                event.get("itemId"),
                event.get("properties"),
                sent_at,
                event.get("recommendationId"),
                None if impression is None else orjson.dumps(impression).decode(),
                None if attribution is None else attribution.get("eventAttributionSource"),
                received,
            )
        )
    return rows


def record_rows(
    operation: str, request: dict[str, Any], *, received: float
) -> tuple[str, list[tuple[Any, ...]]]:
    """The table and rows of a PutItems / PutUsers / PutActions request (the latest record
    of an id wins); the table is named after the request member (``items``)."""
    kind = operations.record_operation(operation)
    arn = request["datasetArn"]
    records = request[kind.member]
    return kind.member, [(arn, r[kind.key], r.get("properties"), received) for r in records]


def action_interaction_rows(
    request: dict[str, Any], request_id: str, *, received: float
) -> list[tuple[Any, ...]]:
    """One ``action_interactions`` row per interaction; one without an id gets
    ``{request_id}-{index}``, as an event does."""
    import orjson

    tracking_id = request["trackingId"]
    rows = []
    for i, interaction in enumerate(request["actionInteractions"]):
        at = _sent_at(interaction["timestamp"])
        if at is None:
            path = f"actionInteractions[{i}].timestamp"
            violation = limits.Violation(path, "timestamp_range", interaction["timestamp"])
            ops = limits.operation_limits("PutActionInteractions")
            raise RefusedError(400, INVALID, aws_message([violation], ops))
        impression = interaction.get("impression")
        rows.append(
            (
                tracking_id,
                interaction.get("userId"),
                interaction["sessionId"],
                interaction.get("eventId") or f"{request_id}-{i}",
                interaction["actionId"],
                interaction["eventType"],
                at,
                interaction.get("recommendationId"),
                None if impression is None else orjson.dumps(impression).decode(),
                interaction.get("properties"),
                received,
            )
        )
    return rows


def _sent_at(value: Any) -> float | None:
    """Epoch seconds from a JSON number or a numeric / ISO-8601 string, rounded to the µs as
    botocore reads it; None for anything else or outside what a datetime can hold."""
    try:
        seconds = float(wire_seconds(value))
    except (TypeError, ValueError, OverflowError):  # ConfigError is a ValueError too
        return None
    low, high = SENT_AT_RANGE
    return seconds if low <= seconds < high else None
