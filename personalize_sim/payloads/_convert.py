"""Events DataFrame ⇄ PutEvents requests, with every problem reported by row.

* :func:`validate_events` returns one row per problem (``row, field, reason, value, limit``);
* :func:`to_put_events` turns a frame into the keyword arguments of
  ``client.put_events(**request)``, refusing (or, with ``errors="collect"``,
  setting aside) rows the real service would reject;
* :func:`from_put_events` is its exact inverse.

Conversion rules, in one place:

* Columns use the interactions-dataset names (``USER_ID``, ``TIMESTAMP``…) or the
  API's camelCase names (``userId``, ``sentAt``…), not both for one field.
* ``TIMESTAMP`` may hold tz-aware datetimes, naive datetimes (read as UTC), or
  epoch numbers, which need an explicit ``time_unit`` ("s", "ms", "us" or "ns").
  The API carries microseconds, so finer parts are reported, not rounded.
* Id columns hold strings; integer columns are written in decimal, losslessly.
  Anything else (floats, mixed objects) is reported as ``wrong_type``.
* ``IMPRESSION`` holds a list of item ids or a ``|``-separated string; an empty
  string or None means no impression.
* Properties come from UPPER_SNAKE_CASE columns beyond the contract (``DISCOUNT`` →
  ``discount``) and from a ``PROPERTIES`` column of dicts or JSON object strings;
  pass ``properties=[...]`` to name the columns yourself, ``properties=[]`` for none.
  Lower-case extra columns are ground truth and never sent. A null property
  value leaves the key out of that event.
* ``EVENT_ID`` is kept where given; elsewhere it is a hash of the row's content
  (plus an occurrence number for identical rows), so converting the same frame
  twice gives the same ids and a resend is idempotent.
* Events of a session are put in time order and cut into requests of at most
  10 wherever the user changes (a login midway gives requests before and after
  it) or the list is full; requests are ordered by their first event's time.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from .. import limits, schema
from .._gc import paused_gc
from ..errors import PayloadError
from ..schema import (
    ATTRIBUTION_SOURCE,
    EVENT_ID,
    EVENT_TYPE,
    EVENT_VALUE,
    IMPRESSION,
    IMPRESSION_SEPARATOR,
    ITEM_ID,
    RECOMMENDATION_ID,
    SESSION_ID,
    TIMESTAMP,
    USER_ID,
)

__all__ = [
    "PROBLEM_COLUMNS",
    "from_put_events",
    "to_put_events",
    "validate_events",
]

#: Columns of every problem report.
PROBLEM_COLUMNS = ("row", "field", "reason", "value", "limit")
#: Name of the column that may carry a dict (or JSON object string) of properties.
PROPERTIES_COLUMNS = ("PROPERTIES", "properties")

TimeUnit = Literal["s", "ms", "us", "ns"]
_US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}
# Epochs outside this window are almost surely a wrong time_unit.
_EARLIEST_US = 0
_LATEST_US = int(pd.Timestamp("2100-01-01", tz="UTC").value // 1000)
_PROPERTY_KEY_RULE = "camelCase key ([a-z][A-Za-z0-9]*), e.g. NUM_RATINGS → numRatings"


# ---------------------------------------------------------------------------------------------
# Normalisation: one pass that both validates and prepares columns for the requests.


@dataclass
class ProblemReport:
    """Problems gathered column-wise; turned into one DataFrame at the end."""

    parts: list[pd.DataFrame] = field(default_factory=list)
    labels: pd.Index | None = None

    def add(
        self,
        mask: np.ndarray | None,
        field_name: str,
        reason: str,
        values: Any,
        limit: Any = None,
    ) -> None:
        """Record ``reason`` for each row where ``mask`` is true (None: the whole column)."""
        if mask is None:
            rows: Any = [None]
            values = [values]
        else:
            where = np.flatnonzero(mask)
            if not len(where):
                return
            rows = self.labels[where] if self.labels is not None else where
            if isinstance(values, pd.Series):
                values = values.iloc[where].to_numpy(dtype=object)
            elif not np.isscalar(values):
                values = np.asarray(values, dtype=object)[where]
        part = pd.DataFrame({"row": rows, "value": values}, columns=["row", "value"])
        part.insert(1, "field", field_name)
        part.insert(2, "reason", reason)
        part["limit"] = limit
        part["_pos"] = -1 if mask is None else np.flatnonzero(mask)
        self.parts.append(part)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
        out = pd.concat([p.astype(object) for p in self.parts], ignore_index=True)
        out = out.sort_values("_pos", kind="stable").drop(columns="_pos")
        return out.reset_index(drop=True)[list(PROBLEM_COLUMNS)]

    def bad_positions(self) -> np.ndarray:
        if not self.parts:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate([p["_pos"].to_numpy(dtype=np.int64) for p in self.parts]))

    def column_level(self) -> bool:
        return any((p["_pos"] < 0).any() for p in self.parts)


@dataclass
class _Events:
    """The frame's events as plain arrays, ready to become request dicts."""

    n: int
    session: np.ndarray  # object: str
    user: np.ndarray  # object: str | None
    sent_us: np.ndarray  # int64 epoch microseconds
    fields: dict[str, np.ndarray]  # API name -> object array, None where absent
    event_id: np.ndarray  # object: str
    lengths: dict[str, np.ndarray]  # API name -> characters of each text field
    present: dict[str, np.ndarray]  # API name -> mask of non-null values
    typed: dict[str, pd.Series] = field(default_factory=dict)  # text columns with a string dtype
    _codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        if name == "sessionId":
            return self.session
        if name == "userId":
            return self.user
        return self.fields[name]

    def factorized(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes, distinct values) of a text column, -1 coding a null; computed once."""
        if name not in self._codes:
            if name in self.typed:  # Arrow-backed text factorizes twice as fast
                codes, uniques = self.typed[name].array.factorize()
                self._codes[name] = np.asarray(codes), np.asarray(uniques, dtype=object)
            elif self.present[name].any():
                codes, uniques = pd.factorize(self.column(name))
                self._codes[name] = codes, np.asarray(uniques, dtype=object)
            else:
                self._codes[name] = np.full(self.n, -1, dtype=np.intp), np.empty(0, dtype=object)
        return self._codes[name]


def resolve_columns(frame: pd.DataFrame) -> dict[str, str]:
    """Contract column -> the frame's column that holds it (dataset or API spelling)."""
    found: dict[str, str] = {}
    for column in frame.columns:
        if not isinstance(column, str):
            continue
        canonical = column if column in schema.API_NAMES else schema.API_ALIASES.get(column)
        if canonical is None:
            continue
        if canonical in found:
            raise ValueError(
                f"columns {found[canonical]!r} and {column!r} both give {canonical}; keep one"
            )
        found[canonical] = column
    return found


