"""Helpers for the stream tests (the root conftest already keeps AWS out of reach)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


def make_requests(n: int, *, events: int = 1, tracking_id: str = "tid", sessions: int = 3):
    """``n`` PutEvents requests with deterministic event ids and sentAt one second apart."""
    return [
        {
            "trackingId": tracking_id,
            "sessionId": f"s{i % sessions}",
            "userId": f"u{i % sessions}",
            "eventList": [
                {
                    "eventId": f"e{i}-{j}",
                    "eventType": "View",
                    "itemId": f"i{(i + j) % 17}",
                    "sentAt": 1_700_000_000 + i + j / 100,
                }
                for j in range(events)
            ],
        }
        for i in range(n)
    ]


@pytest.fixture
def requests10():
    return make_requests(10)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A URL on 127.0.0.1 whose port refuses connections: bound for the whole test (so no other
    test, in this process or another, can take the port meanwhile) and never listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"
