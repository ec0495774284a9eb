"""to_put_events / validate_events / from_put_events against the real botocore model."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize_sim import PayloadError, from_put_events, limits, to_put_events, validate_events

T0 = pd.Timestamp("2026-11-01 12:00:00", tz="UTC")


def frame_of(**columns: object) -> pd.DataFrame:
    """A valid three-event frame, with columns overridden or added."""
    base: dict[str, object] = {
        "USER_ID": ["u1", "u1", "u2"],
        "SESSION_ID": ["s1", "s1", "s2"],
        "ITEM_ID": ["i1", "i2", "i3"],
        "EVENT_TYPE": ["View", "Purchase", "View"],
        "TIMESTAMP": [T0, T0 + pd.Timedelta(seconds=1), T0 + pd.Timedelta(seconds=2)],
    }
    base.update(columns)
    return pd.DataFrame({k: v for k, v in base.items() if v is not None})


def problems_of(frame: pd.DataFrame, **kwargs: object) -> list[tuple[object, str, str]]:
    report = validate_events(frame, **kwargs)
    assert list(report.columns) == ["row", "field", "reason", "value", "limit"]
    return list(zip(report["row"], report["field"], report["reason"], strict=True))


def client():
    return boto3.client("personalize-events", region_name="us-east-1")


# --- the happy path ---------------------------------------------------------------------------


def test_requests_are_exactly_put_events_kwargs_and_pass_botocore_validation():
    frame = frame_of(
        EVENT_VALUE=[np.nan, 19.99, np.nan],
        IMPRESSION=[["i1", "i9"], None, "i3|i4"],
        RECOMMENDATION_ID=["rec-1", None, None],
        EVENT_ATTRIBUTION_SOURCE=["home-page", None, "email"],
        DISCOUNT=["Yes", "No", None],
    )
    requests = to_put_events(frame, "tracking-1")
    pe = client()
    with Stubber(pe) as stub:
        for request in requests:
            stub.add_response("put_events", {}, expected_params=request)
            pe.put_events(**request)  # botocore's own parameter validation runs here
        stub.assert_no_pending_responses()
    for request in requests:
        assert limits.check_request("PutEvents", request) == []
    first = requests[0]
    assert set(first) == {"trackingId", "userId", "sessionId", "eventList"}
    event = first["eventList"][0]
    assert event["impression"] == ["i1", "i9"]
    assert event["recommendationId"] == "rec-1"
    assert event["metricAttribution"] == {"eventAttributionSource": "home-page"}
    assert json.loads(event["properties"]) == {"discount": "Yes"}
    assert "eventValue" not in event
    assert requests[0]["eventList"][1]["eventValue"] == 19.99
    assert requests[1]["eventList"][0]["impression"] == ["i3", "i4"]


def test_sent_at_is_epoch_seconds_exact_to_the_microsecond():
    stamp = pd.Timestamp("2026-11-01 12:00:00.123456", tz="UTC")
    frame = frame_of(TIMESTAMP=[stamp, stamp + pd.Timedelta(microseconds=1), stamp])
    sent = [e["sentAt"] for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert sent[0] == pytest.approx(stamp.timestamp(), abs=1e-7)
    assert round(sent[1] * 1e6) - round(sent[0] * 1e6) == 1


def test_empty_frame_gives_no_requests():
    assert to_put_events(frame_of().iloc[0:0], "t") == []
    assert validate_events(frame_of().iloc[0:0]).empty


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


def test_event_ids_are_kept_or_derived_deterministically():
    frame = frame_of(EVENT_ID=["e1", None, "e3"])
    ids = [e["eventId"] for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert ids[0] == "e1" and ids[2] == "e3" and len(ids[1]) == 32
    again = [e["eventId"] for r in to_put_events(frame.copy(), "t") for e in r["eventList"]]
    assert again == ids
    changed = frame.copy()
    changed.loc[1, "ITEM_ID"] = "other"
    assert [e["eventId"] for r in to_put_events(changed, "t") for e in r["eventList"]][1] != ids[1]


def test_identical_rows_get_distinct_ids():
    frame = pd.concat([frame_of().iloc[[0]]] * 3, ignore_index=True)
    ids = [e["eventId"] for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert len(set(ids)) == 3
    assert ids[1] == ids[0] + "-1" and ids[2] == ids[0] + "-2"


def test_api_camel_case_columns_are_accepted():
    frame = pd.DataFrame(
        {
            "userId": ["u1"],
            "sessionId": ["s1"],
            "itemId": ["i1"],
            "eventType": ["View"],
            "sentAt": [T0],
            "impression": [["i1", "i2"]],
            "recommendationId": ["r"],
            "eventAttributionSource": ["src"],
        }
    )
    (request,) = to_put_events(frame, "t")
    assert request["userId"] == "u1"
    assert request["eventList"][0]["impression"] == ["i1", "i2"]


def test_both_spellings_of_one_field_is_a_usage_error():
    with pytest.raises(ValueError, match=r"USER_ID.*userId"):
        validate_events(frame_of(userId=["a", "b", "c"]))


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


def test_integer_ids_become_decimal_strings():
    frame = frame_of(USER_ID=[35, 35, 36], ITEM_ID=[73, 70, 17])
    requests = to_put_events(frame, "t")
    assert requests[0]["userId"] == "35"
    assert requests[0]["eventList"][0]["itemId"] == "73"


def test_properties_from_named_columns_are_camel_cased():
    frame = frame_of(NUM_RATINGS=[3, 4, 5], DEVICE=["ios", "web", "ios"], persona=["a", "b", "c"])
    props = [json.loads(e["properties"]) for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert props[0] == {"numRatings": 3, "device": "ios"}  # lower-case ground truth not sent
    only = to_put_events(frame, "t", properties=["DEVICE"])[0]["eventList"][0]["properties"]
    assert json.loads(only) == {"device": "ios"}
    none = to_put_events(frame, "t", properties=[])[0]["eventList"][0]
    assert "properties" not in none


def test_properties_from_a_dict_or_json_column():
    frame = frame_of(PROPERTIES=[{"discount": "Yes"}, '{"numRatings": 2}', None], DEVICE=["a"] * 3)
    props = [e.get("properties") for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert json.loads(props[0]) == {"device": "a", "discount": "Yes"}
    assert json.loads(props[1]) == {"device": "a", "numRatings": 2}
    assert json.loads(props[2]) == {"device": "a"}


def test_null_property_values_leave_the_key_out():
    frame = frame_of(DISCOUNT=["Yes", None, np.nan])
    events = [e for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert json.loads(events[0]["properties"]) == {"discount": "Yes"}
    assert "properties" not in events[1] and "properties" not in events[2]


# --- bad input: each case names the row, the field and a stable reason --------------------------


def test_missing_required_columns_are_reported():
    frame = frame_of(SESSION_ID=None, EVENT_TYPE=None)
    assert problems_of(frame) == [
        (None, "SESSION_ID", "missing_column"),
        (None, "EVENT_TYPE", "missing_column"),
    ]


def test_nan_and_empty_strings_in_required_fields():
    frame = frame_of(SESSION_ID=["s1", None, ""], EVENT_TYPE=[np.nan, "View", "View"])
    frame.index = ["a", "b", "c"]
    assert sorted(problems_of(frame)) == sorted(
        [
            ("b", "SESSION_ID", "missing"),
            ("c", "SESSION_ID", "empty"),
            ("a", "EVENT_TYPE", "missing"),
        ]
    )


def test_missing_timestamps():
    frame = frame_of(TIMESTAMP=[T0, pd.NaT, T0])
    assert problems_of(frame) == [(1, "TIMESTAMP", "missing")]


def test_wrong_types():
    frame = frame_of(
        ITEM_ID=["i1", 3.5, "i3"], EVENT_VALUE=[1.0, "cheap", None], TIMESTAMP=[T0, "yesterday", T0]
    )
    assert sorted(problems_of(frame)) == [
        (1, "EVENT_VALUE", "wrong_type"),
        (1, "ITEM_ID", "wrong_type"),
        (1, "TIMESTAMP", "wrong_type"),
    ]


def test_impressions_over_the_model_limit():
    most = limits.put_events().field("eventList[].impression").max
    frame = frame_of(
        IMPRESSION=[
            [f"i{i}" for i in range(most + 1)],
            [f"i{i}" for i in range(most)],
            "|".join(f"i{i}" for i in range(most + 5)),
        ]
    )
    report = validate_events(frame)
    assert list(zip(report["row"], report["reason"], report["value"], strict=True)) == [
        (0, "too_many", most + 1),
        (2, "too_many", most + 5),
    ]
    assert set(report["limit"]) == {f"items <= {most}"}


def test_strings_over_their_limits():
    model = limits.put_events()
    too_long_rec = "r" * (model.field("eventList[].recommendationId").max + 1)
    too_long_user = "u" * (model.field("userId").max + 1)
    frame = frame_of(
        RECOMMENDATION_ID=[None, too_long_rec, None], USER_ID=[too_long_user, "u", "u"]
    )
    report = validate_events(frame)
    assert sorted(
        zip(report["row"], report["field"], report["reason"], report["limit"], strict=True)
    ) == [
        (0, "USER_ID", "too_long", "length <= 256"),
        (1, "RECOMMENDATION_ID", "too_long", "length <= 40"),
    ]


def test_reserved_property_keys_any_case():
    frame = frame_of(PROPERTIES=[{"Timestamp": 1}, {"ok": 1}, '{"USERID": "x"}'])
    assert problems_of(frame) == [
        (0, "PROPERTIES", "reserved_key"),
        (2, "PROPERTIES", "reserved_key"),
    ]
    assert problems_of(frame_of(USERID=["a", "b", "c"])) == [(None, "USERID", "reserved_key")]


def test_property_keys_that_cannot_be_camel_cased():
    frame = frame_of(**{"PRICE-USD": [1, 2, 3]})
    assert problems_of(frame, properties=["PRICE-USD"]) == [(None, "PRICE-USD", "bad_key")]
    assert problems_of(frame_of(PROPERTIES=[{"NUM_RATINGS": 1}, None, None])) == [
        (0, "PROPERTIES", "bad_key")
    ]


def test_property_values_json_cannot_encode():
    frame = frame_of(WHEN=[T0, "x", "y"], SCORE=[1.0, float("inf"), 2.0])
    assert sorted(problems_of(frame)) == [
        (0, "WHEN", "not_json_encodable"),
        (1, "SCORE", "not_json_encodable"),
    ]


def test_properties_that_are_not_json_objects():
    frame = frame_of(PROPERTIES=["{not json", "[1, 2]", '{"fine": true}'])
    assert problems_of(frame) == [
        (0, "PROPERTIES", "not_json_object"),
        (1, "PROPERTIES", "not_json_object"),
    ]


def test_properties_longer_than_the_model_allows():
    longest = limits.put_events().field("eventList[].properties").max
    frame = frame_of(NOTE=["x" * longest, "short", "y"])
    assert problems_of(frame) == [(0, "properties", "too_long")]


def test_attribution_sources_outside_printable_ascii():
    frame = frame_of(EVENT_ATTRIBUTION_SOURCE=["caf\u00e9", "ok", "   "])
    report = validate_events(frame)
    assert list(zip(report["row"], report["reason"], strict=True)) == [
        (0, "pattern"),
        (2, "pattern"),
    ]
    assert (
        report["limit"][0]
        == limits.put_events().field("eventList[].metricAttribution.eventAttributionSource").pattern
    )


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


def test_duplicate_given_event_ids():
    assert problems_of(frame_of(EVENT_ID=["e1", "e2", "e1"])) == [
        (2, "EVENT_ID", "duplicate_event_id")
    ]


def test_events_over_ten_kilobytes():
    per_item = limits.put_events().field("eventList[].impression[]").max
    big = ["\u00e9" * per_item] * 25  # 2 bytes a character in UTF-8
    report = validate_events(frame_of(IMPRESSION=[big, None, None]))
    assert list(zip(report["row"], report["field"], report["reason"], strict=True)) == [
        (0, "event", "event_too_large")
    ]
    assert report["value"][0] > limits.EVENT_MAX_BYTES


def test_payload_error_shows_the_first_problems_and_the_count():
    frame = pd.concat([frame_of(EVENT_TYPE=["", "", ""])] * 5, ignore_index=True)
    with pytest.raises(PayloadError) as caught:
        to_put_events(frame, "t")
    message = str(caught.value)
    assert message.startswith("15 problems in the events frame; nothing was sent:")
    assert "row 0, EVENT_TYPE: empty" in message
    assert "and 5 more" in message
    assert len(caught.value.problems) == 15


def test_collect_returns_the_valid_rows_and_the_problems():
    frame = frame_of(EVENT_TYPE=["View", "", "View"])
    requests, problems = to_put_events(frame, "t", errors="collect")
    assert [e["itemId"] for r in requests for e in r["eventList"]] == ["i1", "i3"]
    assert list(problems["row"]) == [1]


def test_a_bad_tracking_id_is_a_usage_error():
    with pytest.raises(ValueError, match="tracking_id"):
        to_put_events(frame_of(), "")


# --- botocore puts every microsecond of sentAt on the wire ------------------------------------


def test_the_installed_botocore_sends_sent_at_to_the_microsecond():
    """botocore < 1.44 sent whole seconds, merging close events: the dependency floor's reason."""
    import botocore.session

    client = botocore.session.get_session().create_client(
        "personalize-events", region_name="us-east-1", aws_access_key_id="k",
        aws_secret_access_key="s",
    )  # fmt: skip
    stamps = [T0 + pd.Timedelta(microseconds=123_456 + i) for i in range(3)]
    request = to_put_events(frame_of(TIMESTAMP=stamps), "t")[0]
    sent = []

    def answer(request, **_):  # instead of the network: keep the body, answer an empty 200
        sent.append(request.body)
        return AWSResponse(request.url, 200, {}, _NoBody())

    client.meta.events.register("before-send", answer)
    client.put_events(**request)
    assert json.loads(sent[0])["eventList"][0]["sentAt"] == T0.timestamp() + 0.123456


class _NoBody:
    def stream(self, **_):
        yield b""


# --- round trip ---------------------------------------------------------------------------------

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


def test_validation_does_not_change_the_frame():
    frame = frame_of(IMPRESSION=["a|b", None, ["c"]], DISCOUNT=["x", None, "y"])
    before = frame.copy()
    to_put_events(frame, "t")
    pd.testing.assert_frame_equal(frame, before)


def test_client_parameter_validation_would_miss_what_we_catch():
    """Why we check maxima ourselves: botocore lets 11 events through to the wire."""
    pe = boto3.client(
        "personalize-events", region_name="us-east-1", config=Config(parameter_validation=True)
    )
    too_many = {
        "trackingId": "t",
        "sessionId": "s",
        "eventList": [{"eventType": "x", "sentAt": 1.0}] * 11,
    }
    with Stubber(pe) as stub:
        stub.add_response("put_events", {}, expected_params=too_many)
        pe.put_events(**too_many)
    assert [v.reason for v in limits.check_request("PutEvents", too_many)] == ["too_many"]
