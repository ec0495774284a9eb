"""Filters declared at start, evaluated per request on the emulator's own data.

:class:`FilterSpec` is one declared filter (``NAME=EXPRESSION``; its ARN is stable:
``arn:aws:personalize:us-east-1:000000000000:filter/NAME``), parsed when declared, so a
malformed expression is refused before the emulator serves (a
:class:`~personalize_sim.errors.ConfigError` naming the filter, the position and the
expected token). :class:`FilterData` holds what filters read, updated as requests are
stored (:mod:`._filter_index`). :meth:`FilterData.allowed` turns a filter and a request's
``filterValues`` into :class:`Allowed`: the ids a slate may hold, either a set or all but a
set, as the Developer Guide combines ``|``-separated expressions ("Combining multiple
expressions"): INCLUDEs are united, EXCLUDEs are united, and the result is the INCLUDEs
minus the EXCLUDEs (everything minus the EXCLUDEs when there is no INCLUDE). An expression
whose ``IF CurrentUser`` conditions fail, or an EXCLUDE whose placeholders have no values,
does not apply; an INCLUDE needs every placeholder's values (``InvalidInputException``).

>>> data = FilterData()
>>> data.record("events", [("t", "u1", "s", "e1", "Purchase", None, "a", None, 1.0)])
>>> spec = FilterSpec.parse('bought=EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
>>> allowed = data.allowed(spec, {}, user_id="u1")
>>> allowed.keep("a"), allowed.keep("b"), spec.arn.rsplit(":", 1)[1]
(False, True, 'filter/bought')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from personalize_sim.errors import ConfigError

from ._filter_index import (
    MAX_RECENT_ACTION_INTERACTIONS,
    DatasetIndex,
    RecentInteractions,
    as_number,
    properties_of,
    text_values,
)
from ._filter_language import (
    COMPARISONS,
    Condition,
    Expression,
    FilterExpression,
    FilterSyntaxError,
    Placeholder,
    parse_filter,
)

__all__ = ["Allowed", "FilterData", "FilterSpec", "FilterValueError", "split_values"]

#: metadata answers kept (see FilterData._where)
_ANSWERS = 1024
_ARN_PREFIX = "arn:aws:personalize:us-east-1:000000000000:filter/"
_VALUE = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^,]*?)\s*(?:,|$)')


class FilterValueError(ValueError):
    """A request's ``filterValues`` cannot fill the filter: answered InvalidInputException."""


@dataclass(frozen=True)
class FilterSpec:
    """One declared filter: a name, its parsed expression and so a stable ARN."""

    name: str
    expression: FilterExpression

    @property
    def arn(self) -> str:
        return _ARN_PREFIX + self.name

    @classmethod
    def parse(cls, spec: str | FilterSpec) -> FilterSpec:
        """``NAME=EXPRESSION``; a malformed expression raises ConfigError with its position."""
        if isinstance(spec, FilterSpec):
            return spec
        if not isinstance(spec, str) or "=" not in spec:
            raise ConfigError("filters", spec, "NAME=EXPRESSION, e.g. 'unbought=EXCLUDE ItemID "
                              'WHERE Interactions.EVENT_TYPE IN ("purchase")\'')  # fmt: skip
        name, text = spec.split("=", 1)
        name = name.strip()
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise ConfigError("filter name", name, "letters, digits, - and _")
        try:
            return cls(name, parse_filter(text))
        except FilterSyntaxError as error:
            raise ConfigError(f"filters[{name}]", text, f"a filter expression: {error}") from None

    def __str__(self) -> str:
        return f"{self.name}={self.expression.text}"


def split_values(text: str) -> list[str]:
    """The values of one ``filterValues`` entry: ``"\\"a\\",\\"b\\""`` → ``['a', 'b']``.

    >>> split_values('"comedy","drama"'), split_values("10")
    (['comedy', 'drama'], ['10'])
    """
    found = []
    for match in _VALUE.finditer(text):
        raw = match.group(1)
        if match.start() == len(text) and not raw:
            break
        found.append(re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw)
        if match.end() >= len(text):
            break
    return found


@dataclass(frozen=True)
class Allowed:
    """The ids a slate may hold: ``ids`` (``positive``) or every id but ``ids``."""

    positive: bool
    ids: frozenset[str]

    def keep(self, key: str) -> bool:
        return (key in self.ids) == self.positive

    def __and__(self, other: Allowed) -> Allowed:
        a, b = self, other
        if a.positive and b.positive:
            return Allowed(True, a.ids & b.ids)
        if not a.positive and not b.positive:
            return Allowed(False, a.ids | b.ids)
        pos, neg = (a, b) if a.positive else (b, a)
        return Allowed(True, pos.ids - neg.ids)

    def __or__(self, other: Allowed) -> Allowed:
        return ~(~self & ~other)

    def __invert__(self) -> Allowed:
        return Allowed(not self.positive, self.ids)


NOTHING = Allowed(True, frozenset())
EVERYTHING = Allowed(False, frozenset())


