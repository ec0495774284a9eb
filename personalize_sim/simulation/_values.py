"""What events carry besides their item: ``EVENT_VALUE`` and property columns.

An event type's ``value`` (see ``EventTypeConfig``) says what ``EVENT_VALUE`` holds;
:class:`PropertyConfig` adds an UPPER_SNAKE column sent as an event property, drawn
once per session or once per event.

>>> PropertyConfig(name="DEVICE", values=("web", "ios"), probabilities=(0.75, 0.25)).scope
'event'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._checks import check, one_of
from ..schema import EVENT_COLUMNS
from ._config_checks import distribution

__all__ = ["VALUE_KINDS", "PropertyConfig"]

#: what EVENT_VALUE may hold: nothing (NaN), the item's price, a 1–5 rating, seconds watched
VALUE_KINDS = ("none", "price", "rating", "watch_time")
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
#: frame columns a property column may not shadow
_RESERVED_COLUMNS = frozenset(EVENT_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class PropertyConfig:
    """An extra UPPER_SNAKE column sent as an event property (e.g. DEVICE, DISCOUNT).

    ``scope`` is ``session`` (one value per session) or ``event`` (drawn per event).
    """

    name: str
    values: tuple[str, ...]
    probabilities: tuple[float, ...]
    scope: str = "event"

    def __post_init__(self) -> None:
        self._check_name()
        check(
            isinstance(self.values, tuple)
            and len(self.values) > 0
            and all(isinstance(v, str) and v for v in self.values),
            "values",
            self.values,
            "a non-empty list of non-empty strings",
        )
        check(
            len(self.probabilities) == len(self.values),
            "probabilities",
            self.probabilities,
            f"one probability per value ({len(self.values)})",
        )
        object.__setattr__(self, "probabilities", distribution(self.probabilities, "probabilities"))
        one_of(self.scope, "scope", ("session", "event"))

    def _check_name(self) -> None:
        ok = isinstance(self.name, str) and bool(_UPPER_SNAKE.match(self.name))
        check(ok, "name", self.name, "an UPPER_SNAKE_CASE column name such as DEVICE")
        check(
            self.name not in _RESERVED_COLUMNS,
            "name",
            self.name,
            "a name that is not an events-frame column",
        )
        from .. import limits
        from ..schema import camel_case

        key = camel_case(self.name) or ""
        check(
            key.lower() not in limits.RESERVED_PROPERTY_KEYS,
            "name",
            self.name,
            "a name whose property key is not reserved by Personalize",
        )
