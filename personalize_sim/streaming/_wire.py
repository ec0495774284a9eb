"""A PutEvents request ready to send: its deterministic id, its size and its JSON body.

The body is what botocore puts on the wire for ``client.put_events(**request)`` (same
members, same values; ``sentAt`` as epoch seconds with botocore 1.44's microsecond rule),
serialised once with orjson so the fast transport never pays for rest-json serialisation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["Prepared", "epoch_seconds", "prepare", "request_id"]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def epoch_seconds(value: Any) -> int | float:
    """``sentAt`` as botocore ≥ 1.44 serialises it: int when whole, else exact microseconds.

    botocore turns the value into an aware datetime and back
    (``botocore/serialize.py`` ``_timestamp_unixtimestamp``); this does the same arithmetic
    without the round trip, which is the costliest part of building a body.
    """
    if isinstance(value, bool):
        raise TypeError(f"sentAt must be a datetime or epoch seconds, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # datetime.fromtimestamp: split off the fraction, round it to µs half-to-even
        frac, whole_f = math.modf(value)
        micro = round(frac * 1e6)
        if micro >= 1_000_000:
            micro, whole_f = micro - 1_000_000, whole_f + 1.0
        elif micro < 0:
            micro, whole_f = micro + 1_000_000, whole_f - 1.0
        whole = int(whole_f)
    else:
        if not isinstance(value, dt.datetime):
            from botocore.utils import parse_to_aware_datetime

            value = parse_to_aware_datetime(value)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        delta = value - _EPOCH
        whole, micro = delta.days * 86_400 + delta.seconds, delta.microseconds
    if micro:
        # integers first, one rounding, as botocore does
        return (whole * 10**6 + micro) / 10**6
    return whole


def request_id(request: Mapping[str, Any]) -> str:
    """Deterministic id: a hash of the tracking id, session id and event ids (or the body)."""
    h = hashlib.blake2b(digest_size=10)
    h.update(str(request.get("trackingId", "")).encode())
    h.update(b"\x1f" + str(request.get("sessionId", "")).encode())
    events = request.get("eventList") or []
    ids = [e.get("eventId") for e in events if isinstance(e, Mapping)]
    if ids and all(ids):
        for event_id in ids:
            h.update(b"\x1e" + str(event_id).encode())
    else:  # no event ids: fall back on the whole body, which is just as deterministic
        h.update(b"\x1d" + body_bytes(request))
    return h.hexdigest()


def body_bytes(request: Mapping[str, Any]) -> bytes:
    """The JSON body of ``put_events(**request)``, compact, via orjson."""
    import orjson

    body = dict(request)
    events = body.get("eventList")
    if isinstance(events, list):
        out = []
        for event in events:
            if isinstance(event, Mapping) and "sentAt" in event:
                event = {**event, "sentAt": epoch_seconds(event["sentAt"])}
            out.append(event)
        body["eventList"] = out
    return orjson.dumps(body)


class Prepared:
    """One request on its way: ``request`` (the boto3 kwargs), ``id``, ``events``, ``sent_at``."""

    __slots__ = ("_body", "events", "id", "request", "sent_at")

    def __init__(self, request: Mapping[str, Any]) -> None:
        if not isinstance(request, Mapping):
            raise TypeError(f"a PutEvents request must be a dict, got {type(request).__name__}")
        self.request = request
        self.id = request_id(request)
        events = request.get("eventList") or []
        self.events = len(events)
        first = events[0].get("sentAt") if events and isinstance(events[0], Mapping) else None
        self.sent_at = None if first is None else float(epoch_seconds(first))
        self._body: bytes | None = None

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = body_bytes(self.request)
        return self._body

    def __repr__(self) -> str:
        return f"Prepared(id={self.id!r}, events={self.events})"


def prepare(request: Mapping[str, Any]) -> Prepared:
    return Prepared(request)
