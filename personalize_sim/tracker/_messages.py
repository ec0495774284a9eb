"""Validation errors worded as AWS words them, for any operation of a botocore service model.

AWS services validate a request against the same model botocore ships, and answer
``N validation error(s) detected: Value '…' at 'member.path' failed to satisfy
constraint: Member must …; …`` with list positions counted from 1 and spelled
``.N.member`` (``eventList[0].eventType`` is ``eventList.1.member.eventType``). The
constraint sentences are generated here from a :class:`~personalize_sim.limits.FieldLimit`
(type, min, max, pattern), so any operation whose limits are read from a model gets them.

>>> from personalize_sim import limits
>>> ops = limits.operation_limits("PutEvents")
>>> v = limits.Violation("eventList[0].eventType", "too_long", "x" * 3, "length <= 256")
>>> head, rule = aws_message([v], ops).split(" failed to satisfy constraint: ")
>>> head
"1 validation error detected: Value 'xxx' at 'eventList.1.member.eventType'"
>>> rule
'Member must have length less than or equal to 256'
>>> aws_path("eventList[2].impression[0]")
'eventList.3.member.impression.1.member'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from personalize_sim import limits

__all__ = ["PROPERTIES_ERROR", "aws_message", "aws_path", "aws_value", "constraint"]

#: what Personalize answers for ``properties`` that are not a JSON object
PROPERTIES_ERROR = "Error parsing properties json"
#: a value longer than this is shortened in the message (AWS echoes it whole; any value
#: within the model's limits, up to 1024-character properties, is echoed whole here too)
_VALUE_CHARS = 1100
_INDEX = re.compile(r"\[(\d+)\]")


def aws_path(path: str) -> str:
    """``eventList[0].impression[3]`` → ``eventList.1.member.impression.4.member``."""
    return _INDEX.sub(lambda m: f".{int(m[1]) + 1}.member", path)


def model_path(path: str) -> str:
    """The path of the model's :class:`FieldLimit` for a path with indices."""
    return _INDEX.sub("[]", path)


def aws_value(value: Any) -> str:
    """A value as Java's ``toString`` would print it inside AWS's message: ``'…'`` or ``null``."""
    if value is None:
        return "null"
    text = _java(value)
    if len(text) > _VALUE_CHARS:
        text = text[: _VALUE_CHARS - 1] + "…"
    return f"'{text}'"


def _java(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("NaN" if value != value else "Infinity")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_java(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_java(k)}={_java(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    return str(value)


def constraint(violation: limits.Violation, field: limits.FieldLimit | None) -> str:
    """The ``Member must …`` sentence of one violation, with the limit from the model."""
    reason = violation.reason
    low = None if field is None else field.min
    high = None if field is None else field.max
    if reason == "missing":
        return "Member must not be null"
    if reason in ("too_short", "too_few"):
        return f"Member must have length greater than or equal to {low}"
    if reason in ("too_long", "too_many"):
        return f"Member must have length less than or equal to {high}"
    if reason == "pattern":
        return f"Member must satisfy regular expression pattern: {field and field.pattern}"
    if reason == "type":
        kind = field.type if field is not None else "structure"
        return f"Member must be of type {kind}"
    if reason == "too_small":
        return f"Member must have value greater than or equal to {low}"
    if reason == "too_large":
        return f"Member must have value less than or equal to {high}"
    if reason == "not_finite":
        return "Member must be a finite number"
    if reason == "unknown_member":
        return "Member must be a member of the request shape"
    return _EXTRA.get(reason, reason)


#: reasons of the emulator's own checks (things a JSON body can hold that no model type can)
_EXTRA = {
    "timestamp_range": (
        "Member must be a timestamp between 0001-01-01 and 9999-12-31 (epoch seconds "
        "-62135596800 to 253402300799.999999)"
    ),
    "not_unicode": "Member must be a valid Unicode string (no unpaired surrogate)",
}

# Documented rules that are checked by the service after the model (its own wording)
_SERVICE = {
    "not_json_object": lambda v: PROPERTIES_ERROR,
    "reserved_key": lambda v: (
        f"Invalid properties: the key '{v.value}' is reserved ({v.limit}) at '{aws_path(v.path)}'"
    ),
    "event_too_large": lambda v: (
        f"Event at '{aws_path(v.path)}' is {v.value} bytes; the maximum size of an event is "
        f"{limits.EVENT_MAX_BYTES} bytes"
    ),
    "dataset_type": lambda v: f"Invalid dataset arn {v.value}: {v.limit}",
}


def aws_message(
    violations: Sequence[limits.Violation], ops: limits.OperationLimits, request: Any = None
) -> str:
    """The message AWS gives for ``violations`` of a request of ``ops``.

    Model constraints come first, in AWS's ``N validation errors detected`` form; the
    documented rules the service checks afterwards (properties JSON, reserved keys, event
    size, dataset type) are answered only when the model found nothing, in the service's words.
    ``request`` (the decoded body) lets a list's value be shown whole, as AWS shows it.
    """
    model = [v for v in violations if v.reason not in _SERVICE]
    if not model:
        texts = list(dict.fromkeys(_SERVICE[v.reason](v) for v in violations))
        return "; ".join(texts)
    parts = [
        f"Value {aws_value(_value(v, request))} "
        + (f"at '{aws_path(v.path)}' " if v.path else "")  # no path: the body itself
        + "failed to satisfy constraint: "
        + _constraint(v, ops)
        for v in model
    ]
    n = len(parts)
    return f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(parts)


def _constraint(violation: limits.Violation, ops: limits.OperationLimits) -> str:
    """:func:`constraint`, or for a map's keys or values AWS's bracketed list of them."""
    field = ops.fields.get(model_path(violation.path))
    part = {"map_keys": "key", "map_values": "value"}.get(violation.reason)
    if part is None or field is None:
        return constraint(violation, field)
    element = ops.fields.get(f"{field.path}{{{part}}}")
    rules = [
        constraint(limits.Violation(violation.path, r, None), element) for r in violation.limit
    ]
    return f"Map {part}s must satisfy constraint: [{', '.join(rules)}]"


def _value(violation: limits.Violation, request: Any) -> Any:
    """The violating value; for list sizes (limits keeps only the length) the list itself."""
    if violation.reason not in ("too_few", "too_many") or request is None:
        return violation.value
    node = request
    for part in re.split(r"\.|(?=\[)", violation.path):
        index = _INDEX.fullmatch(part)
        try:
            node = node[int(index[1])] if index else node[part]
        except (KeyError, IndexError, TypeError):
            return violation.value
    return node
