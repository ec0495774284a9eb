"""A request on its way: deterministic id, event count, first time, JSON body."""

import json

import pytest

from personalize_sim.streaming._wire import Prepared, request_id

from .conftest import make_requests


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