class FilterData:
    """Items, users, actions and recent interactions, as filters read them."""

    def __init__(self) -> None:
        self.items, self.actions = DatasetIndex(), DatasetIndex()
        self.users: dict[str, dict[str, Any]] = {}
        self.interactions = RecentInteractions()
        self.action_interactions = RecentInteractions(MAX_RECENT_ACTION_INTERACTIONS)
        self._answers: dict[Any, tuple[int, Allowed]] = {}

    def record(self, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Learn the rows a request stored, in the layout of the store's ``table``."""
        if table == "items" or table == "actions":
            index = self.items if table == "items" else self.actions
            for _arn, key, properties, *_ in rows:
                index.upsert(key, properties)
        elif table == "users":
            for _arn, key, properties, *_ in rows:
                self.users[key] = properties_of(properties)
        elif table == "events":  # user id, event type, item id
            for row in rows:
                self.interactions.add(row[1], row[4], row[6])
        elif table == "action_interactions":
            for row in rows:
                self.action_interactions.add(row[1], row[5], row[4])

    def allowed(
        self,
        spec: FilterSpec,
        filter_values: Mapping[str, str] | None,
        *,
        user_id: str | None = None,
        item_id: str | None = None,
    ) -> Allowed:
        """What ``spec`` lets through for this request (see the module docstring)."""
        given = dict(filter_values or {})
        extra = sorted(set(given) - spec.expression.placeholders)
        if extra:
            names = ", ".join(sorted(spec.expression.placeholders)) or "none"
            raise FilterValueError(
                f"filterValues has {', '.join(extra)}, which the filter {spec.arn} does not use "
                f"(its placeholders: {names})"
            )
        values = {name: split_values(text) for name, text in given.items()}
        includes: list[Allowed] = []
        excludes: list[Allowed] = []
        for expression in spec.expression.expressions:
            missing = sorted(expression.placeholders - set(values))
            if missing:
                if expression.include:
                    raise FilterValueError(
                        f"filterValues must give {', '.join('$' + m for m in missing)}: an "
                        f"INCLUDE expression of {spec.arn} uses them"
                    )
                continue  # an EXCLUDE without its values is not used (the API's documentation)
            if not all(self._user_holds(c, values, user_id) for c in expression.user):
                continue
            found = self._where(expression, values, user_id, item_id)
            (includes if expression.include else excludes).append(found)
        result = EVERYTHING
        if includes:
            result = includes[0]
            for other in includes[1:]:
                result |= other
        for other in excludes:
            result &= ~other
        return result

    def _where(
        self,
        expression: Expression,
        values: dict[str, list[str]],
        user: str | None,
        item: str | None,
    ) -> Allowed:
        if expression.dataset not in ("Items", "Actions"):  # a user's interactions: small sets
            return self._match(expression, values, user, item)
        # metadata answers depend on the values and the current item only: kept until the
        # dataset changes, so a large category costs one evaluation, not one per request
        index = self.items if expression.dataset == "Items" else self.actions
        current = item if any(c.current for g in expression.where for c in g) else None
        filled = tuple((n, tuple(values[n])) for n in sorted(expression.placeholders))
        hit = self._answers.get((expression, filled, current))
        if hit is not None and hit[0] == index.version:
            return hit[1]
        if len(self._answers) >= _ANSWERS:
            self._answers.clear()
        found = self._match(expression, values, user, item)
        self._answers[expression, filled, current] = (index.version, found)
        return found

    def _match(
        self,
        expression: Expression,
        values: dict[str, list[str]],
        user: str | None,
        item: str | None,
    ) -> Allowed:
        found = NOTHING
        for group in expression.where:
            both = EVERYTHING
            for condition in group:
                both &= self._condition(condition, values, user, item)
            found |= both
        return found

    def _condition(
        self, c: Condition, values: dict[str, list[str]], user: str | None, item: str | None
    ) -> Allowed:
        negate = c.op == "NOT IN"
        if c.dataset in ("Interactions", "ActionInteractions"):
            recent = self.interactions if c.dataset == "Interactions" else self.action_interactions
            wanted = _texts(c.values, values)
            return Allowed(True, frozenset(recent.ids(user, wanted, negate=negate)))
        index = self.items if c.dataset == "Items" else self.actions
        if c.current is not None:  # CurrentItem.FIELD: the request's item's own value
            if c.op in COMPARISONS:
                bound = self.items.number(item, c.current)
                if bound is None:
                    return NOTHING
                return Allowed(True, frozenset(index.match(c.field, c.op, [bound])))
            matched = index.match(c.field, "IN", self.items.values(item, c.current))
        elif c.op in COMPARISONS:
            return Allowed(True, frozenset(index.match(c.field, c.op, [_bound(c, values)])))
        else:
            matched = index.match(c.field, "IN", _texts(c.values, values))
        return Allowed(not negate, frozenset(matched))

    def _user_holds(self, c: Condition, values: dict[str, list[str]], user: str | None) -> bool:
        found = self.users.get(user or "", {}).get(c.field)
        if c.op in COMPARISONS:
            number = as_number(found)
            if number is None:
                return False
            bound = _bound(c, values)
            return {
                "=": number == bound,
                "<": number < bound,
                "<=": number <= bound,
                ">": number > bound,
                ">=": number >= bound,
            }[c.op]
        hit = bool(set(text_values(found)) & set(_texts(c.values, values)))
        return hit != (c.op == "NOT IN")


def _texts(given: tuple[Any, ...], values: dict[str, list[str]]) -> list[str]:
    """A condition's literal values, with each placeholder's request values in its place."""
    found: list[str] = []
    for value in given:
        found += values[value.name] if isinstance(value, Placeholder) else [str(value)]
    return found


def _bound(c: Condition, values: dict[str, list[str]]) -> float:
    (value,) = c.values
    if not isinstance(value, Placeholder):
        return float(value)
    given = values[value.name]
    try:
        (number,) = given
        return float(number)
    except (TypeError, ValueError):
        raise FilterValueError(
            f"filterValues ${value.name} must be one number for {c.dataset}.{c.field} {c.op}, "
            f"got {','.join(given)!r}"
        ) from None
