"""``EVENT_VALUE``: a finite float per event, NaN where absent.

>>> import pandas as pd
>>> from ._problems import ProblemReport
>>> report = ProblemReport()
>>> event_values(pd.Series([1, None, "cheap"]), "EVENT_VALUE", report).tolist()
[1.0, nan, nan]
>>> report.frame()[["row", "reason"]].values.tolist()
[[2, 'wrong_type']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._columns import as_objects
from ._problems import ProblemReport

__all__ = ["event_values"]


def event_values(series: pd.Series, name: str, problems: ProblemReport) -> np.ndarray:
    """EVENT_VALUE as floats, NaN where absent (or reported)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        problems.add(np.ones(len(series), dtype=bool), name, "wrong_type", series, "float")
        return np.full(len(series), np.nan)
    if pd.api.types.is_numeric_dtype(series.dtype):
        floats = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        floats = _object_floats(as_objects(series), name, problems)
    infinite = np.isinf(floats)
    problems.add(infinite, name, "not_finite", floats, "finite number")
    return np.where(infinite, np.nan, floats)


def _object_floats(values: np.ndarray, name: str, problems: ProblemReport) -> np.ndarray:
    """Numbers held as objects; anything else (bools, strings) is reported and becomes NaN."""
    numeric = np.fromiter(
        (
            v is None or (isinstance(v, int | float | np.number) and not isinstance(v, bool))
            for v in values
        ),
        dtype=bool,
        count=len(values),
    )
    problems.add(~numeric, name, "wrong_type", values, "float")
    return np.array(
        [
            np.nan if (v is None or not ok) else float(v)
            for v, ok in zip(values, numeric, strict=True)
        ],
        dtype=np.float64,
    )
