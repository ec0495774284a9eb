"""``TIMESTAMP`` → epoch microseconds, the API's resolution, with every bad value reported.

Tz-aware datetimes are converted to UTC, naive ones read as UTC; epoch numbers need
an explicit unit. Finer parts than a microsecond are reported, never rounded away.

>>> import pandas as pd
>>> from ._problems import ProblemReport
>>> epoch_microseconds(pd.Series([1.5, 2.0]), "TIMESTAMP", "s", ProblemReport()).tolist()
[1500000, 2000000]
>>> stamps = pd.Series(pd.to_datetime(["1970-01-01 00:00:01.000002"], utc=True))
>>> epoch_microseconds(stamps, "TIMESTAMP", None, ProblemReport()).tolist()
[1000002]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._checks import check
from .._timestamps import EARLIEST_US, LATEST_US, TimeUnit
from ._columns import as_objects
from ._problems import ProblemReport, scatter

__all__ = ["TIME_UNITS", "TimeUnit", "check_time_unit", "epoch_microseconds"]

TIME_UNITS: tuple[TimeUnit, ...] = ("s", "ms", "us", "ns")
_US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}
_UNIT_RULE = "pass time_unit='s', 'ms', 'us' or 'ns' for epoch numbers"


def check_time_unit(time_unit: Any) -> None:
    """Raise :class:`~personalize_sim.errors.ConfigError` unless ``time_unit`` is a unit or None."""
    check(
        time_unit is None or (isinstance(time_unit, str) and time_unit in TIME_UNITS),
        "time_unit",
        time_unit,
        "one of 's', 'ms', 'us', 'ns' (the unit of epoch numbers), or None for datetimes",
    )


def epoch_microseconds(
    series: pd.Series, name: str, time_unit: TimeUnit | None, problems: ProblemReport
) -> np.ndarray:
    """Epoch microseconds (int64); invalid entries become 0 and are reported."""
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        out = _from_datetimes(series, name, problems)
    elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        out = _from_numbers(series, name, time_unit, problems)
    else:
        out = _from_objects(series, name, time_unit, problems)
    given = out != 0
    outside = given & ((out < EARLIEST_US) | (out >= LATEST_US))
    problems.add(outside, name, "out_of_range", series, "between 1970 and 2100 (check time_unit)")
    return out


def _from_datetimes(series: pd.Series, name: str, problems: ProblemReport) -> np.ndarray:
    """A datetime64 column, naive (UTC) or tz-aware, in any pandas unit."""
    missing = series.isna().to_numpy()
    problems.add(missing, name, "missing", [None] * len(series), "required")
    aware = isinstance(series.dtype, pd.DatetimeTZDtype)
    naive = series.dt.tz_convert("UTC").dt.tz_localize(None) if aware else series
    raw = np.where(missing, 0, naive.to_numpy().view(np.int64))
    per_us = {"s": 1_000_000, "ms": 1_000, "us": 1}.get(naive.dt.unit)
    if per_us is None:  # nanoseconds
        problems.add(raw % 1000 != 0, name, "sub_microsecond", series, "microseconds")
        return raw // 1000
    return raw * per_us


def _from_numbers(
    series: pd.Series, name: str, time_unit: TimeUnit | None, problems: ProblemReport
) -> np.ndarray:
    """A numeric column of epoch numbers in ``time_unit``."""
    n = len(series)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    problems.add(missing, name, "missing", [None] * n, "required")
    if time_unit is None:
        problems.add(None, name, "unit_required", str(series.dtype), _UNIT_RULE)
        return np.zeros(n, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        approx = np.where(missing, 0.0, values) * _US_PER_UNIT[time_unit]
    # no int64 holds it: kept out of the arithmetic, reported as out of range below
    beyond = ~np.isfinite(approx) | (np.abs(approx) >= 2.0**62)
    if pd.api.types.is_integer_dtype(series.dtype):
        ints = np.where(beyond, 0, series.to_numpy(dtype=np.int64, na_value=0))
        if time_unit == "ns":
            sub = ints % 1000 != 0
            scaled = ints // 1000
        else:
            sub = np.zeros(n, dtype=bool)
            scaled = ints * int(_US_PER_UNIT[time_unit])
    else:
        us = np.where(missing | beyond, 0.0, approx)
        scaled = np.round(us).astype(np.int64)
        sub = np.abs(us - scaled) > 1e-3 * np.maximum(1.0, np.abs(us)) * 1e-9 + 1e-6
    scaled[beyond] = LATEST_US
    problems.add(sub & ~missing, name, "sub_microsecond", series, "microseconds")
    return np.where(missing, 0, scaled)


def _from_objects(
    series: pd.Series, name: str, time_unit: TimeUnit | None, problems: ProblemReport
) -> np.ndarray:
    """Timestamps held as Python objects: datetimes (aware or naive), numbers, or junk."""
    values = as_objects(series)
    kinds = _kinds(values)
    problems.add(kinds == "none", name, "missing", values, "required")
    problems.add(kinds == "other", name, "wrong_type", values, "datetime or epoch number")
    aware, naive = kinds == "aware", kinds == "naive"
    if aware.any() and naive.any():
        minority = naive if naive.sum() <= aware.sum() else aware
        problems.add(
            minority, name, "mixed_timezones", values, "all tz-aware or all naive (naive means UTC)"
        )
    out = np.zeros(len(values), dtype=np.int64)
    dates = aware | naive
    if dates.any():
        raw = _utc_nanoseconds(values[dates])
        problems.add(
            scatter(dates, raw % 1000 != 0), name, "sub_microsecond", values, "microseconds"
        )
        out[dates] = raw // 1000
    numbers = kinds == "num"
    if numbers.any():
        out[numbers] = _object_numbers(values, numbers, name, time_unit, problems)
    return out


def _object_numbers(
    values: np.ndarray,
    numbers: np.ndarray,
    name: str,
    time_unit: TimeUnit | None,
    problems: ProblemReport,
) -> np.ndarray:
    """Epoch microseconds of the numbers among ``values`` (0 when no unit was given)."""
    if time_unit is None:
        problems.add(numbers, name, "unit_required", values, _UNIT_RULE)
        return np.zeros(int(numbers.sum()), dtype=np.int64)
    us = np.array([float(v) for v in values[numbers]]) * _US_PER_UNIT[time_unit]
    scaled = np.round(us).astype(np.int64)
    sub = scatter(numbers, np.abs(us - scaled) > 1e-6)
    problems.add(sub, name, "sub_microsecond", values, "microseconds")
    return scaled


def _kinds(values: np.ndarray) -> np.ndarray:
    """What each object is: "none", "aware" or "naive" (a datetime), "num" or "other"."""
    kinds = np.empty(len(values), dtype="U5")
    for i, v in enumerate(values):
        if v is None:
            kinds[i] = "none"
        elif isinstance(v, np.datetime64 | pd.Timestamp) or hasattr(v, "tzinfo"):
            kinds[i] = "aware" if getattr(v, "tzinfo", None) is not None else "naive"
        elif isinstance(v, int | float | np.number) and not isinstance(v, bool):
            kinds[i] = "num"
        else:
            kinds[i] = "other"
    return kinds


def _utc_nanoseconds(dates: np.ndarray) -> np.ndarray:
    """Epoch nanoseconds of datetime objects (naive means UTC), kept to the nanosecond."""
    stamps = pd.to_datetime(
        [
            pd.Timestamp(v).tz_localize(None)
            if getattr(v, "tzinfo", None) is None
            else pd.Timestamp(v).tz_convert("UTC").tz_localize(None)
            for v in dates
        ]
    ).as_unit("ns")
    return stamps.asi8
