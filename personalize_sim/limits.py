"""Limits of the Personalize Events API, read from botocore's own service model.

botocore checks only required members, types and *minimums* on the client
(its ``validate.py`` never looks at ``max``), so 11 events or 30 impressions
reach the wire.  This module derives every constraint from the model,
adds the documented rules the model cannot express, and checks whole
requests against them: :func:`check_request` is what the payload layer
and the local tracker both use, so the two can never disagree.

>>> operation_limits("PutEvents").field("eventList[].impression").max
25

The constants (:data:`EVENT_MAX_BYTES`, :data:`RESERVED_PROPERTY_KEYS`,
:data:`BULK_VALUE_MAX_CHARS`) are the documented rules the model lacks; they and the
helpers :func:`event_size` and :func:`member_documentation` serve the project's own
layers and are not in ``__all__``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["FieldLimit", "OperationLimits", "Violation", "check_request", "operation_limits"]

SERVICE_NAME = "personalize-events"

# Documented rules that the service model does not carry (docs/reference/personalize-events.md):
#: keys Personalize refuses inside an event's ``properties`` (SVC ``Event.properties`` doc),
#: compared case-insensitively.
RESERVED_PROPERTY_KEYS = frozenset(
    {"userid", "sessionid", "eventtype", "timestamp", "recommendationid", "impression"}
)
#: "Maximum size of an event: 10 KB" (Developer Guide, limits), measured on the event's JSON.
EVENT_MAX_BYTES = 10 * 1024
#: "Max characters for categorical data and impression values: 1000" (bulk import, limits).
BULK_VALUE_MAX_CHARS = 1000
#: Metadata fields (not required, not reserved) a schema of each dataset type may hold:
#: Users 25, Items 100, Actions 10 ("Custom datasets and schemas", Developer Guide).
METADATA_MAX_FIELDS = {"USERS": 25, "ITEMS": 100, "ACTIONS": 10}
#: Reserved fields of each dataset type beyond its id, with their Avro types (same page):
#: a column of that name must hold that type; times are epoch seconds in a long.
RESERVED_FIELDS: dict[str, dict[str, str]] = {
    "ITEMS": {"CREATION_TIMESTAMP": "long"},
    "USERS": {},
    "ACTIONS": {
        "CREATION_TIMESTAMP": "long",
        "VALUE": "long",
        "TYPE": "string",
        "EXPIRATION_TIMESTAMP": "long",
        "REPEAT_FREQUENCY": "long",
    },
    "ACTION_INTERACTIONS": {"IMPRESSION": "string", "RECOMMENDATION_ID": "string"},
}
#: reserved fields that hold a time (epoch seconds)
TIME_FIELDS = frozenset({"CREATION_TIMESTAMP", "EXPIRATION_TIMESTAMP", "TIMESTAMP"})


@dataclass(frozen=True)
class FieldLimit:
    """The constraints of one member, addressed by a path such as ``eventList[].itemId``."""

    path: str
    type: str  # botocore type name: string, list, structure, float, timestamp, …
    required: bool = False
    min: int | None = None
    max: int | None = None
    pattern: str | None = None

    @functools.cached_property
    def regex(self) -> re.Pattern[str] | None:
        return None if self.pattern is None else re.compile(self.pattern)


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (a JSON path with indices), which rule, the value and the limit."""

    path: str
    reason: str
    value: Any
    limit: Any = None

    @property
    def message(self) -> str:
        """A sentence in the style of the service's own validation messages."""
        value = _short(self.value)
        text = _REASON_TEXT.get(self.reason, self.reason)
        limit = "" if self.limit is None else f" (limit: {self.limit})"
        return f"Value {value} at '{self.path}' failed to satisfy constraint: {text}{limit}"


_REASON_TEXT = {
    "missing": "Member must not be null",
    "too_short": "Member must have length greater than or equal to the minimum",
    "too_long": "Member must have length less than or equal to the maximum",
    "too_few": "Member must have at least the minimum number of elements",
    "too_many": "Member must have at most the maximum number of elements",
    "pattern": "Member must satisfy regular expression pattern",
    "type": "Member must be of the modelled type",
    "not_finite": "Member must be a finite number",
    "unknown_member": "Member is not part of the request shape",
    "not_json_object": "Member must be a JSON object encoded as a string",
    "reserved_key": "Member must not use a reserved property key",
    "event_too_large": "Event must be at most the maximum size in bytes",
    "too_small": "Member must have value greater than or equal to the minimum",
    "too_large": "Member must have value less than or equal to the maximum",
    "map_keys": "Map keys must satisfy their constraints",
    "map_values": "Map values must satisfy their constraints",
}


