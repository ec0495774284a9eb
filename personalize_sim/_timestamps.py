"""Timestamps, one home: datetimes, epoch seconds as the wire carries them, epoch µs.

>>> import datetime as dt
>>> epoch_us(dt.datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=dt.timezone.utc))
1000005
>>> wire_seconds(1700000000.1234567), wire_seconds("2023-11-14T22:13:20Z")
(1700000000.123457, 1700000000)
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any, Literal

from .errors import ConfigError, ConfigTypeError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "EARLIEST_US",
    "LATEST_US",
    "TimeUnit",
    "epoch_ns_of",
    "epoch_us",
    "epoch_us_of",
    "utc_from_seconds",
    "utc_from_us",
    "wire_seconds",
]

#: the unit of numeric timestamps in a frame (seconds, milli-, micro- or nanoseconds)
TimeUnit = Literal["s", "ms", "us", "ns"]
#: the times an events frame may hold, as epoch µs: outside, almost surely a wrong unit
EARLIEST_US = 0  # 1970-01-01
LATEST_US = 4_102_444_800_000_000  # 2100-01-01
#: epoch-number units by size: the largest that keeps dates before the year 2286
_UNITS: tuple[tuple[float, TimeUnit], ...] = (
    (1e11, "s"), (1e14, "ms"), (1e17, "us"), (math.inf, "ns")
)  # fmt: skip
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_A_TIME = "a time between 1970 and 2100: a datetime, an ISO 8601 string or epoch seconds"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_SENT_AT = "a datetime, epoch seconds, or a string holding either"


def epoch_us(when: dt.datetime) -> int:
    """Microseconds since the epoch of a datetime (naive means UTC), exactly."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def wire_seconds(value: Any) -> int | float:
    """``sentAt`` as botocore (>= 1.44) puts it on the wire: int when whole, else exact µs.

    Accepts datetimes (naive means UTC), epoch seconds, and strings holding either;
    botocore does the same arithmetic through an aware datetime
    (``serialize.py``, ``_timestamp_unixtimestamp``), which is the costliest part of
    building a body, so it is done here directly.
    """
    if isinstance(value, bool):
        raise ConfigTypeError("sentAt", value, _SENT_AT)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # as datetime.fromtimestamp: split off the fraction, round it to µs half-to-even
        frac, whole_f = math.modf(value)
        micro = round(frac * 1e6)
        if micro >= 1_000_000:
            micro, whole_f = micro - 1_000_000, whole_f + 1.0
        elif micro < 0:
            micro, whole_f = micro + 1_000_000, whole_f - 1.0
        whole = int(whole_f)
    else:
        if isinstance(value, str):
            value = _parse(value)
            if isinstance(value, int | float):
                return wire_seconds(value)
        if not isinstance(value, dt.datetime):
            raise ConfigTypeError("sentAt", value, _SENT_AT)
        us = epoch_us(value)
        whole, micro = divmod(us, 1_000_000)
    if micro:
        return (whole * 10**6 + micro) / 10**6  # integers first, one rounding, as botocore
    return whole


def _parse(text: str) -> int | float | dt.datetime:
    """A numeric string as a number, else an ISO 8601 date (``Z`` allowed)."""
    try:
        number = float(text)
    except ValueError:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return int(number) if number.is_integer() and "." not in text else number


def utc_from_us(micros: np.ndarray) -> pd.DatetimeIndex:
    """Epoch microseconds (int64) as tz-aware UTC datetimes with microsecond resolution."""
    import pandas as pd

    return pd.DatetimeIndex(micros.astype("datetime64[us]")).tz_localize("UTC")


def utc_from_seconds(seconds: Any) -> pd.DatetimeIndex:
    """Epoch seconds (floats, as the wire and the emulator's store hold them) as UTC datetimes,
    rounded to the microsecond."""
    import numpy as np

    micros = np.round(np.asarray(seconds, dtype="float64") * 1e6).astype("int64")
    return utc_from_us(micros)


def epoch_us_of(column: pd.Series, field: str, time_unit: TimeUnit | None = None) -> np.ndarray:
    """Epoch µs (int64) of a column of times, as :func:`epoch_ns_of` reads them (floored).

    >>> import pandas as pd
    >>> epoch_us_of(pd.Series(["2023-11-14T22:13:20Z", 1_700_000_000_000]), "T").tolist()
    [1700000000000000, 1700000000000000]
    """
    return epoch_ns_of(column, field, time_unit) // 1000


