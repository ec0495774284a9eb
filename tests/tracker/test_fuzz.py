"""Mutation fuzzing of the emulator over real HTTP: no 500, and what is accepted reads back.

Valid PutEvents / PutItems / PutUsers / PutActions / PutActionInteractions requests are
built from a seeded generator, then mutated: members set to hostile values (numbers past a
double or a datetime, NaN and Infinity tokens, unpaired surrogates, wrong types, over-long
strings, bad properties), members dropped or added, bytes of the JSON text cut or flipped,
whole requests resent.
They go over several keep-alive connections at once, so good and bad requests share
group commits. With no fault injected, every answer must be 200 or 4xx; every request
answered 200 must read back from the store exactly as sent (events through
``LocalTracker.events()``, properties, items/users/actions and action interactions as the
stored text).

A second run sends a fifth as many requests signed with SigV4 to an emulator that checks
signatures, half of them with ``Authorization``, ``X-Amz-Date`` or ``Host`` then broken.

Size: ``PERSONALIZE_SIM_FUZZ_REQUESTS`` (default 10000, about 10 s here),
``PERSONALIZE_SIM_FUZZ_SEED`` (default 0), ``PERSONALIZE_SIM_FUZZ_SECONDS`` (a time
bound, default 600: the test fails, naming how far it got, rather than run on). Larger::

    PERSONALIZE_SIM_FUZZ_REQUESTS=200000 PERSONALIZE_SIM_FUZZ_SECONDS=3600 \\
        .venv/bin/python -m pytest -q tests/tracker/test_fuzz.py
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from personalize_sim._timestamps import wire_seconds
from personalize_sim.tracker import LocalTracker

REQUESTS = int(os.environ.get("PERSONALIZE_SIM_FUZZ_REQUESTS", "10000"))
SEED = int(os.environ.get("PERSONALIZE_SIM_FUZZ_SEED", "0"))
SECONDS = float(os.environ.get("PERSONALIZE_SIM_FUZZ_SECONDS", "600"))
CONNECTIONS = 8
TRACKING_ID = "fuzz"


class Raw:
    """A JSON token written as is (NaN, Infinity, 1e400, a 400-digit integer…)."""

    def __init__(self, token: str) -> None:
        self.token = token


_RAW = re.compile(r'"@raw:([^"]*)@"')

# values a member may be replaced with: every JSON type, and the edges of each
HOSTILE: list[Any] = [
    None, True, False, 0, -0.0, 1, -1, 0.1, 1.5, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64 + 1,
    10**30, 1e308, -1e308, 5e-324, 1e18, -1e15, 253402300799, 253402300800, -62135596800,
    -62135596801, 1704164645.1234567, Raw("NaN"), Raw("Infinity"), Raw("-Infinity"),
    Raw("1e400"), Raw("-1e400"), Raw("9" * 400), Raw("1" + "0" * 5000), "", " ", "x" * 257,
    "r" * 41, "\u0000", "caf\u00e9", "\U0001f600", "\ud800", "a\udfffb", "1e18", "1704164645",
    "2024-01-02T03:04:05Z", "2024-13-45", "nan", "inf", [], [None], ["a"] * 26, {}, {"a": 1},
    [[[[[]]]]],
]  # fmt: skip
PROPERTIES: list[Any] = [
    '{"a": NaN}', '{"a": Infinity}', '{"a": 1e400}', '{"a": "\\ud800"}', '{"userId": "u"}',
    '{"ImPrEsSiOn": 1}', "[]", "1", '"s"', "", "not json", "{", '{"a": 1, "a": 2}',
    '{"k": "' + "v" * 1100 + '"}', '{"a": 18446744073709551617}', '{"\\u0000": "\\u0000"}',
    '{"nested": {"deep": [1, 2.5, null, true]}}',
]  # fmt: skip
RECORD_LISTS = ("eventList", "items", "users", "actions", "actionInteractions")
EVENT_MEMBERS = ["eventId", "eventType", "eventValue", "itemId", "properties", "sentAt",
                 "recommendationId", "impression", "metricAttribution"]  # fmt: skip


@dataclass
class Sent:
    """One request as sent and as answered."""

    path: str
    body: bytes
    status: int = 0
    request_id: str = ""
    answer: bytes = b""


@dataclass
class Generator:
    rng: np.random.Generator
    counter: int = 0
    bodies: list[bytes] = field(default_factory=list)

    def pick(self, options: list[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def event(self) -> dict[str, Any]:
        self.counter += 1
        n, rng = self.counter, self.rng
        event: dict[str, Any] = {
            "eventId": f"ev-{n}",
            "eventType": self.pick(["click", "view", "Purchase", "é", "t" * 256]),
            "sentAt": self.pick(
                [
                    float(rng.uniform(-6.2e10, 2.5e11)),
                    round(float(rng.uniform(0, 2e9)), 6),
                    int(rng.integers(-62135596800, 253402300799)),
                    1704164645.678901,
                ]
            ),
        }
        if rng.random() < 0.7:
            event["eventValue"] = self.pick(
                [float(rng.normal(0, 1e6)), int(rng.integers(-(2**62), 2**62)), 2**63, 0.1]
            )
        if rng.random() < 0.7:
            event["itemId"] = f"item-{int(rng.integers(1000))}"
        if rng.random() < 0.5:
            props = {"discount": self.pick(["Yes", "No"]), "n": int(rng.integers(100))}
            event["properties"] = json.dumps(props)
        if rng.random() < 0.3:
            event["recommendationId"] = f"rid-{int(rng.integers(100))}"
        if rng.random() < 0.3:
            event["impression"] = [
                f"item-{i}" for i in rng.integers(1000, size=rng.integers(1, 25))
            ]
        if rng.random() < 0.2:
            event["metricAttribution"] = {"eventAttributionSource": "SOURCE_A"}
        if rng.random() < 0.1:
            del event["eventId"]  # the emulator makes one up from the request id
        return event

    def request(self) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        kind = rng.random()
        if kind < 0.05:
            arn = "arn:aws:personalize:us-east-1:1:dataset/shop/ITEMS"
            self.counter += 1
            items = [{"itemId": f"it-{self.counter}-{i}", "properties": '{"price": 3}'}
                     for i in range(int(rng.integers(1, 11)))]  # fmt: skip
            return "/items", {"datasetArn": arn, "items": items}
        if kind < 0.15:
            arn = "arn:aws:personalize:us-east-1:1:dataset/shop/ACTIONS"
            self.counter += 1
            actions = [{"actionId": f"ac-{self.counter}-{i}", "properties": '{"value": 5}'}
                       for i in range(int(rng.integers(1, 11)))]  # fmt: skip
            return "/actions", {"datasetArn": arn, "actions": actions}
        if kind < 0.25:
            interactions = []
            for _ in range(int(rng.integers(1, 11))):
                event = self.event()
                interaction = {"actionId": f"ac-{int(rng.integers(50))}", "eventType": "Taken",
                               "sessionId": f"s-{int(rng.integers(1000))}",
                               "timestamp": event["sentAt"]}  # fmt: skip
                for member in ("eventId", "properties", "recommendationId", "impression"):
                    if member in event:
                        interaction[member] = event[member]
                interactions.append(interaction)
            return "/action-interactions", {"trackingId": TRACKING_ID,
                                            "actionInteractions": interactions}  # fmt: skip
        if kind < 0.3:
            arn = "arn:aws:personalize:us-east-1:1:dataset/shop/USERS"
            self.counter += 1
            users = [{"userId": f"us-{self.counter}-{i}", "properties": '{"age": 30}'}
                     for i in range(int(rng.integers(1, 11)))]  # fmt: skip
            return "/users", {"datasetArn": arn, "users": users}
        body: dict[str, Any] = {
            "trackingId": TRACKING_ID,
            "sessionId": f"s-{int(rng.integers(1000))}",
            "eventList": [self.event() for _ in range(int(rng.integers(1, 11)))],
        }
        if rng.random() < 0.7:
            body["userId"] = f"u-{int(rng.integers(1000))}"
        return "/events", body

    def mutate(self, body: dict[str, Any]) -> None:
        rng = self.rng
        records = next((body[m] for m in RECORD_LISTS if body.get(m)), None)
        for _ in range(int(rng.integers(0, 4))):
            target = body
            if rng.random() < 0.7 and records:
                target = records[int(rng.integers(len(records)))]
            what = rng.random()
            members = list(target) or ["x"]
            if what < 0.45:
                member = self.pick([*members, *EVENT_MEMBERS, "datasetArn", "timestamp"])
                target[member] = self.pick(HOSTILE)
            elif what < 0.6:
                target["properties"] = self.pick(PROPERTIES)
            elif what < 0.75:
                target.pop(self.pick(members), None)
            elif what < 0.85:
                target[self.pick(["extra", "\ud800", ""])] = self.pick(HOSTILE)
            elif what < 0.95 and "sentAt" in target:
                target["sentAt"] = self.pick([-62135596800.000001, 253402300799.999999,
                                              253402300799.99998, -62135596799.5])  # fmt: skip
            else:
                target["eventValue"] = self.pick(
                    [2**63 - 1, 2**53 + 1, -(2**64), 1.7976931348623157e308]
                )

    def next(self) -> tuple[str, bytes]:
        rng = self.rng
        if self.bodies and rng.random() < 0.03:  # a resend, byte for byte: a duplicate
            return "/events", self.bodies[int(rng.integers(len(self.bodies)))]
        path, body = self.request()
        if rng.random() < 0.8:
            self.mutate(body)
        text = encode(body)
        if rng.random() < 0.05:  # damage the text itself
            cut = int(rng.integers(len(text)))
            text = self.pick([text[:cut], text[:cut] + b"\xff" + text[cut + 1 :], text + b"}"])
        if path == "/events" and rng.random() < 0.05:
            self.bodies.append(text)
        return path, text


def encode(body: Any) -> bytes:
    """JSON text, with Raw tokens in place and unpaired surrogates as escapes."""
    text = json.dumps(body, default=lambda raw: f"@raw:{raw.token}@", ensure_ascii=True)
    return _RAW.sub(lambda m: m[1], text).encode()


HOSTILE_HEADERS = (
    "", "20231301T000000Z", "20230230T000000Z", "99991231T235959Z", "AWS4-HMAC-SHA256",
    "Basic dXNlcg==", "AWS4-HMAC-SHA256 Credential=testing/20231301/us-east-1/personalize/"
    "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    "AWS4-HMAC-SHA256 Credential=testing/20231130/us-east-1/personalize/aws4_request, "
    "SignedHeaders=nothing;host, Signature=" + "f" * 64, "\u00e9" * 20, "x" * 5000,
)  # fmt: skip


class HostileSigner:
    """SigV4 headers as botocore signs them (key pair ``testing``), often then broken."""

    def __init__(self, rng: np.random.Generator, url: str) -> None:
        self.rng, self.url = rng, url

    def __call__(self, path: str, body: bytes) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(
            "POST", self.url + path, data=body, headers={"Content-Type": "application/json"}
        )
        SigV4Auth(Credentials("testing", "testing"), "personalize", "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
        headers["Host"] = self.url.removeprefix("http://")
        if self.rng.random() < 0.5:
            name = ["Authorization", "X-Amz-Date", "Host"][int(self.rng.integers(3))]
            if self.rng.random() < 0.2:
                del headers[name]
            else:
                headers[name] = HOSTILE_HEADERS[int(self.rng.integers(len(HOSTILE_HEADERS)))]
        return headers


def send_all(
    url: str,
    generator: Generator,
    count: int,
    deadline: float,
    sign: HostileSigner | None = None,
) -> list[Sent]:
    """``count`` requests of the generator, over CONNECTIONS keep-alive connections at once."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    lock = threading.Lock()
    sent: list[Sent] = []

    def worker() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        while time.monotonic() < deadline:
            with lock:
                if len(sent) >= count:
                    break
                path, body = generator.next()
                headers = {"Content-Type": "application/json"} if sign is None else sign(path, body)
                record = Sent(path, body)
                sent.append(record)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            record.answer = response.read()
            record.status = response.status
            record.request_id = response.getheader("x-amzn-RequestId", "")
            if response.getheader("connection", "") == "close":
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


