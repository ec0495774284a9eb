"""Validation of a decoded request body: the plain check, and a fast "certainly valid?" test.

:func:`check_plain` is :func:`personalize_sim.limits.check_request`, the single
source of truth for both the verdict and the message. :class:`Validator` puts in
front of it a test generated (with ``exec``) from the same
:class:`~personalize_sim.limits.FieldLimit` objects that ``check_request`` walks:
straight-line code with no call per field, which only answers "certainly
valid?"; any doubt goes to ``check_request``, so it can cost a slow check, never
a wrong verdict. ``benchmarks/tracker.py`` measures both in the same run: on a
10-event PutEvents body the generated test takes about 1/6 of the validation time,
and the emulator about half the server CPU per request end to end.
``tests/tracker/test_validator.py`` proves the two agree (a property test over requests
of every operation generated from the model).
:func:`storable` adds what the store must be able to read back (strict JSON
properties) and the dataset type of PutItems/PutUsers/PutActions; messages are worded as AWS
words them by :mod:`._messages`.

>>> validate = Validator("PutEvents")
>>> body = {"trackingId": "t", "sessionId": "s",
...         "eventList": [{"eventType": "click", "sentAt": 1.5}]}
>>> validate(body), check_plain("PutEvents", body)
([], [])
>>> violations = validate({**body, "sessionId": "", "eventList": []})
>>> [(v.path, v.reason) for v in violations]
[('sessionId', 'too_short'), ('eventList', 'too_few')]
"""

from __future__ import annotations

import itertools
import linecache
import math
from collections.abc import Callable
from typing import Any

from personalize_sim import _operations as operations
from personalize_sim import limits

__all__ = ["Validator", "check_plain", "storable"]

_RESERVED = limits.RESERVED_PROPERTY_KEYS


def check_plain(
    operation: str,
    request: Any,
    body_size: int = limits.EVENT_MAX_BYTES,
    service: str = limits.SERVICE_NAME,
) -> list[limits.Violation]:
    """Every violation of ``request`` (a decoded JSON body), by :func:`limits.check_request`."""
    if not isinstance(request, dict):
        return [limits.Violation("", "type", request, "JSON object")]
    return limits.check_request(operation, request, service)


class Validator:
    """:func:`check_plain` of one operation, skipped when the generated test passes;
    ``service`` reads another model (``"personalize-runtime"``: no rules past the model)."""

    def __init__(self, operation: str, service: str = limits.SERVICE_NAME) -> None:
        self.operation, self.service = operation, service
        self._fast = compile_fast_check(limits.operation_limits(operation, service))

    def __call__(
        self, request: Any, body_size: int = limits.EVENT_MAX_BYTES
    ) -> list[limits.Violation]:
        if self.service != limits.SERVICE_NAME:
            if isinstance(request, dict) and _passes(self._fast, request):
                return []
            return _plain_or_refused(self.operation, request, self.service)
        if isinstance(request, dict) and _passes(self._fast, request):
            if self.operation != "PutEvents":
                return storable(self.operation, request)
            # No event can pass 10 KB when the whole body is smaller: compact JSON of a decoded
            # event is never longer than its text in the body, except that its two numbers
            # (eventValue, sentAt) may print longer ("1E5" -> "100000.0"), by < 32 bytes each.
            small = body_size + 64 <= limits.EVENT_MAX_BYTES
            if all(_event_rules_pass(event, small) for event in request["eventList"]):
                return []
        found = _plain_or_refused(self.operation, request)
        # what the plain check lets through but the store could not read back (strict JSON)
        return found or storable(self.operation, request)


def _passes(fast: Callable[[Any], bool], request: Any) -> bool:
    try:
        return fast(request)
    except (OverflowError, ValueError, TypeError):  # e.g. an int too large for a float
        return False


def _plain_or_refused(
    operation: str, request: Any, service: str = limits.SERVICE_NAME
) -> list[limits.Violation]:
    """:func:`check_plain`, made total: a value it cannot even look at is a type violation."""
    try:
        return check_plain(operation, request, service=service)
    except (OverflowError, ValueError, TypeError) as exc:
        return [limits.Violation("", "type", f"{type(exc).__name__}: {exc}", "request")]


def storable(operation: str, request: dict[str, Any]) -> list[limits.Violation]:
    """Rules past the model that a request must meet to be stored and read back unchanged.

    ``properties`` must be a JSON object as the store's reader (orjson, strict JSON: no
    ``NaN``, no unpaired surrogates) decodes it; PutItems/PutUsers/PutActions need a dataset
    ARN of their own type (``…:dataset/GROUP/ITEMS`` for PutItems, ``…/USERS``, ``…/ACTIONS``).
    Timestamps and numbers are checked where rows are built (``_emulator``).
    """
    found: list[limits.Violation] = []
    if operation in _EVENT_LISTS:
        member = _EVENT_LISTS[operation]
        for i, event in enumerate(request.get(member) or ()):
            if isinstance(event, dict) and not _json_object(event.get("properties")):
                path = f"{member}[{i}].properties"
                found.append(limits.Violation(path, "not_json_object", event["properties"]))
        return found
    record = operations.record_operation(operation)
    member, kind = record.member, record.dataset_type
    for i, record in enumerate(request.get(member) or ()):
        if isinstance(record, dict) and not _json_object(record.get("properties")):
            path = f"{member}[{i}].properties"
            found.append(limits.Violation(path, "not_json_object", record["properties"]))
    arn = request.get("datasetArn")
    if isinstance(arn, str) and arn.rsplit(":", 1)[-1].split("/")[::2] != ["dataset", kind]:
        need = f"{operation} writes to the {kind.title()} dataset (arn:…:dataset/GROUP/{kind})"
        found.append(limits.Violation("datasetArn", "dataset_type", arn, need))
    return found