def _as_objects(series: pd.Series, *, ints_as_text: bool = False) -> np.ndarray:
    """Values as an object array with None for every kind of missing value."""
    if ints_as_text and pd.api.types.is_integer_dtype(series.dtype):
        # ids stored as integers: decimal strings, losslessly (documented)
        return series.astype("string").to_numpy(dtype=object, na_value=None)
    values = series.to_numpy(dtype=object, na_value=None)
    if series.dtype == object:
        missing = pd.isna(series).to_numpy()
        if missing.any():
            values = values.copy()
            values[missing] = None
    return values


def _present(values: np.ndarray) -> np.ndarray:
    """Mask of non-None entries of an object array (C speed)."""
    return ~pd.isna(values)


def _lengths(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """len() of the entries under ``mask``, 0 elsewhere."""
    out = np.zeros(len(values), dtype=np.int64)
    if mask.any():
        out[mask] = np.fromiter(map(len, values[mask]), dtype=np.int64, count=int(mask.sum()))
    return out


def _string_column(
    series: pd.Series,
    values: np.ndarray,
    name: str,
    limit: limits.FieldLimit,
    problems: ProblemReport,
    *,
    required: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Check a string field against its model limits; returns (present mask, lengths)."""
    if isinstance(series.dtype, pd.StringDtype):  # typed text: nulls and lengths come cheap
        present = series.notna().to_numpy()
        ok = present
        lengths = series.str.len().to_numpy(dtype=np.int64, na_value=0)
    else:
        present = _present(values)
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            ok = present
        else:
            is_str = np.fromiter((type(v) is str for v in values), dtype=bool, count=len(values))
            problems.add(present & ~is_str, name, "wrong_type", values, "string")
            ok = present & is_str
        lengths = _lengths(values, ok)
    if required:
        problems.add(~present, name, "missing", values, "required")
    if limit.min:
        problems.add(ok & (lengths == 0), name, "empty", values, f"length >= {limit.min}")
        problems.add(
            ok & (lengths > 0) & (lengths < limit.min),
            name,
            "too_short",
            values,
            f"length >= {limit.min}",
        )
    if limit.max is not None:
        problems.add(ok & (lengths > limit.max), name, "too_long", values, f"length <= {limit.max}")
    if limit.regex is not None and ok.any():
        uniques = pd.unique(values[ok])
        bad = {u for u in uniques if not limit.regex.search(u)}
        if bad:
            mask = ok.copy()
            mask[ok] = np.fromiter((v in bad for v in values[ok]), dtype=bool, count=int(ok.sum()))
            problems.add(mask, name, "pattern", values, limit.pattern)
    return present, lengths


def epoch_microseconds(
    series: pd.Series, name: str, time_unit: TimeUnit | None, problems: ProblemReport
) -> np.ndarray:
    """Epoch microseconds (int64); invalid entries become 0 and are reported."""
    n = len(series)
    dtype = series.dtype
    out = np.zeros(n, dtype=np.int64)
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        missing = series.isna().to_numpy()
        problems.add(missing, name, "missing", [None] * n, "required")
        aware = isinstance(dtype, pd.DatetimeTZDtype)
        naive = series.dt.tz_convert("UTC").dt.tz_localize(None) if aware else series
        raw = np.where(missing, 0, naive.to_numpy().view(np.int64))
        per_us = {"s": 1_000_000, "ms": 1_000, "us": 1}.get(naive.dt.unit)
        if per_us is None:  # nanoseconds
            problems.add(raw % 1000 != 0, name, "sub_microsecond", series, "microseconds")
            out = raw // 1000
        else:
            out = raw * per_us
    elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
        problems.add(missing, name, "missing", [None] * n, "required")
        if time_unit is None:
            problems.add(
                None,
                name,
                "unit_required",
                str(dtype),
                "pass time_unit='s', 'ms', 'us' or 'ns' for epoch numbers",
            )
            return out
        if pd.api.types.is_integer_dtype(dtype):
            ints = series.to_numpy(dtype=np.int64, na_value=0)
            if time_unit == "ns":
                sub = ints % 1000 != 0
                scaled = ints // 1000
            else:
                sub = np.zeros(n, dtype=bool)
                scaled = ints * int(_US_PER_UNIT[time_unit])
        else:
            us = np.where(missing, 0.0, values) * _US_PER_UNIT[time_unit]
            scaled = np.round(us).astype(np.int64)
            sub = np.abs(us - scaled) > 1e-3 * np.maximum(1.0, np.abs(us)) * 1e-9 + 1e-6
        problems.add(sub & ~missing, name, "sub_microsecond", series, "microseconds")
        out = np.where(missing, 0, scaled)
    else:
        out = _object_timestamps(series, name, time_unit, problems)
    present = out != 0
    outside = present & ((out < _EARLIEST_US) | (out >= _LATEST_US))
    problems.add(outside, name, "out_of_range", series, "between 1970 and 2100 (check time_unit)")
    return out


def _object_timestamps(
    series: pd.Series, name: str, time_unit: TimeUnit | None, problems: ProblemReport
) -> np.ndarray:
    """Timestamps held as Python objects: datetimes (aware or naive), numbers, or junk."""
    values = _as_objects(series)
    n = len(values)
    out = np.zeros(n, dtype=np.int64)
    kinds = np.empty(n, dtype="U5")
    for i, v in enumerate(values):
        if v is None:
            kinds[i] = "none"
        elif isinstance(v, np.datetime64 | pd.Timestamp) or hasattr(v, "tzinfo"):
            kinds[i] = "aware" if getattr(v, "tzinfo", None) is not None else "naive"
        elif isinstance(v, int | float | np.number) and not isinstance(v, bool):
            kinds[i] = "num"
        else:
            kinds[i] = "other"
    problems.add(kinds == "none", name, "missing", values, "required")
    problems.add(kinds == "other", name, "wrong_type", values, "datetime or epoch number")
    aware, naive = kinds == "aware", kinds == "naive"
    if aware.any() and naive.any():
        minority = naive if naive.sum() <= aware.sum() else aware
        problems.add(
            minority, name, "mixed_timezones", values, "all tz-aware or all naive (naive means UTC)"
        )
    dates = aware | naive
    if dates.any():
        stamps = pd.to_datetime(
            [
                pd.Timestamp(v).tz_localize(None)
                if getattr(v, "tzinfo", None) is None
                else pd.Timestamp(v).tz_convert("UTC").tz_localize(None)
                for v in values[dates]
            ]
        ).as_unit("ns")
        raw = stamps.asi8
        problems.add(
            _scatter(dates, raw % 1000 != 0), name, "sub_microsecond", values, "microseconds"
        )
        out[dates] = raw // 1000
    numbers = kinds == "num"
    if numbers.any():
        if time_unit is None:
            problems.add(
                numbers,
                name,
                "unit_required",
                values,
                "pass time_unit='s', 'ms', 'us' or 'ns' for epoch numbers",
            )
        else:
            us = np.array([float(v) for v in values[numbers]]) * _US_PER_UNIT[time_unit]
            scaled = np.round(us).astype(np.int64)
            problems.add(
                _scatter(numbers, np.abs(us - scaled) > 1e-6),
                name,
                "sub_microsecond",
                values,
                "microseconds",
            )
            out[numbers] = scaled
    return out


def _scatter(mask: np.ndarray, sub: np.ndarray) -> np.ndarray:
    full = np.zeros(len(mask), dtype=bool)
    full[mask] = sub
    return full


def _impressions(
    series: pd.Series, name: str, problems: ProblemReport
) -> tuple[np.ndarray, np.ndarray]:
    """Lists of item ids (or None), from lists or ``|``-separated strings.

    Returns the lists and each row's characters (items plus separators). The items of
    all rows are checked as one flat array, not row by row.
    """
    limit = limits.put_events().field("eventList[].impression")
    item = limits.put_events().field("eventList[].impression[]")
    values = _as_objects(series)
    n = len(values)
    out = np.full(n, None, dtype=object)
    wrong = np.zeros(n, dtype=bool)
    given = np.flatnonzero(_present(values))
    if all(type(v) is list for v in values[given]):  # the usual case: nothing to convert
        out[given] = values[given]
        given = given[:0]
    for i in given.tolist():
        v = values[i]
        if isinstance(v, list):
            out[i] = v
        elif isinstance(v, str):
            out[i] = v.split(IMPRESSION_SEPARATOR) if v else None
        elif isinstance(v, tuple | np.ndarray):
            out[i] = list(v)
        else:
            wrong[i] = True
    problems.add(wrong, name, "wrong_type", values, "list of item ids or '|'-separated string")
    listed = _present(out)
    counts = np.zeros(n, dtype=np.int64)
    chars = np.zeros(n, dtype=np.int64)
    if listed.any():
        counts[listed] = np.fromiter(map(len, out[listed]), dtype=np.int64, count=int(listed.sum()))
        flat = np.empty(int(counts.sum()), dtype=object)
        flat[:] = list(itertools.chain.from_iterable(out[listed]))
        owner = np.repeat(np.arange(n), counts)  # the row of each flat item
        if pd.api.types.infer_dtype(flat, skipna=False) in ("string", "empty"):
            text = np.ones(len(flat), dtype=bool)
        else:
            text = np.fromiter((type(x) is str for x in flat), dtype=bool, count=len(flat))
        item_chars = _lengths(flat, text)
        short = ~text | (item_chars < (item.min or 0))
        long = text & (item_chars > (item.max if item.max is not None else np.inf))
        for bad, reason, rule in (
            (short, "bad_item", f"item ids are strings of length >= {item.min}"),
            (long, "too_long", f"item length <= {item.max}"),
        ):
            if bad.any():
                problems.add(np.isin(np.arange(n), owner[bad]), name, reason, values, rule)
        chars = np.bincount(owner, weights=item_chars + 3, minlength=n).astype(np.int64)
    if limit.min:
        problems.add(
            listed & (counts < limit.min), name, "too_few", counts, f"items >= {limit.min}"
        )
    if limit.max is not None:
        problems.add(counts > limit.max, name, "too_many", counts, f"items <= {limit.max}")
    return out, chars


def _event_values(series: pd.Series, name: str, problems: ProblemReport) -> np.ndarray:
    """EVENT_VALUE as floats, NaN where absent (or reported)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        problems.add(np.ones(len(series), dtype=bool), name, "wrong_type", series, "float")
        return np.full(len(series), np.nan)
    if pd.api.types.is_numeric_dtype(series.dtype):
        floats = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = _as_objects(series)
        numeric = np.fromiter(
            (
                v is None or (isinstance(v, int | float | np.number) and not isinstance(v, bool))
                for v in values
            ),
            dtype=bool,
            count=len(values),
        )
        problems.add(~numeric, name, "wrong_type", values, "float")
        floats = np.array(
            [
                np.nan if (v is None or not ok) else float(v)
                for v, ok in zip(values, numeric, strict=True)
            ],
            dtype=np.float64,
        )
    infinite = np.isinf(floats)
    problems.add(infinite, name, "not_finite", floats, "finite number")
    return np.where(infinite, np.nan, floats)


def property_columns(
    frame: pd.DataFrame, resolved: Mapping[str, str], properties: Sequence[str] | None
) -> tuple[list[str], str | None]:
    """Which columns become properties, and the dict/JSON column if any."""
    contract = set(resolved.values())
    blob = next((c for c in PROPERTIES_COLUMNS if c in frame.columns), None)
    if properties is None:
        named = [
            c
            for c in frame.columns
            if isinstance(c, str)
            and c not in contract
            and c != blob
            and c.isupper()
            and c[0].isalpha()
        ]
        return named, blob
    missing = [c for c in properties if c not in frame.columns]
    if missing:
        raise KeyError(f"properties names columns the frame does not have: {missing}")
    named = [c for c in properties if c not in PROPERTIES_COLUMNS]
    clash = [c for c in named if c in contract]
    if clash:
        raise ValueError(f"{clash} are request fields, not properties")
    return named, next((c for c in properties if c in PROPERTIES_COLUMNS), None)


def _properties(
    frame: pd.DataFrame,
    named: list[str],
    blob: str | None,
    problems: ProblemReport,
) -> np.ndarray:
    """JSON object strings (None where an event has no property).

    Named columns are encoded column-wise: each distinct value once, then joined
    per row; only rows with nulls or a dict column take the slow path.
    """
    import orjson

    n = len(frame)
    out = np.full(n, None, dtype=object)
    if not named and blob is None:
        return out
    keys: list[str] = []
    fragments: list[np.ndarray] = []  # '"key":<json>' per row, None where null
    for column in named:
        key = schema.camel_case(column)
        if key is None:
            problems.add(None, column, "bad_key", column, _PROPERTY_KEY_RULE)
            continue
        if key.lower() in limits.RESERVED_PROPERTY_KEYS:
            problems.add(None, column, "reserved_key", key, _reserved_rule())
            continue
        keys.append(key)
        fragments.append(_property_fragments(frame[column], column, key, problems))
    if blob is None:
        complete = np.ones(n, dtype=bool)
        for fragment in fragments:
            complete &= _present(fragment)
        if fragments and complete.any():
            joined = fragments[0][complete]
            for fragment in fragments[1:]:
                joined = joined + "," + fragment[complete]
            out[complete] = "{" + joined + "}"
        for i in np.flatnonzero(~complete).tolist():
            parts = [f[i] for f in fragments if f[i] is not None]
            if parts:
                out[i] = "{" + ",".join(parts) + "}"
    else:
        blobs = _as_objects(frame[blob])
        seen = set(keys)
        for i in range(n):
            parts = [f[i] for f in fragments if f[i] is not None]
            extra = {} if blobs[i] is None else _decode_blob(blobs[i], blob, i, problems)
            for key in seen.intersection(extra):
                problems.add(
                    _one(n, i),
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


def _property_fragments(
    series: pd.Series, name: str, key: str, problems: ProblemReport
) -> np.ndarray:
    """'"key":<json value>' for each row of a property column (None where null).

    Each distinct value is encoded once; rows take their fragment by code.
    """
    import orjson

    prefix = orjson.dumps(key).decode() + ":"
    if series.dtype != object:  # typed column: the series factorizes itself (nulls code -1)
        codes, uniques = series.factorize()
        uniques = np.asarray(uniques, dtype=object)
    else:
        values = _as_objects(series)
        present = _present(values)
        kind = pd.api.types.infer_dtype(values, skipna=True)
        codes = np.full(len(values), -1, dtype=np.intp)
        if kind in ("string", "integer", "floating", "boolean", "empty"):
            codes[present], uniques = pd.factorize(values[present])
        else:  # mixed or unhashable values: 1 and True would hash alike, so one by one
            codes[present] = np.arange(int(present.sum()))
            uniques = values[present]
    encoded = np.full(len(uniques) + 1, None, dtype=object)  # the last slot serves code -1
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    for j, value in enumerate(uniques):
        value = value.item() if isinstance(value, np.generic) else value
        if _json_ready(value):
            encoded[j] = prefix + orjson.dumps(value).decode()
        else:
            bad[j] = True
    if bad.any():
        problems.add(
            bad[codes],
            name,
            "not_json_encodable",
            series,
            "str, int, float, bool, list or dict with finite numbers",
        )
    return encoded[codes]


def _reserved_rule() -> str:
    return "not one of " + ", ".join(sorted(limits.RESERVED_PROPERTY_KEYS)) + " (any case)"


def _one(n: int, i: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[i] = True
    return mask


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
    n = len(problems.labels) if problems.labels is not None else i + 1
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            problems.add(_one(n, i), name, "not_json_object", value, "JSON object")
            return {}
    if not isinstance(value, dict):
        problems.add(_one(n, i), name, "not_json_object", value, "JSON object")
        return {}
    clean: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(key, str) and key.lower() in limits.RESERVED_PROPERTY_KEYS:
            problems.add(_one(n, i), name, "reserved_key", key, _reserved_rule())
        elif not isinstance(key, str) or schema.camel_case(key) != key:
            problems.add(_one(n, i), name, "bad_key", key, _PROPERTY_KEY_RULE)
        elif not _json_ready(item):
            problems.add(
                _one(n, i),
                name,
                "not_json_encodable",
                item,
                "str, int, float, bool, list or dict with finite numbers",
            )
        elif item is not None:
            clean[key] = item
    return clean


def _normalise(
    frame: pd.DataFrame,
    *,
    properties: Sequence[str] | None,
    time_unit: TimeUnit | None,
    derive_ids: bool,
) -> tuple[_Events, ProblemReport]:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if time_unit is not None and time_unit not in _US_PER_UNIT:
        raise ValueError(f"time_unit must be one of {sorted(_US_PER_UNIT)}, got {time_unit!r}")
    n = len(frame)
    problems = ProblemReport(labels=frame.index)
    resolved = resolve_columns(frame)
    model = limits.put_events()
    limit_of = {
        SESSION_ID: model.field("sessionId"),
        USER_ID: model.field("userId"),
        ITEM_ID: model.field("eventList[].itemId"),
        EVENT_TYPE: model.field("eventList[].eventType"),
        EVENT_ID: model.field("eventList[].eventId"),
        RECOMMENDATION_ID: model.field("eventList[].recommendationId"),
        ATTRIBUTION_SOURCE: model.field("eventList[].metricAttribution.eventAttributionSource"),
    }
    required = {
        SESSION_ID: model.field("sessionId").required,
        EVENT_TYPE: model.field("eventList[].eventType").required,
        TIMESTAMP: model.field("eventList[].sentAt").required,
    }
    for column, needed in required.items():
        if needed and column not in resolved:
            problems.add(
                None,
                column,
                "missing_column",
                None,
                f"a {column} column (or {schema.API_NAMES[column]}) is required",
            )

    lengths: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    typed: dict[str, pd.Series] = {}

    def strings(column: str, key: str) -> np.ndarray:
        if column not in resolved:
            lengths[key] = np.zeros(n, dtype=np.int64)
            present[key] = np.zeros(n, dtype=bool)
            return np.full(n, None, dtype=object)
        values = _as_objects(frame[resolved[column]], ints_as_text=True)
        if isinstance(frame[resolved[column]].dtype, pd.StringDtype):
            typed[key] = frame[resolved[column]]
        present[key], lengths[key] = _string_column(
            frame[resolved[column]],
            values,
            resolved[column],
            limit_of[column],
            problems,
            required=required.get(column, False),
        )
        return values

    session = strings(SESSION_ID, "sessionId")
    user = strings(USER_ID, "userId")
    given_ids = strings(EVENT_ID, "eventId")
    fields = {
        "eventType": strings(EVENT_TYPE, "eventType"),
        "itemId": strings(ITEM_ID, "itemId"),
        "recommendationId": strings(RECOMMENDATION_ID, "recommendationId"),
        "metricAttribution": strings(ATTRIBUTION_SOURCE, "metricAttribution"),
    }
    fields["eventValue"] = (
        _event_values(frame[resolved[EVENT_VALUE]], resolved[EVENT_VALUE], problems)
        if EVENT_VALUE in resolved
        else np.full(n, np.nan)
    )
    if IMPRESSION in resolved:
        column = resolved[IMPRESSION]
        fields["impression"], lengths["impression"] = _impressions(frame[column], column, problems)
    else:
        fields["impression"] = np.full(n, None, dtype=object)
        lengths["impression"] = np.zeros(n, dtype=np.int64)
    sent_us = (
        epoch_microseconds(frame[resolved[TIMESTAMP]], resolved[TIMESTAMP], time_unit, problems)
        if TIMESTAMP in resolved
        else np.zeros(n, dtype=np.int64)
    )
    named, blob = property_columns(frame, resolved, properties)
    fields["properties"] = _properties(frame, named, blob, problems)
    present["eventValue"] = ~np.isnan(fields["eventValue"])
    present["impression"] = lengths["impression"] > 0  # a list's characters include separators
    present["properties"] = _present(fields["properties"])
    lengths["properties"] = _lengths(fields["properties"], present["properties"])
    longest = limits.put_events().field("eventList[].properties").max
    if longest is not None:
        problems.add(
            lengths["properties"] > longest,
            blob or "properties",
            "too_long",
            fields["properties"],
            f"JSON length <= {longest}",
        )

    if EVENT_ID in resolved:
        dup = pd.Series(given_ids).duplicated(keep="first").to_numpy() & present["eventId"]
        problems.add(
            dup,
            resolved[EVENT_ID],
            "duplicate_event_id",
            given_ids,
            "unique; Personalize keeps only the first event with an id",
        )
    events = _Events(
        n=n,
        session=session,
        user=user,
        sent_us=sent_us,
        fields=fields,
        event_id=given_ids,
        lengths=lengths,
        present=present,
        typed=typed,
    )
    if derive_ids:
        events.event_id = _event_ids(events)
    _check_event_sizes(events, problems)
    return events, problems


def _event_ids(events: _Events) -> np.ndarray:
    """Keep given ids; derive the rest from the event's content (128-bit hash, hex).

    Each value is hashed once per distinct value and the columns are folded row by
    row, so the id of a row depends on that row alone (and, for identical rows, on
    how many came before it).
    """
    missing = ~events.present["eventId"]
    if not missing.any():
        return events.event_id
    keys = ("personalize-sim1", "personalize-sim2")
    digests = [np.full(int(missing.sum()), 0xCBF29CE484222325, dtype=np.uint64) for _ in keys]

    def fold(hashes: Iterable[np.ndarray]) -> None:
        for i, hashed in enumerate(hashes):
            digests[i] = (digests[i] ^ hashed) * np.uint64(0x100000001B3)

    text_columns = (
        "sessionId",
        "userId",
        "eventType",
        "itemId",
        "properties",
        "recommendationId",
        "metricAttribution",
    )
    for name in text_columns:
        codes, uniques = events.factorized(name)
        fold(_text_hashes(codes[missing], uniques, keys))
    impressions = events.fields["impression"][missing]
    listed = events.present["impression"][missing]
    joined = np.full(len(impressions), None, dtype=object)
    joined[listed] = [IMPRESSION_SEPARATOR.join(v) for v in impressions[listed]]
    codes, uniques = pd.factorize(joined)
    fold(_text_hashes(codes, np.asarray(uniques, dtype=object), keys))
    numbers = events.fields["eventValue"][missing]
    for column in (events.sent_us[missing], numbers):
        fold(pd.util.hash_array(column, hash_key=key) for key in keys)

    halves = [_avalanche(d) for d in digests]
    text = np.stack(halves, axis=1).astype(">u8").tobytes().hex()
    ids = np.array([text[i : i + 32] for i in range(0, len(text), 32)], dtype=object)
    if pd.Series(halves[0]).duplicated().any():
        repeat = pd.Series(halves[0]).groupby(halves[0]).cumcount().to_numpy()
        again = repeat > 0
        ids[again] = [f"{i}-{r}" for i, r in zip(ids[again], repeat[again], strict=True)]
    out = events.event_id.copy()
    out[missing] = ids
    return out


def _text_hashes(
    codes: np.ndarray, uniques: np.ndarray, keys: Sequence[str]
) -> Iterator[np.ndarray]:
    """64-bit hashes of factorized text, one array per key; a null (code -1) hashes alike."""
    for key in keys:
        hashed = (
            pd.util.hash_array(uniques, hash_key=key, categorize=False) if len(uniques) else uniques
        )
        yield np.append(hashed.astype(np.uint64), np.uint64(0x9E3779B97F4A7C15))[codes]


def _avalanche(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _check_event_sizes(events: _Events, problems: ProblemReport) -> None:
    """The 10 KB per-event rule, checked exactly only where a cheap bound says it might fail."""
    n = events.n
    if not n:
        return
    text = ("itemId", "eventType", "recommendationId", "metricAttribution", "properties")
    chars = sum(events.lengths[name] for name in text)
    chars = chars + np.maximum(events.lengths["eventId"], 40)  # derived ids: 32 characters
    chars += events.lengths["impression"]
    # UTF-8 and JSON escapes cost at most 6 bytes a character; keys and numbers about 200
    suspects = np.flatnonzero(chars * 6 + 200 > limits.EVENT_MAX_BYTES)
    if not len(suspects):
        return
    mask = np.zeros(n, dtype=bool)
    sizes = np.zeros(n, dtype=np.int64)
    for i in suspects:
        size = limits.event_size(_event_dict(events, int(i)))
        sizes[i] = size
        mask[i] = size > limits.EVENT_MAX_BYTES
    problems.add(
        mask, "event", "event_too_large", sizes, f"<= {limits.EVENT_MAX_BYTES} bytes of JSON"
    )


def _event_dict(events: _Events, i: int) -> dict[str, Any]:
    # an id still to be derived will be 32 hex characters
    event: dict[str, Any] = {"eventId": events.event_id[i] or "0" * 32}
    for name in _EVENT_KEYS[1:]:
        if name == "sentAt":
            event[name] = int(events.sent_us[i]) / 1e6
            continue
        if events.present[name][i]:
            value = events.fields[name][i]
            if name == "metricAttribution":
                value = {"eventAttributionSource": value}
            event[name] = value.item() if isinstance(value, np.generic) else value
    return event


# Order of the Event shape's members in botocore's model, as the wire shows them.
_EVENT_KEYS = (
    "eventId",
    "eventType",
    "eventValue",
    "itemId",
    "properties",
    "sentAt",
    "recommendationId",
    "impression",
    "metricAttribution",
)
_OPTIONAL_KEYS = (
    "eventValue",
    "itemId",
    "properties",
    "recommendationId",
    "impression",
    "metricAttribution",
)


# ---------------------------------------------------------------------------------------------
# Public functions.


def validate_events(
    frame: pd.DataFrame,
    *,
    properties: Sequence[str] | None = None,
    time_unit: TimeUnit | None = None,
) -> pd.DataFrame:
    """Every problem that would stop rows of ``frame`` from being sent, one row each.

    Columns: ``row`` (the frame's index label, None for a column-wide problem),
    ``field`` (the frame's column), ``reason`` (a stable code such as ``too_long``),
    ``value`` and ``limit``. An empty result means every row can be sent.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"SESSION_ID": ["s1"], "EVENT_TYPE": ["View"],
    ...                       "TIMESTAMP": pd.to_datetime(["2024-01-01"], utc=True)})
    >>> validate_events(frame).empty
    True
    """
    with paused_gc():
        found = _normalise(frame, properties=properties, time_unit=time_unit, derive_ids=False)[1]
        return found.frame()


@overload
def to_put_events(
    frame: pd.DataFrame,
    tracking_id: str,
    *,
    properties: Sequence[str] | None = ...,
    time_unit: TimeUnit | None = ...,
    errors: Literal["raise"] = ...,
) -> list[dict[str, Any]]: ...


@overload
def to_put_events(
    frame: pd.DataFrame,
    tracking_id: str,
    *,
    properties: Sequence[str] | None = ...,
    time_unit: TimeUnit | None = ...,
    errors: Literal["collect"],
) -> tuple[list[dict[str, Any]], pd.DataFrame]: ...


def to_put_events(
    frame: pd.DataFrame,
    tracking_id: str,
    *,
    properties: Sequence[str] | None = None,
    time_unit: TimeUnit | None = None,
    errors: Literal["raise", "collect"] = "raise",
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], pd.DataFrame]:
    """PutEvents requests for the events of ``frame``: ``client.put_events(**request)``.

    Raises :class:`PayloadError` (with ``.problems``) if any row breaks a limit; with
    ``errors="collect"`` returns ``(requests for the valid rows, problems)`` instead.
    See the module docstring for the conversion rules.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"SESSION_ID": ["s1"], "USER_ID": ["u1"], "EVENT_TYPE": ["View"],
    ...                       "ITEM_ID": ["i1"], "EVENT_ID": ["e1"],
    ...                       "TIMESTAMP": pd.to_datetime(["2024-01-01"], utc=True)})
    >>> to_put_events(frame, "tid")[0]["eventList"][0]["itemId"]
    'i1'
    """
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    for violation in limits.check_request(
        "PutEvents",
        {
            "trackingId": tracking_id,
            "sessionId": "s",
            "eventList": [{"eventType": "t", "sentAt": 0}],
        },
    ):
        raise ValueError(f"tracking_id {tracking_id!r}: {violation.message}")
    with paused_gc():  # millions of new lists and dicts, none of them in a cycle
        events, found = _normalise(
            frame, properties=properties, time_unit=time_unit, derive_ids=True
        )
        problems = found.frame()
        if len(problems) and errors == "raise":
            raise PayloadError(problems)
        keep = np.ones(events.n, dtype=bool)
        if found.column_level():
            keep[:] = False
        keep[found.bad_positions()[found.bad_positions() >= 0]] = False
        requests = _build_requests(events, np.flatnonzero(keep), tracking_id)
    return (requests, problems) if errors == "collect" else requests


def _build_requests(events: _Events, rows: np.ndarray, tracking_id: str) -> list[dict[str, Any]]:
    if not len(rows):
        return []
    session = events.session[rows]
    user = events.user[rows]
    sent = events.sent_us[rows]
    s_code = events.factorized("sessionId")[0][rows]
    u_code = events.factorized("userId")[0][rows]  # None -> -1
    order = np.lexsort((np.arange(len(rows)), sent, s_code))
    s_sorted, u_sorted = s_code[order], u_code[order]
    boundary = np.ones(len(order), dtype=bool)
    boundary[1:] = (s_sorted[1:] != s_sorted[:-1]) | (u_sorted[1:] != u_sorted[:-1])
    run_start = np.maximum.accumulate(np.where(boundary, np.arange(len(order)), 0))
    max_events = limits.put_events().field("eventList").max or 10
    new_request = boundary | ((np.arange(len(order)) - run_start) % max_events == 0)
    starts = np.flatnonzero(new_request)
    ends = np.append(starts[1:], len(order))
    request_order = np.lexsort((starts, sent[order][starts]))

    event_dicts = _event_dicts(events, rows)[order].tolist()
    first = starts[request_order]
    users = user[order][first].tolist()
    sessions = session[order][first].tolist()
    lists = map(event_dicts.__getitem__, map(slice, first.tolist(), ends[request_order].tolist()))
    make = _dict_maker(("trackingId", "userId", "sessionId", "eventList"))
    requests = list(map(make, itertools.repeat(tracking_id), users, sessions, lists))
    for i in np.flatnonzero(u_code[order][first] < 0).tolist():
        del requests[i]["userId"]  # anonymous: the API wants no userId at all
    return requests


def _event_dicts(events: _Events, rows: np.ndarray) -> np.ndarray:
    """One dict per event of ``rows`` (an object array), built per presence pattern.

    Pass ``rows`` in frame order: values are then read from memory in the order they
    were made, which is twice as fast as building in session order (cache misses).
    """
    n = len(rows)
    sent = (events.sent_us[rows] / 1e6).astype(object)  # epoch seconds, exact to the µs
    columns: dict[str, np.ndarray] = {"eventId": events.event_id[rows], "sentAt": sent}
    signature = np.zeros(n, dtype=np.int64)
    for bit, name in enumerate(_OPTIONAL_KEYS):
        values = events.fields[name][rows]
        present = events.present[name][rows]
        if name == "metricAttribution" and present.any():
            values = values.copy()
            values[present] = [{"eventAttributionSource": v} for v in values[present]]
        columns[name] = values
        signature |= present.astype(np.int64) << bit
    columns["eventType"] = events.fields["eventType"][rows]
    patterns = np.unique(signature).tolist()
    out = np.empty(n, dtype=object)
    for sig in patterns:
        keys = tuple(
            k for k in _EVENT_KEYS if k not in _OPTIONAL_KEYS or sig >> _OPTIONAL_KEYS.index(k) & 1
        )
        where = slice(None) if len(patterns) == 1 else np.flatnonzero(signature == sig)
        made = list(map(_dict_maker(keys), *(columns[k][where].tolist() for k in keys)))
        if len(patterns) == 1:
            out[:] = made
        else:
            placed = np.empty(len(made), dtype=object)
            placed[:] = made
            out[where] = placed
    return out


@functools.cache
def _dict_maker(keys: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """``lambda a, b: {"eventId": a, "eventType": b}``: a dict display is the fastest way."""
    args = [f"a{i}" for i in range(len(keys))]
    body = ", ".join(f"{k!r}: {a}" for k, a in zip(keys, args, strict=True))
    return eval(f"lambda {', '.join(args)}: {{{body}}}")


def from_put_events(requests: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The events frame of ``requests``: the inverse of :func:`to_put_events`.

    Rows come in request order; property keys become UPPER_SNAKE_CASE columns.
    """
    rows: dict[str, list[Any]] = {c: [] for c in schema.EVENT_COLUMNS}
    props: list[dict[str, Any]] = []
    for request in requests:
        user, session = request.get("userId"), request["sessionId"]
        for event in request["eventList"]:
            rows[USER_ID].append(user)
            rows[SESSION_ID].append(session)
            rows[ITEM_ID].append(event.get("itemId"))
            rows[EVENT_TYPE].append(event["eventType"])
            value = event.get("eventValue")
            rows[EVENT_VALUE].append(np.nan if value is None else float(value))
            rows[TIMESTAMP].append(event["sentAt"])
            rows[EVENT_ID].append(event.get("eventId"))
            impression = event.get("impression")
            rows[IMPRESSION].append(None if impression is None else list(impression))
            rows[RECOMMENDATION_ID].append(event.get("recommendationId"))
            source = (event.get("metricAttribution") or {}).get("eventAttributionSource")
            rows[ATTRIBUTION_SOURCE].append(source)
            props.append(json.loads(event["properties"]) if event.get("properties") else {})
    frame = pd.DataFrame({c: v for c, v in rows.items() if c not in (TIMESTAMP, IMPRESSION)})
    frame.insert(5, TIMESTAMP, _to_utc(rows[TIMESTAMP]))
    frame.insert(7, IMPRESSION, pd.Series(rows[IMPRESSION], dtype=object))
    keys = list(dict.fromkeys(k for p in props for k in p))
    for key in keys:
        frame[schema.snake_upper(key)] = [p.get(key) for p in props]
    return frame


def _to_utc(values: list[Any]) -> pd.Series:
    """sentAt values (datetimes or epoch seconds) as a tz-aware UTC series in microseconds."""
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        us = np.round(np.asarray(values, dtype=np.float64) * 1e6).astype(np.int64)
        return pd.Series(pd.to_datetime(us, unit="us", utc=True))
    return pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[us, UTC]")