@dataclass(frozen=True)
class OperationLimits:
    """Every field limit of one operation, plus its HTTP route."""

    name: str
    http_method: str
    http_path: str
    fields: Mapping[str, FieldLimit]
    #: member names of each structure, by its path ("" is the request itself)
    members: Mapping[str, tuple[str, ...]]

    def field(self, path: str) -> FieldLimit:
        try:
            return self.fields[path]
        except KeyError:
            raise ConfigError(
                "path", path, f"a member of {self.name}: {sorted(self.fields)}"
            ) from None

    def __iter__(self) -> Iterator[FieldLimit]:
        return iter(self.fields.values())


@functools.cache
def _service_model(service: str = SERVICE_NAME) -> Any:
    import botocore.session  # imported here: importing personalize_sim must stay cheap

    return botocore.session.get_session().get_service_model(service)


@functools.cache
def operation_limits(name: str, service: str = SERVICE_NAME) -> OperationLimits:
    """Limits of ``PutEvents``, ``PutItems``, ``PutUsers`` … as botocore's model states them.

    ``service`` reads another model: ``operation_limits("CreateMetricAttribution",
    "personalize")``, ``operation_limits("GetRecommendations", "personalize-runtime")``.
    """
    operation = _service_model(service).operation_model(name)
    fields: dict[str, FieldLimit] = {}
    members: dict[str, tuple[str, ...]] = {}

    def walk(shape: Any, path: str, required: bool) -> None:
        meta = shape.metadata
        fields[path] = FieldLimit(
            path=path,
            type=shape.type_name,
            required=required,
            min=meta.get("min"),
            max=meta.get("max"),
            pattern=meta.get("pattern"),
        )
        if shape.type_name == "structure":
            needed = set(shape.required_members)
            members[path] = tuple(shape.members)
            for member, member_shape in shape.members.items():
                walk(member_shape, _join(path, member), member in needed)
        elif shape.type_name == "list":
            walk(shape.member, path + "[]", True)
        elif shape.type_name == "map":  # the runtime API's context, filterValues
            walk(shape.key, path + "{key}", True)
            walk(shape.value, path + "{value}", True)

    walk(operation.input_shape, "", True)
    del fields[""]
    return OperationLimits(
        name=name,
        http_method=operation.http["method"],
        http_path=operation.http["requestUri"],
        fields=fields,
        members=members,
    )


def member_documentation(operation: str, member: str, service: str = SERVICE_NAME) -> str:
    """The model's documentation of a top-level request member (where some limits live only
    in words, e.g. ``numResults``: "the maximum is 500")."""
    return str(
        _service_model(service).operation_model(operation).input_shape.members[member].documentation
    )


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


# ---------------------------------------------------------------------------------------------
# Checking a whole request (a decoded JSON body, or the kwargs of client.put_events).


def check_request(
    operation: str, request: Mapping[str, Any], service: str = SERVICE_NAME
) -> list[Violation]:
    """Every violation in ``request`` against the model and the documented rules.

    ``request`` is either the keyword arguments of the boto3 call or the JSON
    body as the service receives it (``sentAt`` as epoch seconds); paths in the
    result carry list indices, e.g. ``eventList[3].impression``. ``service`` reads
    another model (``"personalize-runtime"``); a map member (its ``context``) breaks
    as a whole: ``map_keys``/``map_values`` carry the entries' own violations as limit.

    >>> [v.reason for v in check_request("GetRecommendations",
    ...     {"numResults": -1, "context": {"bad key": "x"}}, "personalize-runtime")]
    ['too_small', 'map_keys']
    """
    limits = operation_limits(operation, service)
    found: list[Violation] = []
    _check_members(limits, "", "", request, found)
    if operation == "PutEvents" and isinstance(request.get("eventList"), list):
        for i, event in enumerate(request["eventList"]):
            if isinstance(event, Mapping):
                _check_event_rules(f"eventList[{i}]", event, found)
    return found


def _check_members(
    limits: OperationLimits, model_path: str, path: str, value: Mapping[str, Any], found: list
) -> None:
    if not isinstance(value, Mapping):
        found.append(Violation(path, "type", value, "structure"))
        return
    children = {m: limits.fields[_join(model_path, m)] for m in limits.members[model_path]}
    found.extend(
        Violation(_join(path, member), "unknown_member", value[member])
        for member in value
        if member not in children
    )
    for member, limit in children.items():
        member_path = _join(path, member)
        if member not in value or value[member] is None:
            if limit.required:
                found.append(Violation(member_path, "missing", None))
            continue
        _check_value(limits, limit, member_path, value[member], found)


