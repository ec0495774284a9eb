"""Fixtures for the stream tests: no real AWS, dummy credentials, small request lists."""

from __future__ import annotations

import os

import pytest

from personalize_sim.clock import VirtualClock


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch, tmp_path):
    """Drop every AWS_* variable and profile file; give botocore dummy credentials."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def clock():
    return VirtualClock()


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
