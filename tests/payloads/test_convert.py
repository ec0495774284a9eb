"""to_put_events and validate_events: the requests, the errors, botocore's view of them."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.stub import Stubber

from personalize_sim import ConfigError, PayloadError, limits, to_put_events, validate_events
from personalize_sim.errors import ConfigTypeError

from .conftest import T0, client, frame_of


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


def test_empty_frame_gives_no_requests():
    assert to_put_events(frame_of().iloc[0:0], "t") == []
    assert validate_events(frame_of().iloc[0:0]).empty


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
    with pytest.raises(ValueError, match="tracking_id") as caught:
        to_put_events(frame_of(), "")
    assert isinstance(caught.value, ConfigError)
    assert (caught.value.field, caught.value.value) == ("tracking_id", "")
    # the service's own wording of the broken rule, from botocore's model
    assert "at 'trackingId' failed to satisfy constraint" in caught.value.allowed
    longest = limits.operation_limits("PutEvents").field("trackingId").max
    with pytest.raises(ConfigError, match="less than or equal to the maximum"):
        to_put_events(frame_of(), "x" * (longest + 1))
    with pytest.raises(ConfigTypeError, match="tracking_id: got 7"):
        to_put_events(frame_of(), 7)  # type: ignore[arg-type]


@pytest.mark.parametrize("converter", [validate_events, lambda f: to_put_events(f, "t")])
def test_a_frame_that_is_not_a_dataframe_is_a_type_error(converter):
    with pytest.raises(
        TypeError, match=r"frame: got \[\{'SESSION_ID': 's1'\}\]; a pandas DataFrame"
    ):
        converter([{"SESSION_ID": "s1"}])
    with pytest.raises(ConfigTypeError):
        converter({"SESSION_ID": ["s1"]})


@pytest.mark.parametrize("unit", ["sec", "S", 1, ""])
def test_an_unknown_time_unit_is_a_usage_error(unit):
    with pytest.raises(ValueError, match="time_unit") as caught:
        validate_events(frame_of(), time_unit=unit)
    assert isinstance(caught.value, ConfigError)
    assert caught.value.value == unit
    assert "'s', 'ms', 'us', 'ns'" in caught.value.allowed


def test_errors_must_be_raise_or_collect():
    with pytest.raises(ConfigError, match="errors: got 'ignore'; one of 'raise', 'collect'"):
        to_put_events(frame_of(), "t", errors="ignore")  # type: ignore[call-overload]


def test_bad_arguments_are_caught_before_the_rows_are_read():
    bad_rows = frame_of(EVENT_TYPE=["", "", ""])  # would raise PayloadError
    with pytest.raises(ConfigError, match="time_unit"):
        to_put_events(bad_rows, "t", time_unit="days")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="properties"):
        to_put_events(bad_rows, "t", properties=["NOPE"])


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


def test_unhashable_values_are_reported_rows_never_a_type_error():
    # what a JSON file of a user's can hold: lists and objects where ids belong
    frame = frame_of(USER_ID=[["u"], "u1", {"a": 1}], IMPRESSION=[[1, 2], None, ["i1"]])
    requests, problems = to_put_events(frame, "t", errors="collect")
    assert [r["userId"] for r in requests] == ["u1"]  # the one valid row is sent
    found = set(zip(problems["row"], problems["field"], problems["reason"], strict=True))
    assert found == {(0, "USER_ID", "wrong_type"), (2, "USER_ID", "wrong_type"),
                     (0, "IMPRESSION", "bad_item")}  # fmt: skip
    with pytest.raises(PayloadError, match="3 problems"):
        to_put_events(frame, "t")


@pytest.mark.parametrize("stamp", [1e30, float("inf"), 10**15])
def test_an_epoch_number_no_int64_holds_is_out_of_range_never_wrapped(stamp):
    frame = frame_of(TIMESTAMP=[1_700_000_000, 1_700_000_001, stamp])
    assert list(validate_events(frame, time_unit="s")[["row", "field", "reason"]].itertuples(
        index=False, name=None)) == [(2, "TIMESTAMP", "out_of_range")]  # fmt: skip
