"""Action interactions frame ⇄ PutActionInteractions requests.

The frame: ``USER_ID`` (nullable), ``SESSION_ID``, ``ACTION_ID``, ``EVENT_TYPE`` (``Viewed``,
``Taken``, ``Not taken``…), ``TIMESTAMP`` (tz-aware, or naive read as UTC), optional
``EVENT_ID``, ``IMPRESSION`` (action ids: a list or a ``|``-joined string) and
``RECOMMENDATION_ID``; other UPPER_SNAKE_CASE columns become ``properties``. Interactions
go in time order, 10 to a request (each carries its own user and session); an interaction
without ``EVENT_ID`` gets one hashed from its content (``-1``, ``-2``… for repeats), so a
resend is idempotent. Every interaction is checked against every limit of the model.

>>> import pandas as pd
>>> frame = pd.DataFrame({"USER_ID": ["u1"], "SESSION_ID": ["s1"], "ACTION_ID": ["a1"],
...                       "EVENT_TYPE": ["Taken"], "EVENT_ID": ["e1"],
...                       "TIMESTAMP": pd.to_datetime(["2024-01-01"], utc=True)})
>>> (request,) = to_put_action_interactions(frame, "tid")
>>> (interaction,) = request["actionInteractions"]
>>> list(interaction), interaction["timestamp"]
(['actionId', 'userId', 'sessionId', 'timestamp', 'eventType', 'eventId'], 1704067200.0)
>>> from_put_action_interactions([request])[["USER_ID", "ACTION_ID", "EVENT_TYPE"]].values.tolist()
[['u1', 'a1', 'Taken']]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import _schema as schema
from .. import limits
from .._checks import instance, one_of
from .._timestamps import utc_from_us
from ..errors import ConfigError, ConfigTypeError, PayloadError
from ._problems import ProblemReport
from ._values import encode_column, metadata_columns, ordered_keys, typed_column

__all__ = [
    "ACTION_INTERACTION_COLUMNS",
    "from_put_action_interactions",
    "to_put_action_interactions",
]

OPERATION = "PutActionInteractions"
#: column -> request member, in the frame's (and the inverse's) order
_MEMBERS = {
    "USER_ID": "userId",
    "SESSION_ID": "sessionId",
    "ACTION_ID": "actionId",
    "EVENT_TYPE": "eventType",
    "TIMESTAMP": "timestamp",
    "EVENT_ID": "eventId",
    "IMPRESSION": "impression",
    "RECOMMENDATION_ID": "recommendationId",
}
ACTION_INTERACTION_COLUMNS = tuple(_MEMBERS)


def to_put_action_interactions(
    frame: pd.DataFrame,
    tracking_id: str,
    *,
    actions: Iterable[str] | pd.DataFrame | None = None,
    errors: Literal["raise", "collect"] = "raise",
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], pd.DataFrame]:
    """PutActionInteractions requests: ``client.put_action_interactions(**request)``.

    ``actions`` (action ids, or an actions frame) refuses interactions with an action it
    does not hold (``unknown_action``). Raises :class:`PayloadError` listing every
    problem; ``errors="collect"`` returns ``(requests for the valid rows, problems)``.
    """
    import orjson

    one_of(errors, "errors", ("raise", "collect"))
    instance(frame, "frame", pd.DataFrame, "a DataFrame")
    _check_tracking_id(tracking_id)
    problems = ProblemReport(labels=frame.index)
    n = len(frame)
    fields: dict[str, np.ndarray] = {}
    for column, member in _MEMBERS.items():
        if column not in frame.columns:
            if limits.operation_limits(OPERATION).field(f"actionInteractions[].{member}").required:
                problems.add(None, column, "missing_column", None, f"required in {OPERATION}")
            continue
        fields[member] = _field(column, frame[column], problems)
    columns = metadata_columns(frame, ACTION_INTERACTION_COLUMNS)
    props = [encode_column(frame[c], c, problems) for c in columns]
    keys = [schema.camel_case(c) for c in columns]
    interactions: list[dict[str, Any]] = []
    wire = [
        m for m in limits.operation_limits(OPERATION).members["actionInteractions[]"] if m in fields
    ]
    for i in range(n):
        interaction = {m: fields[m][i] for m in wire if fields[m][i] is not None}
        found = {k: v[i] for k, v in zip(keys, props, strict=True) if k and v[i] is not None}
        if found:
            interaction["properties"] = orjson.dumps(found).decode()
        interactions.append(interaction)
    for column, key in zip(columns, keys, strict=True):
        if key is None:
            problems.add(None, column, "bad_key", column, "UPPER_SNAKE_CASE")
    if actions is not None and "actionId" in fields:
        known = set(actions["ACTION_ID"] if isinstance(actions, pd.DataFrame) else actions)
        unknown = np.array([a is not None and a not in known for a in fields["actionId"]])
        problems.add(unknown, "ACTION_ID", "unknown_action", frame["ACTION_ID"],
                     "an action of the actions dataset")  # fmt: skip
    _check_model(tracking_id, interactions, problems)
    if "eventId" not in fields:
        _derive_ids(interactions)
    report = problems.frame()
    if len(report) and errors == "raise":
        raise PayloadError(report, what="action interactions frame")
    keep = np.ones(n, dtype=bool)
    if problems.column_level():
        keep[:] = False
    bad = problems.bad_positions()
    keep[bad[bad >= 0]] = False
    order = np.flatnonzero(keep)
    if "timestamp" in fields and len(order):
        order = order[np.argsort(fields["timestamp"][order].astype(float), kind="stable")]
    kept = [interactions[i] for i in order]
    size = limits.operation_limits(OPERATION).field("actionInteractions").max or 10
    requests = [
        {"trackingId": tracking_id, "actionInteractions": kept[i : i + size]}
        for i in range(0, len(kept), size)
    ]
    return (requests, report) if errors == "collect" else requests


def from_put_action_interactions(requests: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The action interactions frame of ``requests``: the inverse of
    :func:`to_put_action_interactions` (every column of the contract, then properties)."""
    import orjson

    rows = [a for request in requests for a in request["actionInteractions"]]
    props = [orjson.loads(a["properties"]) if a.get("properties") else {} for a in rows]
    return action_interactions_frame(rows, props)


