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

from .errors import ConfigTypeError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["TimeUnit", "epoch_us", "utc_from_seconds", "utc_from_us", "wire_seconds"]

#: the unit of numeric timestamps in a frame (seconds, milli-, micro- or nanoseconds)
TimeUnit = Literal["s", "ms", "us", "ns"]

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
