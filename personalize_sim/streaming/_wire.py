"""A write request ready to send: its operation, deterministic id, size and JSON body.

The body is what botocore puts on the wire for ``client.put_events(**request)`` (or
``put_items``, ``put_users``, ``put_actions``, ``put_action_interactions``: the operation
is the one whose list the request carries; same members, same values; ``sentAt`` and an
action interaction's ``timestamp`` as epoch seconds with botocore 1.44's microsecond rule),
serialised once with orjson so the fast transport never pays for rest-json serialisation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import _operations as operations
from .. import limits
from .._checks import instance
from .._timestamps import wire_seconds
from ._records import DeadLetter

if TYPE_CHECKING:
    from ._transports import Response

__all__ = ["Prepared", "error_fields", "request_id"]


#: the member holding each record's time, by the list that holds the records
_TIMES = {"eventList": "sentAt", "actionInteractions": "timestamp"}


def request_id(request: Mapping[str, Any], member: str = "eventList") -> str:
    """Deterministic id: a hash of the tracking id, session id and event ids (or the body);
    ``member`` is the list of the request's records."""
    h = hashlib.blake2b(digest_size=10)
    if member != "eventList":  # another operation: its ids never meet PutEvents' ones
        h.update(member.encode() + b"\x1c")
    h.update(str(request.get("trackingId", "")).encode())
    h.update(b"\x1f" + str(request.get("sessionId", "")).encode())
    events = request.get(member) or []
    ids = [e.get("eventId") for e in events if isinstance(e, Mapping)]
    if ids and all(ids):
        for event_id in ids:
            h.update(b"\x1e" + str(event_id).encode())
    else:  # no event ids: fall back on the whole body, which is just as deterministic
        h.update(b"\x1d" + body_bytes(request))
    return h.hexdigest()


def body_bytes(request: Mapping[str, Any], member: str = "eventList") -> bytes:
    """The JSON body of ``put_events(**request)`` (or the operation whose list ``member``
    holds the records), compact, via orjson."""
    import orjson

    body = dict(request)
    events = body.get(member)
    time = _TIMES.get(member)
    if isinstance(events, list) and time is not None:
        out = []
        for event in events:
            if isinstance(event, Mapping) and time in event:
                event = {**event, time: wire_seconds(event[time])}
            out.append(event)
        body[member] = out
    return orjson.dumps(body)


class Prepared:
    """One request on its way: ``request`` (the boto3 kwargs), ``operation``, ``id``,
    ``events`` (the records it carries: events, items, users…), ``sent_at``."""

    __slots__ = ("_body", "events", "id", "member", "operation", "request", "sent_at")

    def __init__(self, request: Mapping[str, Any]) -> None:
        if type(request) is not dict:  # the usual case costs one type check per request
            instance(request, "request", Mapping, "a PutEvents request dict")
        self.request = request
        if "eventList" in request or "sessionId" in request:  # the usual case: one look-up
            self.operation, self.member = "PutEvents", "eventList"
        else:
            self.operation = operations.operation_of(request)
            self.member = operations.request_list(self.operation)
        self.id = request_id(request, self.member)
        events = request.get(self.member) or []
        self.events = len(events)
        time = _TIMES.get(self.member, "sentAt")
        first = events[0].get(time) if events and isinstance(events[0], Mapping) else None
        self.sent_at = None if first is None else float(wire_seconds(first))
        self._body: bytes | None = None

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = body_bytes(self.request, self.member)
        return self._body

    @property
    def path(self) -> str:
        """The HTTP path of its operation (``/events``, ``/items``…), from the model."""
        return limits.operation_limits(self.operation).http_path

    def dead_letter(self, response: Response, reason: str) -> DeadLetter:
        """This request, given up after ``response``."""
        return DeadLetter(
            request_id=self.id, events=self.events, error_code=response.error_code,
            message=response.message, reason=reason, request=dict(self.request),
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"Prepared(id={self.id!r}, events={self.events})"


def error_fields(status: int, error_type: str, raw: bytes) -> tuple[str, str]:
    """Decode an AWS rest-json error as botocore does: header code first, then the body.

    >>> error_fields(400, "ThrottlingException:http://internal.amazon.com/", b'{"message": "slow"}')
    ('ThrottlingException', 'slow')
    >>> error_fields(503, "", b"")
    ('ServiceUnavailable', '')
    """
    import orjson

    code = error_type.split(":", 1)[0].strip()
    message = ""
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        body = {}
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("Message") or "")
        if not code:
            code = str(body.get("__type") or body.get("code") or "").rsplit("#", 1)[-1]
    if not code:
        code = {429: "ThrottlingException", 503: "ServiceUnavailable"}.get(status, f"HTTP{status}")
    return code, message
