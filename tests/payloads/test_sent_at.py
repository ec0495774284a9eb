"""TIMESTAMP → sentAt: datetimes, epoch numbers and their unit, microseconds."""

from __future__ import annotations

import pandas as pd
import pytest

from personalize_sim import ConfigError, to_put_events, validate_events
from personalize_sim.payloads._problems import ProblemReport
from personalize_sim.payloads._sent_at import epoch_microseconds

from .conftest import T0, frame_of, problems_of


def test_sent_at_is_epoch_seconds_exact_to_the_microsecond():
    stamp = pd.Timestamp("2026-11-01 12:00:00.123456", tz="UTC")
    frame = frame_of(TIMESTAMP=[stamp, stamp + pd.Timedelta(microseconds=1), stamp])
    sent = [e["sentAt"] for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert sent[0] == pytest.approx(stamp.timestamp(), abs=1e-7)
    assert round(sent[1] * 1e6) - round(sent[0] * 1e6) == 1


def test_epoch_numbers_need_an_explicit_unit():
    seconds = [1_700_000_000, 1_700_000_001, 1_700_000_002]
    assert ("TIMESTAMP", "unit_required") in [
        (f, r) for _, f, r in problems_of(frame_of(TIMESTAMP=seconds))
    ]
    requests = to_put_events(frame_of(TIMESTAMP=seconds), "t", time_unit="s")
    assert requests[0]["eventList"][0]["sentAt"] == 1_700_000_000
    ms = to_put_events(frame_of(TIMESTAMP=[s * 1000 + 5 for s in seconds]), "t", time_unit="ms")
    assert ms[0]["eventList"][0]["sentAt"] == pytest.approx(1_700_000_000.005)


def test_naive_datetimes_mean_utc():
    naive = frame_of(TIMESTAMP=[T0.tz_localize(None)] * 3)
    aware = frame_of(TIMESTAMP=[T0] * 3)
    assert to_put_events(naive, "t") == to_put_events(aware, "t")


def test_other_time_zones_are_converted_to_utc():
    local = frame_of(TIMESTAMP=[T0.tz_convert("Europe/Paris")] * 3)
    assert to_put_events(local, "t")[0]["eventList"][0]["sentAt"] == T0.timestamp()


def test_missing_timestamps():
    frame = frame_of(TIMESTAMP=[T0, pd.NaT, T0])
    assert problems_of(frame) == [(1, "TIMESTAMP", "missing")]


def test_mixed_naive_and_aware_timestamps():
    frame = frame_of(TIMESTAMP=pd.Series([T0, T0.tz_localize(None), T0], dtype=object))
    assert problems_of(frame) == [(1, "TIMESTAMP", "mixed_timezones")]


def test_sub_microsecond_timestamps_are_reported_not_rounded():
    frame = frame_of(TIMESTAMP=[T0 + pd.Timedelta(nanoseconds=1), T0, T0])
    assert problems_of(frame) == [(0, "TIMESTAMP", "sub_microsecond")]


def test_a_wrong_time_unit_shows_as_out_of_range():
    assert problems_of(frame_of(TIMESTAMP=[1_700_000_000_000] * 3), time_unit="s") == [
        (0, "TIMESTAMP", "out_of_range"),
        (1, "TIMESTAMP", "out_of_range"),
        (2, "TIMESTAMP", "out_of_range"),
    ]


@pytest.mark.parametrize(
    ("values", "unit", "expected"),
    [
        ([1, 2], "s", [1_000_000, 2_000_000]),
        ([1, 2], "ms", [1_000, 2_000]),
        ([1, 2], "us", [1, 2]),
        ([1_000, 2_000], "ns", [1, 2]),
        ([1.5, 0.000001], "s", [1_500_000, 1]),
    ],
)
def test_epoch_numbers_in_each_unit(values, unit, expected):
    report = ProblemReport()
    assert epoch_microseconds(pd.Series(values), "T", unit, report).tolist() == expected
    assert report.frame().empty


def test_datetime_columns_in_any_pandas_unit():
    expected = [1_793_534_400_000_000, 1_793_534_401_000_000]  # 2026-11-01 12:00:00 and :01
    for unit in ("s", "ms", "us", "ns"):
        series = pd.Series([T0, T0 + pd.Timedelta(seconds=1)]).astype(f"datetime64[{unit}, UTC]")
        assert epoch_microseconds(series, "T", None, ProblemReport()).tolist() == expected
        naive = series.dt.tz_localize(None)
        assert epoch_microseconds(naive, "T", None, ProblemReport()).tolist() == expected


def test_objects_mixing_numbers_and_datetimes():
    values = pd.Series([T0, 1_700_000_000, "soon", None], dtype=object)
    report = ProblemReport()
    got = epoch_microseconds(values, "T", "s", report)
    assert got.tolist() == [T0.value // 1000, 1_700_000_000_000_000, 0, 0]
    assert report.frame()[["row", "reason"]].values.tolist() == [[2, "wrong_type"], [3, "missing"]]
    unitless = ProblemReport()
    epoch_microseconds(values, "T", None, unitless)
    assert (1, "unit_required") in [tuple(r) for r in unitless.frame()[["row", "reason"]].values]


def test_time_unit_none_is_fine_for_datetimes():
    assert validate_events(frame_of(), time_unit=None).empty
    with pytest.raises(ConfigError, match="time_unit: got 'days'"):
        validate_events(frame_of(), time_unit="days")  # type: ignore[arg-type]
