"""Timestamps: the wire's sentAt must be what botocore itself would send, to the microsecond."""

import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize_sim._timestamps import epoch_us, utc_from_seconds, wire_seconds


@pytest.fixture(scope="module")
def botocore_sent_at():
    """sentAt exactly as botocore's own rest-json serializer writes it."""
    import botocore.session
    from botocore.serialize import create_serializer

    operation = botocore.session.get_session().get_service_model("personalize-events")
    operation = operation.operation_model("PutEvents")
    serializer = create_serializer("rest-json")

    def serialize(value):
        request = {"trackingId": "t", "sessionId": "s",
                   "eventList": [{"eventType": "x", "sentAt": value}]}  # fmt: skip
        body = serializer.serialize_to_request(request, operation)["body"]
        return json.loads(body)["eventList"][0]["sentAt"]

    return serialize


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_float_sent_at_matches_botocore(botocore_sent_at, value):
    ours = wire_seconds(value)
    assert ours == botocore_sent_at(value)
    assert type(ours) is type(botocore_sent_at(value))


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2024, 1, 2),
        "2024-01-02T03:04:05.5Z",
        1704164645,
        1.0036909999999999,
        1700000000.9999996,
    ],
)
def test_other_sent_at_forms_match_botocore(botocore_sent_at, value):
    assert wire_seconds(value) == botocore_sent_at(value)


def test_pandas_timestamps_keep_microseconds(botocore_sent_at):
    import pandas as pd

    stamp = pd.Timestamp("2024-01-02 03:04:05.678901", tz="UTC")
    assert wire_seconds(stamp) == botocore_sent_at(stamp.to_pydatetime()) == 1704164645.678901


def test_epoch_microseconds_are_exact_before_and_after_1970():
    utc = dt.timezone.utc
    assert epoch_us(dt.datetime(1970, 1, 1, tzinfo=utc)) == 0
    assert epoch_us(dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=utc)) == -1
    assert epoch_us(dt.datetime(2286, 11, 20, 17, 46, 39, 999_999)) == 9_999_999_999_999_999


def test_seconds_become_utc_datetimes_rounded_to_the_microsecond():
    stamps = utc_from_seconds(np.array([1_700_000_000.1234564, 0.0]))
    assert str(stamps.dtype) == "datetime64[us, UTC]"
    assert [s.isoformat() for s in stamps] == [
        "2023-11-14T22:13:20.123456+00:00",
        "1970-01-01T00:00:00+00:00",
    ]


@pytest.mark.parametrize("value", [True, None, [1.0], dt.date(2024, 1, 1)])
def test_values_that_are_not_times_are_refused(value):
    with pytest.raises(TypeError, match="sentAt"):
        wire_seconds(value)


S = 1_700_000_000  # 2023-11-14T22:13:20Z, in seconds


@pytest.mark.parametrize(
    ("values", "unit", "ns"),
    [([S, S + 1], None, [S * 10**9, (S + 1) * 10**9]),  # epoch seconds, by their size
     ([S * 1000], None, [S * 10**9]),  # ms
     ([S * 10**6 + 7], None, [S * 10**9 + 7000]),  # µs, exactly
     ([S * 10**9 + 1], None, [S * 10**9 + 1]),  # ns, exactly (no float in between)
     ([S + 0.5], None, [S * 10**9 + 500_000_000]),  # a float: to the µs
     ([S * 1000], "s", "error"),  # a unit given wins: this is the year 55,800
     (["2023-11-14T23:13:20+01:00", "2023-11-14T22:13:20.000001Z"], None,
      [S * 10**9, S * 10**9 + 1000]),
     ([str(S), "2023-11-14T22:13:20Z"], None, [S * 10**9, S * 10**9]),  # numbers as text
     ([S, S * 1000], None, "one epoch unit"),
     ([0], None, [0]), ([-1], None, "error"), ([4_102_444_800], None, "error"),  # 1970…2100
     ([1e30], None, "error"), ([float("inf")], None, "error"), ([float("nan")], None, "error"),
     ([True], None, "error"), ([None], None, "error"), (["soon"], None, "error"),
     ([[S]], None, "error"), ([b"2023-11-14"], None, "error")],
)  # fmt: skip
def test_epoch_ns_of_reads_every_kind_of_time_and_refuses_the_rest(values, unit, ns):
    import pandas as pd

    from personalize_sim._timestamps import epoch_ns_of
    from personalize_sim.errors import ConfigError

    column = pd.Series(values)
    if isinstance(ns, str):
        with pytest.raises(ConfigError, match=r"T\[\d\]: got .*; " + ("" if ns == "error" else ns)):
            epoch_ns_of(column, "T", unit)
    else:
        assert epoch_ns_of(column, "T", unit).tolist() == ns
    dates = pd.Series(pd.to_datetime([S], unit="s")).dt.tz_localize("Europe/Paris")
    assert epoch_ns_of(dates, "T").tolist() == [S * 10**9 - 3600 * 10**9]  # local wall time
