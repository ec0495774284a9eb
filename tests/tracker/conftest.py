"""Fixtures of the tracker tests: a running emulator on 127.0.0.1, port 0, and request builders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from personalize_sim.tracker import LocalTracker

TRACKING_ID = "tid-test"


def event(n: int = 0, **changes: Any) -> dict[str, Any]:
    """One valid event with every field set; ``changes`` override (None removes a field)."""
    base: dict[str, Any] = {
        "eventId": f"e-{n}",
        "eventType": "click",
        "eventValue": 1.5 + n,
        "itemId": f"item-{n}",
        "properties": json.dumps({"discount": "Yes", "numRatings": n}),
        "sentAt": 1_704_164_645.678901 + n,
        "recommendationId": "RID-1",
        "impression": [f"item-{n}", "item-x", "item-y"],
        "metricAttribution": {"eventAttributionSource": "SOURCE_A"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def request(events: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    """Keyword arguments of ``client.put_events`` around ``events`` (default: one event)."""
    base: dict[str, Any] = {
        "trackingId": TRACKING_ID,
        "userId": "user-1",
        "sessionId": "session-1",
        "eventList": events if events is not None else [event()],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def tracker() -> Iterator[LocalTracker]:
    """An in-thread emulator that knows TRACKING_ID, with no quota."""
    with LocalTracker(process=False, tracking_ids=[TRACKING_ID], max_tps=0, rng=0) as t:
        yield t


@pytest.fixture
def client(tracker: LocalTracker) -> Any:
    """A boto3 client that lets over-limit payloads reach the wire and never retries."""
    return tracker.client(parameter_validation=False, retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def shared_client() -> Iterator[Any]:
    """Like ``client``, on one emulator per module: for tests that assert no counters."""
    with LocalTracker(process=False, tracking_ids=[TRACKING_ID], max_tps=0, rng=0) as t:
        yield t.client(parameter_validation=False, retries={"total_max_attempts": 1})