def epoch_ns_of(column: pd.Series, field: str, time_unit: TimeUnit | None = None) -> np.ndarray:
    """Epoch ns (int64) of a column of times: datetimes (naive means UTC), ISO 8601
    strings, or epoch numbers in ``time_unit``; without one, the unit (s, ms, µs or ns) is
    read from the numbers' size, one unit for the whole column (a mix is an error, not a
    guess). Integers and datetimes are read exactly, other numbers to the µs. A value that
    is no time between 1970 and 2100 raises :class:`~personalize_sim.errors.ConfigError`
    naming ``field[row]``.

    >>> import pandas as pd
    >>> epoch_ns_of(pd.Series([1_700_000_000_000_000_001]), "TIMESTAMP").tolist()
    [1700000000000000001]
    >>> epoch_ns_of(pd.Series([1.5, 1e30]), "TIMESTAMP", "s")
    Traceback (most recent call last):
    personalize_sim.errors.ConfigError: TIMESTAMP[1]: got 1e+30; a time between 1970 and 2100: \
a datetime, an ISO 8601 string or epoch seconds (1 rows are not)
    """
    import numpy as np
    import pandas as pd

    n = len(column)
    ns, good = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    dtype = column.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        ns, good = _datetime_ns(column)
    elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        pass  # no value is a time
    elif pd.api.types.is_numeric_dtype(dtype):
        ns, good = _numbers_ns(column, field, time_unit)
    else:
        ns, good = _objects_ns(column, field, time_unit)
    good = good & (ns >= EARLIEST_US * 1000) & (ns < LATEST_US * 1000)
    bad = np.flatnonzero(~good)
    if len(bad):
        row = int(bad[0])
        raise ConfigError(
            f"{field}[{column.index[row]}]", column.iloc[row],
            f"{_A_TIME} ({len(bad)} rows are not)",
        )  # fmt: skip
    return ns


def _datetime_ns(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(epoch ns, not null) of a datetime column, naive (UTC) or tz-aware, in any unit."""
    values = column.dt.tz_convert("UTC").dt.tz_localize(None) if column.dt.tz else column
    good = values.notna().to_numpy()
    return values.to_numpy().astype("datetime64[ns]").view("int64") * good, good


def _numbers_ns(
    column: pd.Series, field: str, time_unit: TimeUnit | None
) -> tuple[np.ndarray, np.ndarray]:
    """(epoch ns, a time in the window) of a column of numbers (or numeric strings)."""
    import numpy as np
    import pandas as pd

    numbers = pd.to_numeric(column, errors="coerce")
    floats = numbers.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(floats)
    ns = np.zeros(len(column), dtype=np.int64)
    if not finite.any():
        return ns, finite
    unit = time_unit or _unit(floats, finite, column, field)
    per = _NS_PER_UNIT[unit]
    with np.errstate(over="ignore", invalid="ignore"):
        good = finite & (floats * per >= EARLIEST_US * 1000) & (floats * per < LATEST_US * 1000)
    if pd.api.types.is_integer_dtype(numbers.dtype):  # exact: no float in between
        ns[good] = numbers.to_numpy(dtype=np.int64, na_value=0)[good] * per
    else:  # a float carries no more than µs here: round there, as the wire does
        ns[good] = np.rint(floats[good] * (per / 1000)).astype(np.int64) * 1000
    return ns, good


def _unit(floats: np.ndarray, finite: np.ndarray, column: pd.Series, field: str) -> TimeUnit:
    """The one epoch unit of a column's finite numbers, by their size."""
    import numpy as np

    bounds = np.array([bound for bound, _ in _UNITS])
    size = np.abs(floats[finite])
    ends = np.minimum(np.searchsorted(bounds, [size.min(), size.max()], side="right"),
                      len(_UNITS) - 1)  # fmt: skip
    if ends[0] == ends[1]:  # units grow with size: the smallest and largest agree on all
        return _UNITS[int(ends[0])][1]
    unit_of = np.full(len(floats), -1)
    unit_of[finite] = np.minimum(
        np.searchsorted(bounds, np.abs(floats[finite]), side="right"), len(_UNITS) - 1
    )
    used = np.unique(unit_of[finite])
    if len(used) > 1:
        rows = [int(np.flatnonzero(unit_of == u)[0]) for u in used[:2]]
        first, other = (column.index[r] for r in rows)
        raise ConfigError(
            f"{field}[{other}]",
            column.iloc[rows[1]],
            f"one epoch unit for the whole column (row {first} looks like {_UNITS[used[0]][1]}, "
            f"row {other} like {_UNITS[used[1]][1]}): convert them to one unit or to datetimes",
        )
    return _UNITS[int(used[0])][1]


def _objects_ns(
    column: pd.Series, field: str, time_unit: TimeUnit | None
) -> tuple[np.ndarray, np.ndarray]:
    """(epoch ns, a time) of strings, numbers and datetimes held as objects."""
    import numpy as np
    import pandas as pd

    values = column.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        is_number = pd.to_numeric(column, errors="coerce").notna().to_numpy()
        is_date = ~is_number & column.notna().to_numpy()
    else:
        is_number = np.array([isinstance(v, int | float) and not isinstance(v, bool)
                              for v in values], dtype=bool)  # fmt: skip
        is_date = np.array([isinstance(v, str | dt.datetime) for v in values], dtype=bool)
    ns, good = np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    if is_number.any():
        ns[is_number], good[is_number] = _numbers_ns(column[is_number], field, time_unit)
    if is_date.any():
        dates = pd.to_datetime(column[is_date], utc=True, errors="coerce", format="ISO8601")
        ns[is_date], good[is_date] = _datetime_ns(dates)
    return ns, good
