"""Reading a frame's columns: which column holds which field, and its values as plain arrays.

A field may be spelled as in the interactions dataset (``USER_ID``) or as in the API
(``userId``), not both:

>>> import pandas as pd
>>> resolve_columns(pd.DataFrame(columns=["userId", "ITEM_ID", "persona"]))
{'USER_ID': 'userId', 'ITEM_ID': 'ITEM_ID'}
>>> as_objects(pd.Series([1.5, None, float("nan")])).tolist()
[1.5, None, None]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _schema as schema
from ..errors import ConfigError

__all__ = ["as_objects", "lengths", "present", "resolve_columns"]


def resolve_columns(frame: pd.DataFrame) -> dict[str, str]:
    """Contract column -> the frame's column that holds it (dataset or API spelling).

    Raises :class:`~personalize_sim.errors.ConfigError` if two columns spell one field.
    """
    found: dict[str, str] = {}
    for column in frame.columns:
        if not isinstance(column, str):
            continue
        canonical = column if column in schema.API_NAMES else schema.API_ALIASES.get(column)
        if canonical is None:
            continue
        if canonical in found:
            raise ConfigError(
                "frame.columns",
                [found[canonical], column],
                f"one column per field: both give {canonical}; keep one",
            )
        found[canonical] = column
    return found


def as_objects(series: pd.Series, *, ints_as_text: bool = False) -> np.ndarray:
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


def present(values: np.ndarray) -> np.ndarray:
    """Mask of non-None entries of an object array (C speed)."""
    return ~pd.isna(values)


def lengths(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """len() of the entries under ``mask``, 0 elsewhere."""
    out = np.zeros(len(values), dtype=np.int64)
    if mask.any():
        out[mask] = np.fromiter(map(len, values[mask]), dtype=np.int64, count=int(mask.sum()))
    return out
