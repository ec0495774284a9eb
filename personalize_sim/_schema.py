"""Column names of the events frame and how they map to PutEvents fields.

The frame speaks the interactions dataset's language (``USER_ID``,
``TIMESTAMP``…); requests speak the API's (``userId``, ``sentAt``…). This
module is the one place that knows both.
"""

from __future__ import annotations

import re

__all__ = [
    "API_ALIASES",
    "ATTRIBUTION_SOURCE",
    "EVENT_COLUMNS",
    "EVENT_ID",
    "EVENT_TYPE",
    "EVENT_VALUE",
    "IMPRESSION",
    "IMPRESSION_SEPARATOR",
    "ITEM_ID",
    "NOT_SENT",
    "RECOMMENDATION_ID",
    "RECOMMENDER_ARN",
    "SESSION_ID",
    "TIMESTAMP",
    "USER_ID",
    "camel_case",
    "snake_upper",
]

USER_ID = "USER_ID"
SESSION_ID = "SESSION_ID"
ITEM_ID = "ITEM_ID"
EVENT_TYPE = "EVENT_TYPE"
EVENT_VALUE = "EVENT_VALUE"
TIMESTAMP = "TIMESTAMP"
EVENT_ID = "EVENT_ID"
IMPRESSION = "IMPRESSION"
RECOMMENDATION_ID = "RECOMMENDATION_ID"
ATTRIBUTION_SOURCE = "EVENT_ATTRIBUTION_SOURCE"
#: who issued the event's RECOMMENDATION_ID (simulated frames, a tracker's events, the loop)
RECOMMENDER_ARN = "RECOMMENDER_ARN"

#: The events-frame contract of docs/architecture.md, in its canonical order.
EVENT_COLUMNS = (
    USER_ID,
    SESSION_ID,
    ITEM_ID,
    EVENT_TYPE,
    EVENT_VALUE,
    TIMESTAMP,
    EVENT_ID,
    IMPRESSION,
    RECOMMENDATION_ID,
    ATTRIBUTION_SOURCE,
)

#: UPPER_CASE columns about an event that PutEvents does not carry, so never sent as
#: properties: the issuer of its recommendation, and what a tracker's store adds
NOT_SENT = (RECOMMENDER_ARN, "TRACKING_ID", "RECEIVED_AT")

#: Where each frame column goes in a request: the top level or the event.
API_NAMES = {
    USER_ID: "userId",
    SESSION_ID: "sessionId",
    ITEM_ID: "itemId",
    EVENT_TYPE: "eventType",
    EVENT_VALUE: "eventValue",
    TIMESTAMP: "sentAt",
    EVENT_ID: "eventId",
    IMPRESSION: "impression",
    RECOMMENDATION_ID: "recommendationId",
    ATTRIBUTION_SOURCE: "eventAttributionSource",
}

#: camelCase API names (and common spellings) accepted as frame columns.
API_ALIASES = {api: column for column, api in API_NAMES.items()}
API_ALIASES["metricAttribution"] = ATTRIBUTION_SOURCE

#: bulk CSV separator for multi-value fields such as IMPRESSION
IMPRESSION_SEPARATOR = "|"

_WORD = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
_SNAKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$")


def camel_case(column: str) -> str | None:
    """The property key Personalize expects for a dataset column, or None if there is none.

    >>> camel_case("NUM_RATINGS"), camel_case("discount"), camel_case("numRatings")
    ('numRatings', 'discount', 'numRatings')
    """
    if _CAMEL.match(column):
        return column
    if not _SNAKE.match(column):
        return None
    first, *rest = column.split("_")
    return first.lower() + "".join(word.capitalize() for word in rest)


def snake_upper(key: str) -> str:
    """The dataset column of a camelCase property key: ``numRatings`` → ``NUM_RATINGS``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).upper()