def _check_value(
    limits: OperationLimits, limit: FieldLimit, path: str, value: Any, found: list
) -> None:
    kind = limit.type
    if kind == "string":
        if not isinstance(value, str):
            found.append(Violation(path, "type", value, "string"))
            return
        if limit.min is not None and len(value) < limit.min:
            found.append(Violation(path, "too_short", value, f"length >= {limit.min}"))
        if limit.max is not None and len(value) > limit.max:
            found.append(Violation(path, "too_long", value, f"length <= {limit.max}"))
        if limit.regex is not None and not limit.regex.fullmatch(value):
            found.append(Violation(path, "pattern", value, limit.pattern))
    elif kind == "list":
        if not isinstance(value, list | tuple):
            found.append(Violation(path, "type", value, "list"))
            return
        if limit.min is not None and len(value) < limit.min:
            found.append(Violation(path, "too_few", len(value), f"items >= {limit.min}"))
        if limit.max is not None and len(value) > limit.max:
            found.append(Violation(path, "too_many", len(value), f"items <= {limit.max}"))
        element = limits.fields[limit.path + "[]"]
        for i, item in enumerate(value):
            if item is None:
                found.append(Violation(f"{path}[{i}]", "missing", None))
            else:
                _check_value(limits, element, f"{path}[{i}]", item, found)
    elif kind == "structure":
        _check_members(limits, limit.path, path, value, found)
    elif kind == "map":
        _check_map(limits, limit, path, value, found)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            found.append(Violation(path, "type", value, "integer"))
            return
        if limit.min is not None and value < limit.min:
            found.append(Violation(path, "too_small", value, f">= {limit.min}"))
        if limit.max is not None and value > limit.max:
            found.append(Violation(path, "too_large", value, f"<= {limit.max}"))
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            found.append(Violation(path, "type", value, "number"))
        elif not math.isfinite(value):
            found.append(Violation(path, "not_finite", value, "finite number"))
    elif kind == "timestamp":
        if isinstance(value, bool) or (
            not isinstance(value, int | float | str) and not hasattr(value, "timestamp")
        ):
            found.append(Violation(path, "type", value, "timestamp"))
        elif isinstance(value, float) and not math.isfinite(value):
            found.append(Violation(path, "not_finite", value, "finite epoch seconds"))


def _check_map(
    limits: OperationLimits, limit: FieldLimit, path: str, value: Any, found: list
) -> None:
    """A map as AWS checks one: its size, then every key, then every value, each as a whole."""
    if not isinstance(value, Mapping):
        found.append(Violation(path, "type", value, "map"))
        return
    if limit.max is not None and len(value) > limit.max:
        found.append(Violation(path, "too_many", len(value), f"entries <= {limit.max}"))
    for part in ("key", "value"):
        element = limits.fields[f"{limit.path}{{{part}}}"]
        inner: list[Violation] = []
        for key, item in value.items():
            entry = key if part == "key" else item
            if entry is None:
                inner.append(Violation(path, "missing", None))
            else:
                _check_value(limits, element, path, entry, inner)
        if inner:
            reasons = tuple(dict.fromkeys(v.reason for v in inner))
            found.append(Violation(path, f"map_{part}s", dict(value), reasons))


def _check_event_rules(path: str, event: Mapping[str, Any], found: list) -> None:
    """The documented PutEvents rules the model cannot express."""
    properties = event.get("properties")
    if isinstance(properties, str):
        try:
            decoded = json.loads(properties)
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            found.append(
                Violation(f"{path}.properties", "not_json_object", properties, "JSON object")
            )
        else:
            rule = "not one of " + ", ".join(sorted(RESERVED_PROPERTY_KEYS))
            found.extend(
                Violation(f"{path}.properties", "reserved_key", key, rule)
                for key in decoded
                if key.lower() in RESERVED_PROPERTY_KEYS
            )
    size = event_size(event)
    if size > EVENT_MAX_BYTES:
        found.append(Violation(path, "event_too_large", size, f"<= {EVENT_MAX_BYTES} bytes"))


def event_size(event: Mapping[str, Any]) -> int:
    """Bytes of the event as compact UTF-8 JSON: what the 10 KB event limit measures."""
    import orjson

    def default(value: Any) -> Any:
        if hasattr(value, "timestamp"):
            return value.timestamp()
        raise TypeError

    try:
        return len(orjson.dumps(dict(event), default=default))
    except TypeError:  # e.g. an int beyond 64 bits, which orjson refuses and json spells out
        text = json.dumps(dict(event), default=default, separators=(",", ":"), ensure_ascii=False)
        return len(text.encode())


def _short(value: Any, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"
