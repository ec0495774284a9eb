"""The filter expression language of Amazon Personalize: a tokenizer and a parser.

:func:`parse_filter` turns an expression into a :class:`FilterExpression` (a tuple of
:class:`Expression`, one per ``|``-separated part), or raises :class:`FilterSyntaxError`
naming the position (0-based character offset) and the token it expected. The grammar,
as the Developer Guide states it ("Filter expression structure and elements",
https://docs.aws.amazon.com/personalize/latest/dg/creating-filter-expressions.html)::

    filter     := expression ( "|" expression )*
    expression := (INCLUDE | EXCLUDE) (ItemID | ActionID) WHERE where [IF user]
    where      := condition ( (AND | OR) condition )*      AND binds tighter than OR
    user       := CurrentUser.FIELD op rhs ( AND CurrentUser.FIELD op rhs )*
    condition  := DATASET.FIELD op rhs
    op         := IN | NOT IN | = | < | <= | > | >=
    rhs        := "(" value ("," value)* ")" | number | $PLACEHOLDER | CurrentItem.FIELD

``DATASET`` is ``Items``, ``Interactions`` (with ``ItemID``), ``Actions`` or
``ActionInteractions`` (with ``ActionID``); conditions chained in one expression use the
dataset of the first; interactions are filtered by ``EVENT_TYPE`` only, with ``IN`` /
``NOT IN``, and ``"*"`` means any event type; ``CurrentItem`` only on ``Items``. The
Developer Guide's "Guidelines and requirements" page caps distinct dataset fields per
filter at :data:`MAX_FIELDS`; a request carries at most 25 placeholders' values
(``filterValues``, botocore's model), so a filter may name no more (:data:`MAX_PLACEHOLDERS`).

>>> f = parse_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
>>> f.expressions[0].include, f.expressions[0].dataset, f.expressions[0].where[0][0].values
(False, 'Interactions', ('purchase',))
>>> parse_filter("INCLUDE ItemID WHERE Items.PRICE <")
Traceback (most recent call last):
...
personalize_sim.tracker._filter_language.FilterSyntaxError: at position 34: expected a number, \
a $PLACEHOLDER or CurrentItem.FIELD, found the end of the expression
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

__all__ = [
    "COMPARISONS",
    "MAX_FIELDS",
    "MAX_PLACEHOLDERS",
    "Condition",
    "Expression",
    "FilterExpression",
    "FilterSyntaxError",
    "Placeholder",
    "filter_values_limits",
    "parse_filter",
]

#: distinct dataset fields in one filter ("Guidelines and requirements", Developer Guide)
MAX_FIELDS = 10
COMPARISONS = ("=", "<", "<=", ">", ">=")
_ITEM_DATASETS = ("Items", "Interactions")
_ACTION_DATASETS = ("Actions", "ActionInteractions")
_INTERACTIONS = ("Interactions", "ActionInteractions")
#: other spellings the Developer Guide uses ("Action recommendation filter expression examples")
_ALIASES = {"ACTION_INTERACTIONS": "ActionInteractions"}
_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    |(?P<placeholder>\$[A-Za-z0-9_]+)|(?P<op><=|>=|[=<>(),|*.])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))""",
    re.VERBOSE,
)


@functools.cache
def filter_values_limits() -> tuple[int, int, int]:
    """(placeholders per request, placeholder name length, value length) from botocore's
    ``personalize-runtime`` model (``filterValues``: a map of at most 25 entries, keys
    of at most 50 characters, values of at most 1000).

    >>> filter_values_limits()
    (25, 50, 1000)
    """
    import botocore.session

    model = botocore.session.get_session().get_service_model("personalize-runtime")
    shape = model.operation_model("GetRecommendations").input_shape.members["filterValues"]
    return shape.metadata["max"], shape.key.metadata["max"], shape.value.metadata["max"]


MAX_PLACEHOLDERS = 25  # checked against botocore in tests: filter_values_limits()[0]


class FilterSyntaxError(ValueError):
    """A malformed filter expression: ``position`` (0-based) and what was ``expected``."""

    def __init__(self, position: int, expected: str, found: str) -> None:
        self.position, self.expected, self.found = position, expected, found
        super().__init__(f"at position {position}: expected {expected}, found {found}")


