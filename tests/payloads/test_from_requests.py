"""from_put_events: the inverse of to_put_events."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize_sim import to_put_events
from personalize_sim.payloads import from_put_events

from .conftest import T0

ids = st.text(alphabet="abcdefghij0123456789-", min_size=1, max_size=12)


@st.composite
def event_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=0, max_value=30))
    sessions = draw(st.lists(ids, min_size=1, max_size=4))
    users = draw(st.lists(st.none() | ids, min_size=1, max_size=3))
    rows = [
        {
            "USER_ID": draw(st.sampled_from(users)),
            "SESSION_ID": draw(st.sampled_from(sessions)),
            "ITEM_ID": draw(st.none() | ids),
            "EVENT_TYPE": draw(st.sampled_from(["View", "Purchase", "Watch"])),
            "EVENT_VALUE": draw(st.none() | st.floats(-1e6, 1e6, allow_nan=False)),
            "TIMESTAMP": T0 + pd.Timedelta(microseconds=draw(st.integers(0, 10**12))),
            "EVENT_ID": f"e{i}",
            "IMPRESSION": draw(st.none() | st.lists(ids, min_size=1, max_size=25)),
            "RECOMMENDATION_ID": draw(st.none() | ids),
            "EVENT_ATTRIBUTION_SOURCE": draw(st.none() | st.sampled_from(["home", "email"])),
            "DEVICE": draw(st.none() | st.sampled_from(["ios", "web"])),
        }
        for i in range(n)
    ]
    frame = from_put_events([])  # the canonical dtypes, with no rows
    if rows:
        frame = pd.DataFrame(rows)
        frame["EVENT_VALUE"] = frame["EVENT_VALUE"].astype(float)
        frame["TIMESTAMP"] = frame["TIMESTAMP"].astype("datetime64[us, UTC]")
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_frames())
def test_from_put_events_inverts_to_put_events(frame):
    back = from_put_events(to_put_events(frame, "t"))
    assert len(back) == len(frame)
    if not len(frame):
        return
    expected = frame.sort_values("EVENT_ID").reset_index(drop=True)
    got = back.sort_values("EVENT_ID").reset_index(drop=True)
    if "DEVICE" not in got:  # every DEVICE was null, so no event carried it
        got["DEVICE"] = None
    got = got[expected.columns]
    for column in expected.columns:
        left = expected[column].astype(object).where(expected[column].notna(), None)
        right = got[column].astype(object).where(got[column].notna(), None)
        assert left.tolist() == right.tolist(), column
    assert got["TIMESTAMP"].dtype == expected["TIMESTAMP"].dtype


def test_from_put_events_reads_datetimes_and_api_payloads():
    requests = [
        {
            "trackingId": "t",
            "sessionId": "s",
            "eventList": [
                {
                    "eventType": "View",
                    "sentAt": T0.to_pydatetime(),
                    "properties": '{"numRatings": 4}',
                }
            ],
        }
    ]
    frame = from_put_events(requests)
    assert frame["TIMESTAMP"].tolist() == [T0]
    assert frame["NUM_RATINGS"].tolist() == [4]
    assert frame["USER_ID"].isna().all()


def _one_event(sent_at):
    return {
        "trackingId": "t",
        "sessionId": "s",
        "eventList": [{"eventType": "V", "sentAt": sent_at}],
    }


def test_from_put_events_reads_every_sent_at_botocore_accepts():
    """Datetimes (naive means UTC), epoch seconds and strings of either, to the microsecond."""
    expected = pd.Timestamp("2026-11-01 12:00:00.000001", tz="UTC")
    aware = dt.datetime(2026, 11, 1, 12, 0, 0, 1, tzinfo=dt.timezone.utc)
    values = [
        aware,
        aware.replace(tzinfo=None),
        aware.astimezone(dt.timezone(dt.timedelta(hours=5))),
        expected.timestamp(),
        "2026-11-01T12:00:00.000001Z",
        repr(expected.timestamp()),
    ]
    frame = from_put_events([_one_event(v) for v in values])
    assert frame["TIMESTAMP"].tolist() == [expected] * len(values)
    assert str(frame["TIMESTAMP"].dtype) == "datetime64[us, UTC]"


def test_from_put_events_of_nothing_has_the_canonical_columns():
    frame = from_put_events([])
    assert frame.empty
    assert str(frame["TIMESTAMP"].dtype) == "datetime64[us, UTC]"
    assert list(frame.columns[:6]) == [
        "USER_ID", "SESSION_ID", "ITEM_ID", "EVENT_TYPE", "EVENT_VALUE", "TIMESTAMP"
    ]  # fmt: skip
