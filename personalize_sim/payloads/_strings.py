"""Id and text fields (``SESSION_ID``, ``ITEM_ID``, ``EVENT_TYPE``…): type, nulls, lengths, pattern.

Each field is checked against its limits in botocore's model, column-wise:

>>> import pandas as pd
>>> from personalize_sim import limits
>>> from ._problems import ProblemReport
>>> report = ProblemReport()
>>> limit = limits.operation_limits("PutEvents").field("sessionId")
>>> column = text_column(pd.Series(["s1", "", None]), "SESSION_ID", limit, report, required=True)
>>> column.present.tolist(), column.lengths.tolist()
([True, True, False], [2, 0, 0])
>>> report.frame()[["row", "reason"]].values.tolist()
[[1, 'empty'], [2, 'missing']]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import limits
from ._columns import as_objects, lengths, present
from ._problems import ProblemReport

__all__ = ["TextColumn", "absent_text", "text_column"]


@dataclass(frozen=True)
class TextColumn:
    """A text field's values (object array, None where null), presence and lengths."""

    values: np.ndarray
    present: np.ndarray
    lengths: np.ndarray
    typed: pd.Series | None = None  # the column itself when it has a string dtype


def absent_text(n: int) -> TextColumn:
    """The field of a frame that has no such column: null everywhere."""
    return TextColumn(
        np.full(n, None, dtype=object), np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
    )


def text_column(
    series: pd.Series,
    name: str,
    limit: limits.FieldLimit,
    problems: ProblemReport,
    *,
    required: bool,
) -> TextColumn:
    """Check a string field against its model limits; integers become decimal strings."""
    values = as_objects(series, ints_as_text=True)
    if isinstance(series.dtype, pd.StringDtype):  # typed text: nulls and lengths come cheap
        given = series.notna().to_numpy()
        ok = given
        chars = series.str.len().to_numpy(dtype=np.int64, na_value=0)
    else:
        given = present(values)
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            ok = given
        else:
            is_str = np.fromiter((type(v) is str for v in values), dtype=bool, count=len(values))
            wrong = given & ~is_str
            problems.add(wrong, name, "wrong_type", values, "string")
            ok = given & is_str
            if wrong.any():  # reported; kept as text, so the row can still be hashed (ids)
                values = values.copy()
                values[wrong] = [repr(v) for v in values[wrong]]
        chars = lengths(values, ok)
    if required:
        problems.add(~given, name, "missing", values, "required")
    _check_limits(values, ok, chars, name, limit, problems)
    typed = series if isinstance(series.dtype, pd.StringDtype) else None
    return TextColumn(values, given, chars, typed)


def _check_limits(
    values: np.ndarray,
    ok: np.ndarray,
    chars: np.ndarray,
    name: str,
    limit: limits.FieldLimit,
    problems: ProblemReport,
) -> None:
    """Length and pattern rules, for the strings under ``ok``."""
    if limit.min:
        problems.add(ok & (chars == 0), name, "empty", values, f"length >= {limit.min}")
        problems.add(
            ok & (chars > 0) & (chars < limit.min),
            name,
            "too_short",
            values,
            f"length >= {limit.min}",
        )
    if limit.max is not None:
        problems.add(ok & (chars > limit.max), name, "too_long", values, f"length <= {limit.max}")
    if limit.regex is not None and ok.any():
        uniques = pd.unique(values[ok])
        bad = {u for u in uniques if not limit.regex.search(u)}
        if bad:
            mask = ok.copy()
            mask[ok] = np.fromiter((v in bad for v in values[ok]), dtype=bool, count=int(ok.sum()))
            problems.add(mask, name, "pattern", values, limit.pattern)