@dataclass(frozen=True)
class Placeholder:
    """``$NAME``: values given per request in ``filterValues``."""

    name: str


Value = str | float | Placeholder


@dataclass(frozen=True)
class Condition:
    """``dataset.field op values``; ``current`` names a ``CurrentItem`` field instead."""

    dataset: str
    field: str
    op: str  # "IN", "NOT IN" or one of COMPARISONS
    values: tuple[Value, ...] = ()
    current: str | None = None


@dataclass(frozen=True)
class Expression:
    """One part of a filter: ``where`` is OR of ANDs (a tuple of condition tuples)."""

    include: bool
    target: str  # "ItemID" or "ActionID"
    dataset: str
    where: tuple[tuple[Condition, ...], ...]
    user: tuple[Condition, ...] = ()  # IF CurrentUser conditions, all of which must hold

    @property
    def placeholders(self) -> frozenset[str]:
        conditions = [c for group in self.where for c in group] + list(self.user)
        return frozenset(v.name for c in conditions for v in c.values if isinstance(v, Placeholder))


@dataclass(frozen=True)
class FilterExpression:
    """A parsed filter: its ``|``-separated expressions and the placeholders they name."""

    text: str
    expressions: tuple[Expression, ...]

    @property
    def target(self) -> str:
        return self.expressions[0].target

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset().union(*(e.placeholders for e in self.expressions))

    @property
    def uses_current_item(self) -> bool:
        return any(c.current for e in self.expressions for g in e.where for c in g)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                if text[position:].strip() == "":
                    break
                at = position + len(text[position:]) - len(text[position:].lstrip())
                raise FilterSyntaxError(at, "a keyword, a name, a value or an operator",
                                        repr(text[at]))  # fmt: skip
            kind = match.lastgroup or ""
            start = match.start(kind)
            self.tokens.append((kind, match.group(kind), start))
            position = match.end()
        self.index = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, expected: str) -> FilterSyntaxError:
        token = self.peek()
        if token is None:
            return FilterSyntaxError(len(self.text), expected, "the end of the expression")
        return FilterSyntaxError(token[2], expected, repr(token[1]))

    def word(self, *choices: str) -> str:
        token = self.peek()
        wanted = {c.upper(): c for c in choices}
        wanted.update({a: c for a, c in _ALIASES.items() if c in choices})
        if token is None or token[0] != "word" or token[1].upper() not in wanted:
            raise self.fail(" or ".join(choices))
        self.index += 1
        return wanted[token[1].upper()]

    def accept(self, kind: str, value: str | None = None) -> str | None:
        token = self.peek()
        if token and token[0] == kind and (value is None or token[1].upper() == value):
            self.index += 1
            return token[1]
        return None

    def field(self, datasets: tuple[str, ...]) -> tuple[str, str, int]:
        at = self.peek()[2] if self.peek() else len(self.text)  # type: ignore[index]
        dataset = self.word(*datasets)
        if self.accept("op", ".") is None:
            raise self.fail("'.' and a field name")
        name = self.accept("word")
        if name is None:
            raise self.fail("a field name")
        return dataset, name.upper(), at

    def rhs(self, dataset: str, field: str, at: int, user: bool) -> Condition:
        if self.accept("word", "NOT"):
            self.word("IN")
            op = "NOT IN"
        elif self.accept("word", "IN"):
            op = "IN"
        else:
            op = self.accept("op") or ""
            if op not in COMPARISONS:
                self.index -= bool(op)
                raise self.fail("IN, NOT IN, =, <, <=, > or >=")
        if dataset in _INTERACTIONS and (field != "EVENT_TYPE" or op in COMPARISONS):
            wanted = f"{dataset}.EVENT_TYPE with IN or NOT IN (interactions: event type only)"
            raise FilterSyntaxError(at, wanted, field)
        if not user and self.accept("word", "CURRENTITEM"):
            if dataset != "Items":
                raise FilterSyntaxError(at, "Items.FIELD beside CurrentItem", dataset)
            if self.accept("op", ".") is None or (name := self.accept("word")) is None:
                raise self.fail("CurrentItem.FIELD")
            return Condition(dataset, field, op, (), name.upper())
        if op in COMPARISONS:
            return Condition(dataset, field, op, (self.scalar(),))
        if placeholder := self.accept("placeholder"):
            return Condition(dataset, field, op, (Placeholder(placeholder[1:]),))
        if self.accept("op", "(") is None:
            raise self.fail("'(' and a list of values, a $PLACEHOLDER or CurrentItem.FIELD")
        values: list[Value] = []
        while True:
            values.append(self.value(dataset, field))
            if self.accept("op", ")"):
                return Condition(dataset, field, op, tuple(values))
            if self.accept("op", ",") is None:
                raise self.fail("',' or ')'")

    def scalar(self) -> Value:
        if self.accept("op", "("):  # the Guide writes ``Actions.VALUE > ($VALUE)`` too
            value = self.scalar()
            if self.accept("op", ")") is None:
                raise self.fail("')'")
            return value
        if number := self.accept("number"):
            return float(number)
        if placeholder := self.accept("placeholder"):
            return Placeholder(placeholder[1:])
        raise self.fail("a number, a $PLACEHOLDER or CurrentItem.FIELD")

    def value(self, dataset: str, field: str) -> Value:
        token = self.peek()
        if token and (token[1] in ('"*"', "*")):
            if dataset not in _INTERACTIONS:
                raise FilterSyntaxError(token[2], "a value ('*' is for EVENT_TYPE only)", "'*'")
            self.index += 1
            return "*"
        if string := self.accept("string"):
            return re.sub(r"\\(.)", r"\1", string[1:-1])
        if number := self.accept("number"):
            return number
        if placeholder := self.accept("placeholder"):
            return Placeholder(placeholder[1:])
        raise self.fail('a "quoted value", a number or a $PLACEHOLDER')

    def expression(self) -> Expression:
        include = self.word("INCLUDE", "EXCLUDE") == "INCLUDE"
        target = self.word("ItemID", "ActionID")
        self.word("WHERE")
        datasets = _ITEM_DATASETS if target == "ItemID" else _ACTION_DATASETS
        groups: list[list[Condition]] = [[]]
        first: str | None = None
        while True:
            dataset, field, at = self.field(datasets if first is None else (first,))
            first = first or dataset
            groups[-1].append(self.rhs(dataset, field, at, user=False))
            if self.accept("word", "OR"):
                groups.append([])
            elif not self.accept("word", "AND"):
                break
        user: list[Condition] = []
        if self.accept("word", "IF"):
            while True:
                dataset, field, at = self.field(("CurrentUser",))
                user.append(self.rhs(dataset, field, at, user=True))
                if not self.accept("word", "AND"):
                    break
        return Expression(include, target, first, tuple(map(tuple, groups)), tuple(user))


