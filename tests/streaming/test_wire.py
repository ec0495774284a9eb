import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize_sim.streaming._wire import Prepared, epoch_seconds, request_id

from .conftest import make_requests


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
    ours = epoch_seconds(value)
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
    assert epoch_seconds(value) == botocore_sent_at(value)


def test_pandas_timestamps_keep_microseconds(botocore_sent_at):
    import pandas as pd

    stamp = pd.Timestamp("2024-01-02 03:04:05.678901", tz="UTC")
    assert epoch_seconds(stamp) == botocore_sent_at(stamp.to_pydatetime()) == 1704164645.678901


def test_request_ids_are_deterministic_and_depend_on_event_ids():
    a, b = make_requests(2)
    assert request_id(a) == request_id(dict(a)) != request_id(b)
    assert Prepared(a).id == request_id(a)
    no_ids = {"trackingId": "t", "sessionId": "s", "eventList": [{"eventType": "x", "sentAt": 1}]}
    assert request_id(no_ids) == request_id(json.loads(json.dumps(no_ids)))


def test_prepared_counts_events_and_reads_the_first_time():
    p = Prepared(make_requests(1, events=3)[0])
    assert p.events == 3
    assert p.sent_at == 1_700_000_000.0
    assert json.loads(p.body)["eventList"][2]["sentAt"] == 1_700_000_000.02


def test_a_request_must_be_a_dict():
    with pytest.raises(TypeError, match="dict"):
        Prepared([1, 2])