#: the operations that send events of a tracker, and the member listing them
_EVENT_LISTS = {"PutEvents": "eventList", "PutActionInteractions": "actionInteractions"}


def _json_object(properties: Any) -> bool:
    """True for no properties, or a string holding a JSON object that orjson decodes."""
    if properties is None:
        return True
    import orjson

    try:
        return type(orjson.loads(properties)) is dict
    except (orjson.JSONDecodeError, TypeError):
        return False


def compile_fast_check(ops: limits.OperationLimits) -> Callable[[Any], bool]:
    """Generate straight-line Python that checks every FieldLimit of ``ops`` (no calls per field).

    The code is written from the model the same way :func:`limits.check_request`
    walks it, rule for rule (``tests/tracker/test_validator.py`` proves the two agree
    on generated requests of every operation, valid and invalid): it returns True
    exactly when ``check_request`` finds no violation of the model (the documented
    event rules are :func:`_event_rules_pass`); an exception means a value it cannot
    judge, which :func:`_passes` counts as False. The source is registered with
    :mod:`linecache` under a name of its own, so tracebacks and debuggers show it.
    """
    lines = ["def check(v0):"]
    namespace: dict[str, Any] = {"isfinite": math.isfinite}
    counter = iter(range(1_000_000))

    def emit(indent: int, text: str) -> None:
        lines.append("    " * indent + text)

    def size(var: str, spec: limits.FieldLimit, *, floor: bool = True) -> str:
        low = spec.min if spec.min is not None and floor else None
        parts = [str(low), f"len({var})"] if low is not None else [f"len({var})"]
        parts += [str(spec.max)] if spec.max is not None else []
        return " <= ".join(parts) if len(parts) > 1 else "True"

    def value(path: str, var: str, indent: int) -> None:
        spec = ops.fields[path]
        kind = spec.type
        if kind == "string":
            emit(indent, f"if type({var}) is not str or not {size(var, spec)}: return False")
            if spec.regex is not None:
                name = f"fullmatch{next(counter)}"
                namespace[name] = spec.regex.fullmatch
                emit(indent, f"if {name}({var}) is None: return False")
        elif kind == "list":
            emit(indent, f"if type({var}) is not list or not {size(var, spec)}: return False")
            item = f"v{next(counter)}"
            emit(indent, f"for {item} in {var}:")
            emit(indent + 1, f"if {item} is None: return False")
            value(path + "[]", item, indent + 1)
        elif kind == "map":  # its size (no minimum, as AWS checks maps), keys, values
            emit(indent, f"if type({var}) is not dict: return False")
            emit(indent, f"if not {size(var, spec, floor=False)}: return False")
            key, item = f"v{next(counter)}", f"v{next(counter)}"
            emit(indent, f"for {key}, {item} in {var}.items():")
            emit(indent + 1, f"if {key} is None or {item} is None: return False")
            value(path + "{key}", key, indent + 1)
            value(path + "{value}", item, indent + 1)
        elif kind == "structure":
            structure(path, var, indent)
        elif kind in ("integer", "long"):
            emit(indent, f"if type({var}) is not int: return False")
            low = "" if spec.min is None else f"{spec.min} <= "
            high = "" if spec.max is None else f" <= {spec.max}"
            if low or high:
                emit(indent, f"if not {low}{var}{high}: return False")
        elif kind in ("float", "double"):
            emit(indent, f"if type({var}) is not float and type({var}) is not int: return False")
            emit(indent, f"if not isfinite({var}): return False")
        elif kind == "timestamp":  # a number or a string (its range is the rows' to judge)
            emit(indent, f"t = type({var})")
            emit(indent, "if t is not float and t is not int and t is not str: return False")
            emit(indent, f"if t is float and not isfinite({var}): return False")
        else:  # a kind the models of these operations do not use: let check_request decide
            emit(indent, "return False")

    def structure(path: str, var: str, indent: int) -> None:
        members = ops.members[path]
        allowed = f"allowed{next(counter)}"
        namespace[allowed] = frozenset(members)
        emit(indent, f"if type({var}) is not dict or not {allowed}.issuperset({var}): return False")
        for member in members:
            child = f"{path}.{member}" if path else member
            item = f"v{next(counter)}"
            emit(indent, f"{item} = {var}.get({member!r})")
            if ops.fields[child].required:
                emit(indent, f"if {item} is None: return False")
                value(child, item, indent)
            else:
                emit(indent, f"if {item} is not None:")
                value(child, item, indent + 1)

    structure("", "v0", 1)
    emit(1, "return True")
    source = "\n".join(lines) + "\n"
    filename = f"<fast check of {ops.name} #{next(_GENERATED)}>"
    # as attrs and dataclasses do: the source where tracebacks, pdb and inspect look for it
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace["check"]


#: numbers the generated sources, so each has a file name of its own in linecache
_GENERATED = itertools.count(1)


def _event_rules_pass(event: dict[str, Any], small: bool = False) -> bool:
    """True when an event certainly passes the documented rules of ``limits``.

    orjson accepts a subset of what ``json.loads`` accepts (no NaN, no lone
    surrogates) and decodes it to the same dict, so a pass here is a pass there;
    anything else is left to :func:`limits.check_request` for the verdict.
    """
    import orjson

    properties = event.get("properties")
    if properties is not None:
        try:
            decoded = orjson.loads(properties)
        except orjson.JSONDecodeError:
            return False
        if type(decoded) is not dict:
            return False
        for key in decoded:
            if key.lower() in _RESERVED:
                return False
    return small or limits.event_size(event) <= limits.EVENT_MAX_BYTES
