"""Request dicts: sessions cut into lists of at most ten, in time order."""

from __future__ import annotations

import sys
import traceback

import pandas as pd
import pytest

from personalize_sim import to_put_events
from personalize_sim._timestamps import wire_seconds
from personalize_sim.payloads._requests import EVENT_KEYS, records

from .conftest import T0, frame_of


def test_sessions_are_chunked_into_requests_of_at_most_ten_in_time_order(rng):
    n = 57
    times = T0 + pd.to_timedelta(rng.permutation(n), unit="s")
    frame = pd.DataFrame(
        {
            "USER_ID": ["u1"] * n,
            "SESSION_ID": ["s1"] * n,
            "ITEM_ID": [f"i{i}" for i in range(n)],
            "EVENT_TYPE": ["View"] * n,
            "TIMESTAMP": times,
        }
    )
    requests = to_put_events(frame, "t")
    assert [len(r["eventList"]) for r in requests] == [10, 10, 10, 10, 10, 7]
    sent = [e["sentAt"] for r in requests for e in r["eventList"]]
    assert sent == sorted(sent)
    assert len({e["eventId"] for r in requests for e in r["eventList"]}) == n


def test_login_midway_splits_the_session_and_anonymous_requests_omit_user_id():
    frame = frame_of(
        USER_ID=[None, None, "u7", "u7"],
        SESSION_ID=["s1"] * 4,
        ITEM_ID=["a", "b", "c", "d"],
        EVENT_TYPE=["View"] * 4,
        TIMESTAMP=[T0 + pd.Timedelta(seconds=s) for s in (0, 1, 2, 3)],
    )
    requests = to_put_events(frame, "t")
    assert [
        (r.get("userId"), r["sessionId"], [e["itemId"] for e in r["eventList"]]) for r in requests
    ] == [(None, "s1", ["a", "b"]), ("u7", "s1", ["c", "d"])]
    assert "userId" not in requests[0]


def test_requests_are_ordered_by_their_first_event():
    frame = frame_of(TIMESTAMP=[T0 + pd.Timedelta(seconds=5), T0 + pd.Timedelta(seconds=6), T0])
    assert [r["sessionId"] for r in to_put_events(frame, "t")] == ["s2", "s1"]


def test_sent_at_is_the_value_botocore_puts_on_the_wire():
    stamps = [T0 + pd.Timedelta(microseconds=us) for us in (0, 1, 999_999)]
    events = [e for r in to_put_events(frame_of(TIMESTAMP=stamps), "t") for e in r["eventList"]]
    assert [e["sentAt"] for e in events] == [wire_seconds(s.to_pydatetime()) for s in stamps]


def test_event_keys_follow_the_model_order():
    frame = frame_of(
        EVENT_VALUE=[1.0, 2.0, 3.0],
        IMPRESSION=[["a"], ["b"], ["c"]],
        RECOMMENDATION_ID=["r", "r", "r"],
        EVENT_ATTRIBUTION_SOURCE=["s", "s", "s"],
        DEVICE=["d", "d", "d"],
        EVENT_ID=["e1", "e2", "e3"],
    )
    event = to_put_events(frame, "t")[0]["eventList"][0]
    assert tuple(event) == EVENT_KEYS
    assert list(to_put_events(frame, "t")[0]) == ["trackingId", "userId", "sessionId", "eventList"]


def test_records_pairs_keys_with_each_row():
    assert records(("a", "b"), [[1, 2], iter("xy")]) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert records(("a",), [[]]) == []


def test_rows_with_different_optional_fields_keep_their_own_keys():
    frame = frame_of(EVENT_VALUE=[1.5, None, None], ITEM_ID=["i1", None, "i3"])
    events = [e for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert [sorted(e) for e in events] == [
        ["eventId", "eventType", "eventValue", "itemId", "sentAt"],
        ["eventId", "eventType", "sentAt"],
        ["eventId", "eventType", "itemId", "sentAt"],
    ]


class _StoppedInGeneratedCodeError(Exception):
    pass


def test_a_traceback_through_generated_code_shows_its_source_line():
    """The request builders' generated functions register their source (as attrs does),
    so a traceback or a debugger stepping into them shows the line, not nothing."""

    def local(frame, event, arg):
        if event == "line":  # as a debugger would stop here: fail inside the generated frame
            raise _StoppedInGeneratedCodeError
        return local

    def calls(frame, event, arg):
        generated = frame.f_code.co_filename.startswith("<personalize_sim.payloads generated")
        return local if generated else None

    sys.settrace(calls)
    try:
        with pytest.raises(_StoppedInGeneratedCodeError) as caught:
            to_put_events(frame_of(), "t")
    finally:
        sys.settrace(None)
    shown = "".join(traceback.format_exception(caught.value))
    assert 'File "<personalize_sim.payloads generated record ' in shown, shown
    assert "line 2, in record\n    return {'eventId': a0, 'eventType': a1, " in shown, shown