def expected_timestamp(sent_at: Any) -> pd.Timestamp:
    """How botocore reads a sentAt: epoch seconds to a datetime, to the microsecond."""
    seconds = float(wire_seconds(sent_at)) if isinstance(sent_at, str) else sent_at
    return pd.Timestamp(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))


@pytest.mark.slow
@pytest.mark.timeout(SECONDS + 120)
def test_fuzzed_requests_never_get_a_500_and_accepted_ones_read_back_unchanged():
    generator = Generator(np.random.default_rng(SEED))
    start = time.monotonic()
    with LocalTracker(max_tps=0, tracking_ids=[TRACKING_ID], rng=SEED) as tracker:
        sent = send_all(tracker.endpoint_url, generator, REQUESTS, start + SECONDS)
        stats = tracker.stats()
    check_run(tracker, sent, stats, REQUESTS, time.monotonic() - start)


@pytest.mark.slow
@pytest.mark.timeout(SECONDS + 120)
def test_fuzzed_signatures_never_get_a_500_and_accepted_ones_read_back_unchanged():
    """A fifth as many requests, signed, half of them with a header then broken."""
    rng = np.random.default_rng(SEED + 1)
    generator, count = Generator(rng), max(REQUESTS // 5, 100)
    start = time.monotonic()
    with LocalTracker(
        max_tps=0, tracking_ids=[TRACKING_ID], rng=SEED, verify_signature=True
    ) as tracker:
        signer = HostileSigner(rng, tracker.endpoint_url)
        sent = send_all(tracker.endpoint_url, generator, count, start + SECONDS, signer)
        stats = tracker.stats()
    check_run(tracker, sent, stats, count, time.monotonic() - start)
    assert sum(s.status == 403 for s in sent) > count // 10  # broken signatures were refused


def check_run(
    tracker: LocalTracker, sent: list[Sent], stats: dict[str, Any], count: int, took: float
) -> None:
    """No 5xx; at least a tenth accepted and a tenth refused; every accepted one reads back."""
    assert len(sent) == count, f"only {len(sent)} of {count} sent in {took:.0f} s"
    server_errors = [(s.status, s.body[:300], s.answer[:300]) for s in sent if s.status >= 500]
    assert server_errors == [], f"{len(server_errors)} answers 5xx"
    assert all(s.status in (200, 400, 403, 404, 413) for s in sent), {s.status for s in sent}
    assert stats["PutEvents5xxErrors"] == stats["PutItems5xxErrors"] == 0
    assert stats["PutActions5xxErrors"] == stats["PutActionInteractions5xxErrors"] == 0

    accepted = [s for s in sent if s.status == 200]
    refused = [s for s in sent if s.status != 200]
    assert len(accepted) > count // 10 and len(refused) > count // 10  # both exercised
    expected_events = _expected_events(accepted)
    frame = tracker.events()
    assert len(frame) == len(expected_events)
    with sqlite3.connect(tracker.db_path) as db:
        query = "SELECT tracking_id, event_id, properties FROM events"
        stored_properties = {(tid, eid): props for tid, eid, props in db.execute(query)}
        records = {
            table: dict(db.execute(f"SELECT {key}, properties FROM {table}").fetchall())
            for table, key in (("items", "item_id"), ("users", "user_id"), ("actions", "action_id"))
        }
        interactions = {
            (tid, eid): rest
            for tid, eid, *rest in db.execute(
                "SELECT tracking_id, event_id, session_id, action_id, timestamp, properties "
                "FROM action_interactions"
            )
        }
    mismatches = []
    for row in frame.itertuples(index=False):
        key = (row.TRACKING_ID, row.EVENT_ID)
        want = expected_events[key]
        got = _row_fields(row, stored_properties[key])
        if got not in want:  # one of the copies sent (concurrent copies race to be first)
            mismatches.append((key, want, got))
    assert mismatches == [], f"{len(mismatches)} events read back different, first: {mismatches[0]}"
    expected_interactions = _expected_interactions(accepted)
    assert interactions.keys() == expected_interactions.keys()
    wrong = [k for k, v in interactions.items() if v not in expected_interactions[k]]
    assert wrong == [], f"{len(wrong)} action interactions read back different: {wrong[:3]}"
    for table, member, key in (
        ("items", "items", "itemId"), ("users", "users", "userId"),
        ("actions", "actions", "actionId"),
    ):  # fmt: skip
        sent_records: dict[str, set[Any]] = {}
        for s in accepted:
            if s.path == f"/{table}":
                for record in json.loads(s.body)[member]:
                    sent_records.setdefault(record[key], set()).add(record.get("properties"))
        assert records[table].keys() == sent_records.keys()
        assert all(records[table][k] in sent_records[k] for k in sent_records)


def _expected_events(accepted: list[Sent]) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    events: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for s in accepted:
        if s.path != "/events":
            continue
        body = json.loads(s.body)
        for i, event in enumerate(body["eventList"]):
            event_id = event.get("eventId") or f"{s.request_id}-{i}"
            value = event.get("eventValue")
            attribution = event.get("metricAttribution") or {}
            fields = (
                body.get("userId"),
                body["sessionId"],
                event.get("itemId"),
                event["eventType"],
                None if value is None else float(value),
                expected_timestamp(event["sentAt"]),
                event.get("impression"),
                event.get("recommendationId"),
                attribution.get("eventAttributionSource"),
                event.get("properties"),
            )
            events.setdefault((body["trackingId"], event_id), []).append(fields)
    return events


def _expected_interactions(accepted: list[Sent]) -> dict[tuple[str, str], list[list[Any]]]:
    found: dict[tuple[str, str], list[list[Any]]] = {}
    for s in accepted:
        if s.path == "/action-interactions":
            body = json.loads(s.body)
            for i, one in enumerate(body["actionInteractions"]):
                key = (body["trackingId"], one.get("eventId") or f"{s.request_id}-{i}")
                at = expected_timestamp(one["timestamp"]).timestamp()
                fields = [one["sessionId"], one["actionId"], at, one.get("properties")]
                found.setdefault(key, []).append(fields)
    return found


def _row_fields(row: Any, properties: str | None) -> tuple[Any, ...]:
    def text(value: Any) -> Any:
        return None if value is pd.NA or value is None else value

    value = row.EVENT_VALUE
    return (
        text(row.USER_ID),
        row.SESSION_ID,
        text(row.ITEM_ID),
        row.EVENT_TYPE,
        None if math.isnan(value) else value,
        row.TIMESTAMP,
        row.IMPRESSION,
        text(row.RECOMMENDATION_ID),
        text(row.EVENT_ATTRIBUTION_SOURCE),
        properties,
    )