def parse_filter(text: str) -> FilterExpression:
    """Parse ``text``; a malformed one raises :class:`FilterSyntaxError` (position, expected)."""
    if not isinstance(text, str) or not text.strip():
        raise FilterSyntaxError(0, "INCLUDE or EXCLUDE", "an empty expression")
    parser = _Parser(text)
    expressions = [parser.expression()]
    while parser.accept("op", "|"):
        expressions.append(parser.expression())
    if parser.peek() is not None:
        raise parser.fail("AND, OR, IF, '|' or the end of the expression")
    targets = {e.target for e in expressions}
    if len(targets) > 1:
        raise FilterSyntaxError(0, "one target (ItemID or ActionID) in every expression",
                                " and ".join(sorted(targets)))  # fmt: skip
    parsed = FilterExpression(text, tuple(expressions))
    fields = {(c.dataset, c.field) for e in expressions for g in e.where for c in g}
    if len(fields) > MAX_FIELDS:
        raise FilterSyntaxError(
            0, f"at most {MAX_FIELDS} distinct dataset fields", str(len(fields))
        )
    if len(parsed.placeholders) > MAX_PLACEHOLDERS:
        raise FilterSyntaxError(0, f"at most {MAX_PLACEHOLDERS} placeholders (filterValues "
                                "holds no more)", str(len(parsed.placeholders)))  # fmt: skip
    return parsed
