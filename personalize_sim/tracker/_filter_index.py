"""What filters read, indexed per field as the data arrives: no request scans the store.

:class:`DatasetIndex` holds the records of one dataset (items or actions, from PutItems /
PutActions, the latest record of an id winning): their properties under the dataset's
column names (``categoryL1`` → ``CATEGORY_L1``), an inverted index per field (value →
ids; a multi-value field ``"a|b"`` is indexed under each value, as Personalize reads
categorical fields) and a sorted index per numeric field, so ``IN`` costs the ids it
returns and a comparison a binary search. :class:`RecentInteractions` keeps, per user and
event type (case ignored, as Personalize matches event types), the most recent ids the
user interacted with: 100 item interactions, 300 action interactions per user and event
type, the numbers the Developer Guide gives ("Filter expressions",
https://docs.aws.amazon.com/personalize/latest/dg/filter-expressions.html).

>>> index = DatasetIndex()
>>> index.upsert("a", '{"genre": "comedy|drama", "price": 5}')
>>> index.upsert("b", '{"genre": "drama", "price": 12.5}')
>>> sorted(index.match("GENRE", "IN", ["drama"])), sorted(index.match("PRICE", "<", [10.0]))
(['a', 'b'], ['a'])
>>> recent = RecentInteractions(limit=2)
>>> for item in ["x", "y", "z"]:
...     recent.add("u1", "Purchase", item)
>>> sorted(recent.ids("u1", ["purchase"]))
['y', 'z']
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from personalize_sim._schema import snake_upper

__all__ = [
    "MAX_RECENT_ACTION_INTERACTIONS",
    "MAX_RECENT_INTERACTIONS",
    "DatasetIndex",
    "RecentInteractions",
    "as_number",
    "properties_of",
    "text_values",
]

#: item interactions a filter considers per user and event type (Developer Guide)
MAX_RECENT_INTERACTIONS = 100
#: action interactions a filter considers per user and event type (Developer Guide)
MAX_RECENT_ACTION_INTERACTIONS = 300
_MULTI = "|"


def properties_of(text: Any) -> dict[str, Any]:
    """A record's ``properties`` JSON text as {COLUMN: value}; anything else is no metadata."""
    import orjson

    if not text:
        return {}
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return {snake_upper(k): v for k, v in found.items()} if isinstance(found, dict) else {}


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):  # Personalize cannot filter on booleans
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def text_values(value: Any) -> list[str]:
    """The strings ``IN`` compares a field's value with: each part of a multi-value field."""
    import orjson

    if value is None or isinstance(value, bool | dict | list):
        return []
    if isinstance(value, str):
        return value.split(_MULTI)
    return [orjson.dumps(value).decode()]


class DatasetIndex:
    """Records of one dataset with an index per field (see the module docstring)."""

    def __init__(self) -> None:
        from sortedcontainers import SortedList

        self._sorted = SortedList
        self.properties: dict[str, dict[str, Any]] = {}
        self._text: dict[str, dict[str, set[str]]] = {}  # field -> value -> ids
        self._numbers: dict[str, Any] = {}  # field -> SortedList of (number, id)
        self.version = 0  # bumped by every change, for caches of answers

    def upsert(self, key: str, properties: Any) -> None:
        """Store (or replace) the record ``key`` with its properties' JSON text."""
        self._remove(key)
        found = properties_of(properties)
        self.properties[key] = found
        for field, value in found.items():
            for text in text_values(value):
                self._text.setdefault(field, {}).setdefault(text, set()).add(key)
            number = as_number(value)
            if number is not None:
                if field not in self._numbers:
                    self._numbers[field] = self._sorted()
                self._numbers[field].add((number, key))
        self.version += 1

    def _remove(self, key: str) -> None:
        for field, value in self.properties.pop(key, {}).items():
            for text in text_values(value):
                self._text[field][text].discard(key)
            number = as_number(value)
            if number is not None:
                self._numbers[field].discard((number, key))

    def values(self, key: str | None, field: str) -> list[str]:
        """The text values of ``key``'s field (none for an unknown record or field)."""
        return text_values(self.properties.get(key or "", {}).get(field))

    def number(self, key: str | None, field: str) -> float | None:
        return as_number(self.properties.get(key or "", {}).get(field))

    def match(self, field: str, op: str, values: Iterable[Any]) -> set[str]:
        """Ids whose ``field`` is ``IN`` the values, or compares (``<``…) with the one number."""
        if op == "IN":
            by_value = self._text.get(field, {})
            found: set[str] = set()
            for value in values:
                found |= by_value.get(str(value), set())
            return found
        numbers = self._numbers.get(field)
        (bound,) = values
        if numbers is None:
            return set()
        above = math.nextafter(bound, math.inf)  # (x, id) < (above,) for every id of x
        low, high = {
            "<": (None, (bound,)),
            "<=": (None, (above,)),
            ">": ((above,), None),
            ">=": ((bound,), None),
            "=": ((bound,), (above,)),
        }[op]
        start = 0 if low is None else numbers.bisect_left(low)
        stop = len(numbers) if high is None else numbers.bisect_left(high)
        return {key for _, key in numbers.islice(start, stop)}


class RecentInteractions:
    """Per user and event type (lower-cased), the last ``limit`` ids interacted with."""

    def __init__(self, limit: int = MAX_RECENT_INTERACTIONS) -> None:
        self.limit = limit
        self._by_user: dict[str, dict[str, OrderedDict[str, None]]] = {}

    def add(self, user_id: str | None, event_type: str, key: str | None) -> None:
        if user_id is None or key is None:
            return
        recent = self._by_user.setdefault(user_id, {}).setdefault(event_type.lower(), OrderedDict())
        recent[key] = None
        recent.move_to_end(key)
        if len(recent) > self.limit:
            recent.popitem(last=False)

    def ids(
        self, user_id: str | None, event_types: Iterable[str], *, negate: bool = False
    ) -> set[str]:
        """Ids the user interacted with by one of ``event_types`` (``"*"``: any), or, with
        ``negate``, by an event type not among them."""
        by_type = self._by_user.get(user_id or "", {})
        wanted = {t.lower() for t in event_types}
        found: set[str] = set()
        for event_type, recent in by_type.items():
            if ("*" in wanted or event_type in wanted) != negate:
                found.update(recent)
        return found
