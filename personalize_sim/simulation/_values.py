"""What events carry besides their item: ``EVENT_VALUE`` and property columns.

An event type's ``value`` (see ``EventTypeConfig``) says what ``EVENT_VALUE`` holds;
:class:`PropertyConfig` adds an UPPER_SNAKE column sent as an event property, drawn
once per session or once per event.

>>> PropertyConfig(name="DEVICE", values=("web", "ios"), probabilities=(0.75, 0.25)).scope
'event'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._checks import check, one_of
from .._schema import EVENT_COLUMNS
from ._config_checks import distribution
from ._quantiles import draw

if TYPE_CHECKING:
    from ._catalog import Catalog
    from ._funnel import FunnelConfig

__all__ = [
    "VALUE_KINDS",
    "PropertyConfig",
    "event_properties",
    "event_values",
    "session_properties",
]

#: what EVENT_VALUE may hold: nothing (NaN), the item's price, a 1–5 rating, seconds watched,
#: or draws from the type's ``value_quantiles`` (fitted to a log)
VALUE_KINDS = ("none", "price", "rating", "watch_time", "empirical")
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
        from .._schema import camel_case

        key = camel_case(self.name) or ""
        check(
            key.lower() not in limits.RESERVED_PROPERTY_KEYS,
            "name",
            self.name,
            "a name whose property key is not reserved by Personalize",
        )


def event_values(
    funnel: FunnelConfig,
    etype: np.ndarray,
    item: np.ndarray,
    persona: np.ndarray,
    catalog: Catalog,
    rng: np.random.Generator,
    *,
    user: np.ndarray | None = None,
    effects: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """EVENT_VALUE of every event (float64, NaN: none), by its type's ``value`` kind.

    A price is the item's; a rating (1–5) and the share of a video watched grow with
    the user's taste for the item's category. An empirical value with user and item
    shares draws its percentile from a Gaussian copula: the user's and the item's own
    standard normals (``effects``, fixed for the run) and the event's, mixed by the shares
    and made uniform by rank.
    """
    value = np.full(len(etype), np.nan)
    kinds = np.array([e.value for e in funnel.event_types])[etype]
    relevance = catalog.relevance[persona, catalog.category[item]]
    for kind in ("price", "rating", "watch_time"):
        idx = np.flatnonzero(kinds == kind)
        if len(idx) == 0:
            continue
        if kind == "price":
            value[idx] = catalog.price[item[idx]]
        elif kind == "rating":
            raw = 1 + 4 * relevance[idx] + 0.8 * rng.standard_normal(len(idx))
            value[idx] = np.clip(np.rint(raw), 1, 5)
        else:
            share = rng.beta(1 + 2 * relevance[idx], 1.5)
            value[idx] = np.rint(catalog.duration[item[idx]] * share)
    for code, event_type in enumerate(funnel.event_types):
        if event_type.value == "empirical":
            idx = np.flatnonzero(etype == code)
            a2, b2 = event_type.value_user_share, event_type.value_item_share
            if (a2 or b2) and effects is not None and user is not None and len(idx):
                g = (
                    np.sqrt(a2) * effects[0][user[idx]] + np.sqrt(b2) * effects[1][item[idx]]
                    + np.sqrt(max(1.0 - a2 - b2, 0.0)) * rng.standard_normal(len(idx))
                )  # fmt: skip
                rank = np.empty(len(idx))
                rank[np.argsort(g, kind="stable")] = np.arange(len(idx))
                u = (rank + rng.random(len(idx))) / len(idx)
            else:
                u = rng.random(len(idx))
            value[idx] = draw(event_type.value_quantiles, u, discrete=event_type.value_discrete)
    return value


def session_properties(
    properties: Sequence[PropertyConfig], n_sessions: int, rng: np.random.Generator
) -> list[np.ndarray | None]:
    """Codes of each session-scoped property per session (None for event-scoped ones)."""
    return [
        _categorical(p.probabilities, rng.random(n_sessions)) if p.scope == "session" else None
        for p in properties
    ]


def event_properties(
    properties: Sequence[PropertyConfig],
    per_session: list[np.ndarray | None],
    session: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Codes (int8, one column per property) of every event's property values.

    Session-scoped properties repeat their session's code (``per_session``, from
    :func:`session_properties`); event-scoped ones are drawn per event.
    """
    n = len(session)
    codes = np.empty((n, len(properties)), dtype=np.int8)
    for j, prop in enumerate(properties):
        of_session = per_session[j]
        codes[:, j] = (
            of_session[session]
            if of_session is not None
            else _categorical(prop.probabilities, rng.random(n))
        )
    return codes


def _categorical(probabilities: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(probabilities)
    cdf[-1] = 1.0
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int8)