def action_interactions_frame(
    rows: list[Mapping[str, Any]], props: list[dict[str, Any]]
) -> pd.DataFrame:
    """The frame of decoded interactions (shared with the emulator's reader)."""
    from .._timestamps import wire_seconds

    data: dict[str, Any] = {}
    for column, member in _MEMBERS.items():
        values = [row.get(member) for row in rows]
        if column == "TIMESTAMP":
            micros = [round(float(wire_seconds(v)) * 1_000_000) for v in values]
            data[column] = pd.Series(utc_from_us(np.asarray(micros, dtype=np.int64)))
        elif column == "IMPRESSION":
            data[column] = pd.Series([None if v is None else list(v) for v in values], dtype=object)
        else:
            data[column] = pd.Series(values, dtype="str")
    frame = pd.DataFrame(data)
    for key in ordered_keys(props):
        frame[schema.snake_upper(key)] = typed_column([p.get(key) for p in props], time=False)
    return frame


def _field(column: str, series: pd.Series, problems: ProblemReport) -> np.ndarray:
    """The request member's value of each row (None where null)."""
    n = len(series)
    if column == "TIMESTAMP":
        return _seconds(series, problems)
    values = series.to_numpy(dtype=object, na_value=None)
    if column == "IMPRESSION":
        out = np.full(n, None, dtype=object)
        for i, value in enumerate(values):
            if isinstance(value, str):
                out[i] = value.split(schema.IMPRESSION_SEPARATOR) if value else None
            elif isinstance(value, list | tuple | np.ndarray):
                out[i] = list(value)
            elif value is not None:
                out[i] = value  # the model check names its type
        return out
    out = np.array([None if v is None or v != v else v for v in values], dtype=object)
    for i, value in enumerate(out):
        if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            out[i] = str(int(value))
    return out


def _seconds(series: pd.Series, problems: ProblemReport) -> np.ndarray:
    """Epoch seconds (floats, to the µs) of datetimes; what is not a datetime is refused."""
    out = np.full(len(series), None, dtype=object)
    if not (
        isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series)
    ):
        problems.add(None, "TIMESTAMP", "wrong_type", str(series.dtype), "datetimes")
        return out
    times = series if isinstance(series.dtype, pd.DatetimeTZDtype) else series.dt.tz_localize("UTC")
    missing = times.isna().to_numpy()
    ns = times.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").astype(np.int64)
    fine = ns % 1000 != 0
    problems.add(~missing & fine, "TIMESTAMP", "sub_microsecond", series,
                 "whole microseconds (the API's precision)")  # fmt: skip
    keep = ~missing & ~fine
    out[keep] = [int(us) / 1_000_000 for us in ns[keep] // 1000]
    return out


def _check_tracking_id(tracking_id: Any) -> None:
    probe = {"trackingId": tracking_id, "actionInteractions": [
        {"actionId": "a", "sessionId": "s", "timestamp": 0, "eventType": "Taken"}]}  # fmt: skip
    for violation in limits.check_request(OPERATION, probe):
        error = ConfigError if isinstance(tracking_id, str) else ConfigTypeError
        raise error("tracking_id", tracking_id, violation.message)


_COLUMN_OF = {member: column for column, member in _MEMBERS.items()}


def _check_model(
    tracking_id: str, interactions: list[dict[str, Any]], problems: ProblemReport
) -> None:
    """Each interaction against the model, alone; a violation names its row and column."""
    n = len(interactions)
    for i, interaction in enumerate(interactions):
        request = {"trackingId": tracking_id, "actionInteractions": [interaction]}
        for violation in limits.check_request(OPERATION, request):
            member = violation.path.removeprefix("actionInteractions[0].").split("[")[0]
            mask = np.zeros(n, dtype=bool)
            mask[i] = True
            value = violation.value
            if member == "properties" and isinstance(value, str):
                value = f"<{len(value)} characters>"
            field = _COLUMN_OF.get(member, member)
            problems.add(mask, field, violation.reason, [value] * n, violation.limit)


def _derive_ids(interactions: list[dict[str, Any]]) -> None:
    """A 128-bit hash (hex) of each interaction's content; repeats get ``-1``, ``-2``…"""
    import orjson

    seen: dict[str, int] = {}
    for interaction in interactions:
        digest = hashlib.blake2b(orjson.dumps(interaction, option=orjson.OPT_SORT_KEYS),
                                 digest_size=16).hexdigest()  # fmt: skip
        count = seen.get(digest, 0)
        seen[digest] = count + 1
        interaction["eventId"] = digest if count == 0 else f"{digest}-{count}"
