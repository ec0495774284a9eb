"""Argument checks: one validation style for every public constructor and function.

Each check returns the value (normalised: a float, an int) or raises
:class:`~personalize_sim.errors.ConfigError` / :class:`~personalize_sim.errors.ConfigTypeError`
naming the argument, the value and what is allowed:

>>> positive(0.5, "rate")
0.5
>>> count(True, "max_in_flight", low=1)
Traceback (most recent call last):
...
personalize_sim.errors.ConfigTypeError: max_in_flight: got True; an integer >= 1
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable
from typing import Any, TypeVar

from .errors import ConfigError, ConfigTypeError

__all__ = [
    "check",
    "count",
    "factorized",
    "instance",
    "number",
    "one_of",
    "positive",
    "probability",
]

T = TypeVar("T")


def check(ok: bool, field: str, value: Any, allowed: str) -> None:
    """Raise :class:`ConfigError` unless ``ok``."""
    if not ok:
        raise ConfigError(field, value, allowed)


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(
    value: Any,
    field: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    strict: bool = False,
    finite: bool = True,
) -> float:
    """A real number in ``[low, high]`` (``(low, high]`` when ``strict``); bools are not numbers."""
    bounds = []
    if low > -math.inf:
        bounds.append(f"{'>' if strict else '>='} {low:g}")
    if high < math.inf:
        bounds.append(f"<= {high:g}")
    allowed = f"a {'finite ' if finite else ''}number" + (
        f" {' and '.join(bounds)}" if bounds else ""
    )
    if not _is_real(value):
        raise ConfigTypeError(field, value, allowed.strip())
    ok = not math.isnan(value) and (math.isfinite(value) or not finite)
    ok = ok and (value > low if strict else value >= low) and value <= high
    check(ok, field, value, allowed.strip())
    return float(value)


def positive(value: Any, field: str, *, finite: bool = True) -> float:
    """A number > 0."""
    return number(value, field, low=0.0, strict=True, finite=finite)


def probability(value: Any, field: str) -> float:
    """A number between 0 and 1."""
    if not _is_real(value):
        raise ConfigTypeError(field, value, "a probability between 0 and 1")
    check(0.0 <= value <= 1.0, field, value, "a probability between 0 and 1")
    return float(value)


def count(value: Any, field: str, *, low: int = 0) -> int:
    """An integer >= ``low`` (bools are not integers here)."""
    allowed = f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigTypeError(field, value, allowed)
    check(value >= low, field, value, allowed)
    return int(value)


def one_of(value: T, field: str, choices: Collection[Any]) -> T:
    """``value`` if it is one of ``choices``."""
    check(value in choices, field, value, "one of " + ", ".join(map(repr, choices)))
    return value


def instance(value: T, field: str, types: type | tuple[type, ...], allowed: str) -> T:
    """``value`` if it is an instance of ``types``, else :class:`ConfigTypeError`."""
    if not isinstance(value, types):
        raise ConfigTypeError(field, value, allowed)
    return value


def factorized(column: Any, field: str) -> tuple[Any, Any]:
    """``pd.factorize`` of a column of names or ids (codes, -1 for a null; the distinct
    values); a value that cannot be one (a list, a dict) raises :class:`ConfigError`
    naming ``field`` and its row.

    >>> import pandas as pd
    >>> factorized(pd.Series(["a", ["b"]]), "events.ITEM_ID")
    Traceback (most recent call last):
    ...
    personalize_sim.errors.ConfigError: events.ITEM_ID row 1: got ['b']; a name or an id (text)
    """
    import pandas as pd

    try:
        return pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # unhashable: find the first such row
        row = next(i for i, v in enumerate(column) if not isinstance(v, Hashable))
        raise ConfigError(
            f"{field} row {column.index[row]!r}", column.iloc[row], "a name or an id (text)"
        ) from None
