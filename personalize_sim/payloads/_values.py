"""Dataset values as the API wants them in ``properties``, and back as typed columns.

One rule for the metadata of every dataset (items, users, actions, action interactions):
a column named ``UPPER_SNAKE`` becomes the key ``camelCase``; strings, integers, finite
floats and booleans go as they are; a list of strings is one categorical value joined
with ``|`` (as the service documents multi-value categorical data); a time goes as whole
epoch seconds (a ``long``); a null leaves the key out. :func:`typed_column` reads the
values of one key back as the column the frame had.

>>> from ._problems import ProblemReport
>>> encode_column(pd.Series([["a", "b"], None, "c"]), "GENRES", ProblemReport()).tolist()
['a|b', None, 'c']
>>> typed_column([3, None, 4], time=False).dtype
Int64Dtype()
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as schema
from ._problems import ProblemReport

__all__ = ["encode_column", "metadata_columns", "ordered_keys", "typed_column"]

_JSON_RULE = "a string, an integer, a finite float, a boolean or a list of strings"
_LONG_RULE = "a whole number (the dataset field is a long)"


def metadata_columns(frame: pd.DataFrame, taken: Sequence[str]) -> list[str]:
    """The UPPER_SNAKE_CASE columns of ``frame`` beyond ``taken`` (the request's own fields)
    and what a tracker adds (``_schema.NOT_SENT``); lower-case columns are ground truth."""
    return [
        c
        for c in frame.columns
        if isinstance(c, str)
        and c not in taken
        and c not in schema.NOT_SENT
        and c.isupper()
        and c[0].isalpha()
    ]


def encode_column(
    series: pd.Series, column: str, problems: ProblemReport, *, long: bool = False
) -> np.ndarray:
    """The JSON-ready value of each row (None where null); bad values reported by row.

    ``long``: the field is a reserved long (a time or a count): whole numbers only.
    """
    n = len(series)
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series):
        return _seconds(series, column, problems)
    values = series.to_numpy(dtype=object, na_value=None)
    out = np.full(n, None, dtype=object)
    bad, fraction, separator = (np.zeros(n, dtype=bool) for _ in range(3))
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, list | tuple | np.ndarray):
            parts = list(value)
            if not parts or not all(isinstance(p, str) and p for p in parts):
                bad[i] = True
            elif any(schema.IMPRESSION_SEPARATOR in p for p in parts):
                separator[i] = True
            else:
                out[i] = schema.IMPRESSION_SEPARATOR.join(parts)
        elif isinstance(value, bool | str | int) or (
            isinstance(value, float) and math.isfinite(value)
        ):
            out[i] = value
        else:
            bad[i] = True
        if long and out[i] is not None:
            if isinstance(out[i], float) and out[i].is_integer():
                out[i] = int(out[i])
            elif not isinstance(out[i], int) or isinstance(out[i], bool):
                fraction[i], out[i] = True, None
    problems.add(bad, column, "not_json_encodable", values, _JSON_RULE)
    problems.add(separator, column, "separator_in_value", values, "no '|' inside a list's values")
    problems.add(fraction, column, "wrong_type", values, _LONG_RULE)
    return out


def _seconds(series: pd.Series, column: str, problems: ProblemReport) -> np.ndarray:
    """Whole epoch seconds of a column of datetimes (naive ones read as UTC)."""
    times = series if isinstance(series.dtype, pd.DatetimeTZDtype) else series.dt.tz_localize("UTC")
    missing = times.isna().to_numpy()
    micros = times.dt.tz_convert("UTC").to_numpy(dtype="datetime64[us]").astype(np.int64)
    exact = times.to_numpy(dtype="datetime64[ns]").astype(np.int64) % 1_000_000_000 == 0
    problems.add(
        ~missing & ~exact, column, "sub_second", series, "whole epoch seconds (the field is a long)"
    )
    out = np.full(len(series), None, dtype=object)
    keep = ~missing & exact
    out[keep] = (micros[keep] // 1_000_000).tolist()
    return out


def typed_column(values: list[Any], *, time: bool) -> pd.Series:
    """The column that held these JSON values (None where a row had no key).

    Times (epoch seconds) become UTC datetimes; integers ``int64`` (``Int64`` with nulls);
    numbers ``float64``; booleans ``bool`` (``boolean`` with nulls); strings ``str``.
    """
    from .._timestamps import utc_from_us

    present = [v for v in values if v is not None]
    nulls = len(present) < len(values)
    if time and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        micros = np.array([0 if v is None else v * 1_000_000 for v in values], dtype=np.int64)
        out = pd.Series(utc_from_us(micros))
        return out.where([v is not None for v in values]) if nulls else out
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean" if nulls else "bool")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="Int64" if nulls else "int64")
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if all(isinstance(v, str) for v in present):
        return pd.Series(values, dtype="str")
    return pd.Series(values, dtype=object)


def ordered_keys(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of ``rows`` in an order that keeps each row's own order (a topological
    sort of "comes before in some row"), ties to the key seen first: the column order of
    the frame the rows came from, as far as the rows can tell it."""
    import heapq
    import itertools

    first: dict[str, int] = {}
    after: dict[str, set[str]] = {}
    shapes = dict.fromkeys(tuple(row) for row in rows)  # most rows share a few shapes
    for shape in shapes:
        for key in shape:
            first.setdefault(key, len(first))
            after.setdefault(key, set())
        for a, b in itertools.pairwise(shape):
            after[a].add(b)
    waiting = dict.fromkeys(first, 0)
    for successors in after.values():
        for key in successors:
            waiting[key] += 1
    ready = [(first[k], k) for k, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, key = heapq.heappop(ready)
        order.append(key)
        for successor in after[key]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                heapq.heappush(ready, (first[successor], successor))
    # rows that disagree (a cycle) cannot all be kept: the rest in order of first sight
    return order + sorted(set(first) - set(order), key=first.__getitem__)
