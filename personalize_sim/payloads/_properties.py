"""Properties: which columns become the ``properties`` JSON of an event, and encoding it.

Properties come from UPPER_SNAKE_CASE columns beyond the contract (``NUM_RATINGS`` →
``numRatings``), except those PutEvents does not carry (``RECOMMENDER_ARN``, a tracker's
``TRACKING_ID`` and ``RECEIVED_AT``: ``_schema.NOT_SENT``), and from a ``PROPERTIES``
column of dicts or JSON object strings;
``properties=[...]`` names the columns instead. A null value leaves its key out.

>>> import pandas as pd
>>> from ._problems import ProblemReport
>>> frame = pd.DataFrame({"ITEM_ID": ["i1", "i2"], "NUM_RATINGS": [3, None],
...                       "DEVICE": ["ios", "web"], "persona": ["a", "b"],
...                       "RECOMMENDER_ARN": ["arn:top", None]})
>>> named, blob = property_columns(frame, {"ITEM_ID": "ITEM_ID"}, None)
>>> named, blob
(['NUM_RATINGS', 'DEVICE'], None)
>>> encode_properties(frame, named, blob, ProblemReport()).tolist()
['{"numRatings":3.0,"device":"ios"}', '{"device":"web"}']
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as schema
from .. import limits
from .._checks import check
from ..errors import ConfigTypeError
from ._columns import as_objects, present
from ._problems import ProblemReport, one_row

__all__ = ["PROPERTIES_COLUMNS", "encode_properties", "property_columns"]

#: Name of the column that may carry a dict (or JSON object string) of properties.
PROPERTIES_COLUMNS = ("PROPERTIES", "properties")
_KEY_RULE = "camelCase key ([a-z][A-Za-z0-9]*), e.g. NUM_RATINGS → numRatings"
_JSON_RULE = "str, int, float, bool, list or dict with finite numbers"


def property_columns(
    frame: pd.DataFrame, resolved: Mapping[str, str], properties: Sequence[str] | None
) -> tuple[list[str], str | None]:
    """Which columns become properties, and the dict/JSON column if any.

    Raises :class:`~personalize_sim.errors.ConfigError` if ``properties`` names a column
    the frame lacks or a request field.
    """
    contract = set(resolved.values())
    blob = next((c for c in PROPERTIES_COLUMNS if c in frame.columns), None)
    if properties is None:
        named = [
            c
            for c in frame.columns
            if isinstance(c, str)
            and c not in contract
            and c not in schema.NOT_SENT
            and c != blob
            and c.isupper()
            and c[0].isalpha()
        ]
        return named, blob
    if isinstance(properties, str) or not isinstance(properties, Iterable):
        raise ConfigTypeError("properties", properties, "a list of column names, or None")
    properties = list(properties)
    missing = [c for c in properties if c not in frame.columns]
    check(
        not missing,
        "properties",
        properties,
        f"names of the frame's columns; it has no {missing}",
    )
    named = [c for c in properties if c not in PROPERTIES_COLUMNS]
    clash = [c for c in named if c in contract]
    check(not clash, "properties", properties, f"property columns; {clash} are request fields")
    return named, next((c for c in properties if c in PROPERTIES_COLUMNS), None)


def encode_properties(
    frame: pd.DataFrame, named: list[str], blob: str | None, problems: ProblemReport
) -> np.ndarray:
    """JSON object strings (None where an event has no property).

    Named columns are encoded column-wise: each distinct value once, then joined
    per row; only rows with nulls or a dict column take the slow path.
    """
    if not named and blob is None:
        return np.full(len(frame), None, dtype=object)
    keys: list[str] = []
    fragments: list[np.ndarray] = []  # '"key":<json>' per row, None where null
    for column in named:
        key = schema.camel_case(column)
        if key is None:
            problems.add(None, column, "bad_key", column, _KEY_RULE)
        elif key.lower() in limits.RESERVED_PROPERTY_KEYS:
            problems.add(None, column, "reserved_key", key, _reserved_rule())
        else:
            keys.append(key)
            fragments.append(_fragments(frame[column], column, key, problems))
    if blob is None:
        return _join_columns(fragments, len(frame))
    return _join_with_blob(fragments, keys, as_objects(frame[blob]), blob, problems)


def _join_columns(fragments: list[np.ndarray], n: int) -> np.ndarray:
    """'{…}' from the fragments of each row: vectorised where no fragment is null."""
    out = np.full(n, None, dtype=object)
    complete = np.ones(n, dtype=bool)
    for fragment in fragments:
        complete &= present(fragment)
    if fragments and complete.any():
        joined = fragments[0][complete]
        for fragment in fragments[1:]:
            joined = joined + "," + fragment[complete]
        out[complete] = "{" + joined + "}"
    for i in np.flatnonzero(~complete).tolist():
        parts = [f[i] for f in fragments if f[i] is not None]
        if parts:
            out[i] = "{" + ",".join(parts) + "}"
    return out


def _join_with_blob(
    fragments: list[np.ndarray],
    keys: list[str],
    blobs: np.ndarray,
    blob: str,
    problems: ProblemReport,
) -> np.ndarray:
    """'{…}' from the column fragments and the dict (or JSON) of each row, row by row."""
    import orjson

    n = len(blobs)
    out = np.full(n, None, dtype=object)
    seen = set(keys)
    for i in range(n):
        parts = [f[i] for f in fragments if f[i] is not None]
        extra = {} if blobs[i] is None else _decode_blob(blobs[i], blob, i, problems)
        for key in seen.intersection(extra):
            problems.add(
                one_row(n, i),
                blob,
                "duplicate_key",
                key,
                "each property once, from a column or the dict",
            )
        parts.extend(
            f"{orjson.dumps(k).decode()}:{orjson.dumps(v).decode()}"
            for k, v in extra.items()
            if k not in seen
        )
        if parts:
            out[i] = "{" + ",".join(parts) + "}"
    return out


def _fragments(series: pd.Series, name: str, key: str, problems: ProblemReport) -> np.ndarray:
    """'"key":<json value>' for each row of a property column (None where null).

    Each distinct value is encoded once; rows take their fragment by code.
    """
    import orjson

    prefix = orjson.dumps(key).decode() + ":"
    if series.dtype != object:  # typed column: the series factorizes itself (nulls code -1)
        codes, uniques = series.factorize()
        uniques = np.asarray(uniques, dtype=object)
    else:
        values = as_objects(series)
        given = present(values)
        kind = pd.api.types.infer_dtype(values, skipna=True)
        codes = np.full(len(values), -1, dtype=np.intp)
        if kind in ("string", "integer", "floating", "boolean", "empty"):
            codes[given], uniques = pd.factorize(values[given])
        else:  # mixed or unhashable values: 1 and True would hash alike, so one by one
            codes[given] = np.arange(int(given.sum()))
            uniques = values[given]
    encoded = np.full(len(uniques) + 1, None, dtype=object)  # the last slot serves code -1
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    for j, value in enumerate(uniques):
        value = value.item() if isinstance(value, np.generic) else value
        if _json_ready(value):
            encoded[j] = prefix + orjson.dumps(value).decode()
        else:
            bad[j] = True
    if bad.any():
        problems.add(bad[codes], name, "not_json_encodable", series, _JSON_RULE)
    return encoded[codes]


def _reserved_rule() -> str:
    return "not one of " + ", ".join(sorted(limits.RESERVED_PROPERTY_KEYS)) + " (any case)"


def _json_ready(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int | np.bool_ | np.integer):
        return True
    if isinstance(value, float | np.floating):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_json_ready(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_ready(v) for k, v in value.items())
    return False


def _decode_blob(value: Any, name: str, i: int, problems: ProblemReport) -> dict[str, Any]:
    """The properties of one row's dict or JSON object string, bad keys and values reported."""
    n = len(problems.labels) if problems.labels is not None else i + 1
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            problems.add(one_row(n, i), name, "not_json_object", value, "JSON object")
            return {}
    if not isinstance(value, dict):
        problems.add(one_row(n, i), name, "not_json_object", value, "JSON object")
        return {}
    clean: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(key, str) and key.lower() in limits.RESERVED_PROPERTY_KEYS:
            problems.add(one_row(n, i), name, "reserved_key", key, _reserved_rule())
        elif not isinstance(key, str) or schema.camel_case(key) != key:
            problems.add(one_row(n, i), name, "bad_key", key, _KEY_RULE)
        elif not _json_ready(item):
            problems.add(one_row(n, i), name, "not_json_encodable", item, _JSON_RULE)
        elif item is not None:
            clean[key] = item
    return clean
