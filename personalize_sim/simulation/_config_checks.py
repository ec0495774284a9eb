"""Checks that only the simulator's configs need; the others are :mod:`personalize_sim._checks`.

Like those, each returns the value (normalised) or raises
:class:`~personalize_sim.errors.ConfigError` naming the field, the value and what is allowed:

>>> distribution([0.25, 0.75], "start")
(0.25, 0.75)
>>> valid_name(" padded", "name")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
personalize_sim.errors.ConfigError: name: got ' padded'; a non-empty printable ASCII name of ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from .._checks import check, number

__all__ = ["distribution", "named_items", "unique_names", "valid_name"]

#: how far a probability vector may be from summing to one (YAML floats are decimal)
SUM_TOLERANCE = 1e-6
_NAME = re.compile(r"^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$")


def valid_name(value: Any, field: str) -> str:
    """A printable ASCII name without surrounding spaces, 1 to 256 characters."""
    ok = isinstance(value, str) and bool(_NAME.match(value)) and len(value) <= 256
    check(ok, field, value, "a non-empty printable ASCII name of at most 256 characters")
    return value


def distribution(values: Iterable[Any], field: str) -> tuple[float, ...]:
    """Non-negative weights that sum to one (within rounding of decimal YAML)."""
    probs = tuple(number(v, f"{field}[{i}]", low=0.0) for i, v in enumerate(values))
    total = math.fsum(probs)
    check(
        abs(total - 1.0) <= SUM_TOLERANCE,
        field,
        list(probs),
        f"probabilities that sum to 1 (these sum to {total:.6g})",
    )
    return probs


def unique_names(items: Any, field: str, kind: str) -> None:
    """No two of ``items`` share a ``name`` (``kind`` names them: "category", "arm" …)."""
    names = [item.name for item in items]
    check(len(set(names)) == len(names), field, names, f"unique {kind} names")


def named_items(items: Any, field: str, kind: str) -> None:
    """A non-empty tuple of configs with unique names."""
    check(isinstance(items, tuple) and len(items) > 0, field, items, f"at least one {kind}")
    unique_names(items, field, kind)
