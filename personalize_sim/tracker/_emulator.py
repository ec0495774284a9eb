"""The emulator's request → response logic, with no I/O: routes, quota, faults, counters.

:class:`Emulator` turns one HTTP request (method, path, headers, body) into an
:class:`Outcome`: either an error reply in the wire format of AWS, or the rows
to store and a 200. The server only reads sockets, sleeps the added latency,
commits the rows and writes the reply. Checks run in this order:

1. route (``POST /events``, ``/items``, ``/users``, ``/actions``, ``/action-interactions``,
   and the runtime API's ``/recommendations``, ``/personalize-ranking`` (:mod:`._runtime`);
   else 404 ``UnknownOperationException``);
2. body size (413 ``RequestEntityTooLargeException``: the server has not read such a body);
3. SigV4 signature, when ``verify_signature`` is on (403/400, see :mod:`._sigv4`);
4. JSON (400 ``InvalidInputException``);
5. the request quota, a token bucket (``ThrottlingException``, 400 or 429): PutEvents and
   PutActionInteractions each have their own per tracking id (``max_tps``), PutItems,
   PutUsers and PutActions their own per dataset ARN (``dataset_max_tps``); buckets exist
   only for configured ids, or for the :data:`MAX_TRACKED_IDS` last used; a runtime request
   spends a token of its campaign or recommender (``runtime_max_tps``);
6. the seeded fault plan (500 ``InternalFailure`` / 503 ``ServiceUnavailable``; added latency);
7. every constraint of botocore's model, the documented rules and what the store must be able
   to read back (:mod:`._validator`; 400 ``InvalidInputException`` in AWS's words,
   :mod:`._messages`);
8. known tracking ids (PutEvents, PutActionInteractions), when configured (404
   ``ResourceNotFoundException``);
9. while building rows (:mod:`._rows`): ``sentAt`` a time botocore can hold,
   ``eventValue`` as the API's float.

A request is decided on its own, before it joins a group commit, so a bad request can
never fail its neighbours; an unexpected error is a 500 ``InternalFailure`` naming it,
never an escaped exception. Every parsed PutEvents request spends a token (the service
counts calls, not valid calls); every request that is not throttled spends one fault draw.

>>> import orjson
>>> emulator = Emulator(TrackerConfig(rng=0))
>>> body = {"trackingId": "t", "sessionId": "s",
...         "eventList": [{"eventId": "e1", "eventType": "click", "sentAt": 1.5}]}
>>> outcome = emulator.handle("POST", "/events", {}, orjson.dumps(body))
>>> outcome.status, outcome.table, outcome.rows[0][3:5]
(200, 'events', ('e1', 'click'))
>>> emulator.handle("POST", "/events", {}, b"{}").error_code
'InvalidInputException'
"""

from __future__ import annotations

import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from personalize_sim import _operations as operations
from personalize_sim import limits
from personalize_sim._latency import LatencyHistogram
from personalize_sim.clock import Clock, SystemClock

from ._bodies import (
    INVALID,
    MAX_BODY_BYTES,
    RefusedError,
    body_too_large,
    error_body,
    parse_body,
    unicode_violations,
)
from ._config import TrackerConfig
from ._faults import FaultPlan, TokenBucket
from ._messages import aws_message
from ._rows import action_interaction_rows, event_rows, record_rows
from ._runtime import RUNTIME_OPERATIONS, RUNTIME_SERVICE, RuntimeRefusedError, runtime_of
from ._validator import Validator

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_TRACKED_IDS",
    "OPERATIONS",
    "Emulator",
    "Outcome",
    "error_body",
]

#: quota buckets kept when any tracking id is accepted; the least recently used one goes
#: first (it comes back full), so a client inventing ids cannot grow the emulator's memory
MAX_TRACKED_IDS = 10_000
OPERATIONS = ("PutEvents", "PutActionInteractions", *operations.RECORD_OPERATIONS)
#: the operations of a tracker (a tracking id, its own quota, duplicates counted)
TRACKED = {"PutEvents": "duplicates", "PutActionInteractions": "action_interaction_duplicates"}
#: event ids remembered so that a stored event teaches the runtime's models once
MAX_LEARNED_IDS = 100_000
_ERROR_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.personalize/"
_FIVE_XX = {
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service is unavailable. Please try again."),
}


@dataclass
class Outcome:
    """What to answer to one request, and what to store before answering."""

    operation: str | None
    request_id: str
    status: int = 200
    error_code: str | None = None
    message: str | None = None
    latency_s: float = 0.0
    table: str | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    received: float = 0.0  # perf_counter at arrival, for the latency counter
    payload: bytes = b""  # the JSON answer of a runtime request (PutEvents answers nothing)

    @property
    def body(self) -> bytes:
        return self.payload if self.error_code is None else error_body(self.message or "")

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(b"x-amzn-requestid", self.request_id.encode())]
        if self.error_code is not None:
            headers.append((b"x-amzn-errortype", (self.error_code + _ERROR_NAMESPACE).encode()))
        headers.append((b"content-type", b"application/json"))
        return headers


class Emulator:
    """The sans-I/O core of the local tracker: config, quota buckets, fault plan and counters."""

    def __init__(self, config: TrackerConfig | None = None, *, clock: Clock | None = None):
        self.config = config or TrackerConfig()
        self.clock = clock or SystemClock()
        ids = self.config.tracking_ids
        self._known = None if ids is None else frozenset(ids)
        self._buckets: OrderedDict[tuple[str, str], TokenBucket] = OrderedDict()
        self._faults = FaultPlan(
            error_rate=self.config.error_rate,
            latency=self.config.latency_ms,
            error_statuses=self.config.error_statuses,
            rng=self.config.rng,
        )
        # request ids are seeded too, so a run's ids (and generated event ids) replay
        self._ids = random.Random(self.config.rng)
        self._validators = {op: Validator(op) for op in OPERATIONS}
        self._validators |= {op: Validator(op, RUNTIME_SERVICE) for op in RUNTIME_OPERATIONS}
        self._routes = {limits.operation_limits(op).http_path: op for op in OPERATIONS}
        self._routes |= {
            limits.operation_limits(op, RUNTIME_SERVICE).http_path: op for op in RUNTIME_OPERATIONS
        }
        self.runtime = runtime_of(self.config)
        self._runtime_buckets = {
            arn: TokenBucket(self.config.runtime_max_tps, clock=self.clock)
            for arn in self.runtime.specs
            if self.config.runtime_max_tps is not None
        }
        self._learned: OrderedDict[tuple[str, str], None] = OrderedDict()  # event ids, bounded
        self._keys = {self.config.access_key_id: self.config.secret_access_key}
        self.counters: dict[str, int] = {"throttled": 0, "accepted_events": 0, "duplicates": 0}
        for op in OPERATIONS + RUNTIME_OPERATIONS:
            for suffix in ("Requests", "4xxErrors", "5xxErrors"):
                self.counters[op + suffix] = 0
        for table in ("items", "users", "actions", "action_interactions"):
            self.counters["accepted_" + table] = 0
        self.counters["action_interaction_duplicates"] = 0
        self.counters["store_failures"] = 0  # requests answered 500 because the store failed
        self.counters["issued_recommendations"] = 0
        self.latency = LatencyHistogram()  # of PutEvents answers, arrival to reply
        self.runtime_latency = LatencyHistogram()  # of runtime answers, arrival to reply

    # -- the request path -----------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        query: str = "",
        body_size: int | None = None,
    ) -> Outcome:
        """Decide the answer to one request (``headers`` with lower-case names).

        ``body_size`` is the full size when the server kept only a prefix of a huge body.
        """
        outcome = Outcome(None, str(uuid.UUID(int=self._ids.getrandbits(128), version=4)))
        outcome.received = time.perf_counter()
        operation = self._routes.get(path) if method == "POST" else None
        if operation is None:
            return self.fail(
                outcome, 404, "UnknownOperationException", f"No operation at {method} {path}"
            )
        outcome.operation = operation
        self.counters[operation + "Requests"] += 1
        size = len(body) if body_size is None else body_size
        try:
            if size > MAX_BODY_BYTES:  # first: the server has not read such a body
                raise RefusedError(413, "RequestEntityTooLargeException", body_too_large(size))
            if self.config.verify_signature:
                self._check_signature(method, path, query, headers, body)
            request, strict = parse_body(body)
            if operation in RUNTIME_OPERATIONS:
                self._runtime_request(outcome, operation, request, strict)
                return outcome
            self._take_token(operation, request)
            self._draw_fault(outcome)
            violations = [] if strict else unicode_violations(request)
            violations = violations or self._validators[operation](request, size)
            if violations:
                ops = limits.operation_limits(operation)
                raise RefusedError(400, INVALID, aws_message(violations, ops, request))
            if operation in TRACKED:
                self._check_tracking_id(request["trackingId"])
            if operation == "PutEvents":
                received = self.clock.wall()
                outcome.table = "events"
                outcome.rows = event_rows(request, outcome.request_id, received=received)
            elif operation == "PutActionInteractions":
                outcome.table = "action_interactions"
                outcome.rows = action_interaction_rows(
                    request, outcome.request_id, received=self.clock.wall()
                )
            else:
                outcome.table, outcome.rows = record_rows(
                    operation, request, received=self.clock.wall()
                )
        except (RefusedError, RuntimeRefusedError) as refused:
            return self.fail(outcome, refused.status, refused.code, refused.message)
        except Exception as exc:  # a bug: answer it as AWS would, and keep serving
            message = f"We encountered an internal error ({type(exc).__name__}: {exc})"
            return self.fail(outcome, 500, "InternalFailure", message)
        return outcome

    def _runtime_request(
        self, outcome: Outcome, operation: str, request: Any, strict: bool
    ) -> None:
        """GetRecommendations / GetPersonalizedRanking: quota, faults, model limits, answer."""
        import orjson

        bucket = self._runtime_buckets.get(self.runtime.arn_of(request) or "")
        if bucket is not None and not bucket.take():
            self.counters["throttled"] += 1
            raise RefusedError(self.config.throttle_status, "ThrottlingException", "Rate exceeded")
        self._draw_fault(outcome)
        violations = [] if strict else unicode_violations(request)
        violations = violations or self._validators[operation](request)
        if violations:
            ops = limits.operation_limits(operation, RUNTIME_SERVICE)
            raise RefusedError(400, INVALID, aws_message(violations, ops, request))
        answer, row = self.runtime.answer(operation, request, issued_at=self.clock.wall())
        outcome.payload = orjson.dumps(answer)
        outcome.table, outcome.rows = "recommendations", [row]

    def _check_signature(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> None:
        from ._sigv4 import verify

        problem = verify(method, path, query, headers, body, self._keys, self.clock.wall())
        if problem is not None:
            raise RefusedError(problem.status, problem.code, problem.message)

    def _take_token(self, operation: str, request: Any) -> None:
        """Spend a token of the operation's quota: per tracking id, or per dataset ARN."""
        tracked = operation in TRACKED
        rate = self.config.max_tps if tracked else self.config.dataset_max_tps
        if rate is None:
            return
        member = request.get("trackingId" if tracked else "datasetArn") if isinstance(
            request, dict
        ) else None  # fmt: skip
        name = member if isinstance(member, str) else ""
        if tracked and self._known is not None and name not in self._known:
            return  # refused later (404 or 400): no state for ids nobody configured
        key = (operation, name)
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = TokenBucket(rate, clock=self.clock)
            if len(buckets) > MAX_TRACKED_IDS:
                buckets.popitem(last=False)
        elif not tracked or self._known is None:
            buckets.move_to_end(key)
        if not bucket.take():
            self.counters["throttled"] += 1
            raise RefusedError(self.config.throttle_status, "ThrottlingException", "Rate exceeded")

    def _draw_fault(self, outcome: Outcome) -> None:
        fault = self._faults.draw()
        outcome.latency_s = fault.latency_s
        if fault.status is not None:
            raise RefusedError(fault.status, *_FIVE_XX[fault.status])

    def _check_tracking_id(self, tracking_id: str) -> None:
        if self._known is not None and tracking_id not in self._known:
            raise RefusedError(
                404,
                "ResourceNotFoundException",
                f"Could not find an event tracker with tracking id '{tracking_id}'",
            )

    def fail(self, outcome: Outcome, status: int, code: str, message: str) -> Outcome:
        """Turn ``outcome`` into an error answer and count it (4xx or 5xx of its operation)."""
        outcome.status, outcome.error_code, outcome.message = status, code, message
        if outcome.operation is not None:
            kind = "5xxErrors" if status >= 500 else "4xxErrors"
            self.counters[outcome.operation + kind] += 1
        return outcome

    # -- after the answer -----------------------------------------------------------------

    def finish(self, outcome: Outcome, stored: int) -> None:
        """Count an answered request: ``stored`` rows of ``outcome.rows`` were new."""
        if outcome.operation in TRACKED:
            if outcome.error_code is None:
                self.counters["accepted_" + (outcome.table or "")] += stored
                self.counters[TRACKED[outcome.operation]] += len(outcome.rows) - stored
            if outcome.operation == "PutEvents":
                if outcome.error_code is None:
                    self._learn(outcome.rows)
                self.latency.record(time.perf_counter() - outcome.received)
            elif outcome.error_code is None:  # each stored interaction once, as events
                new = [row for row in outcome.rows if self._first((row[0], "action:" + row[3]))]
                self.runtime.record("action_interactions", new)
        elif outcome.operation in RUNTIME_OPERATIONS:
            if outcome.error_code is None:
                self.counters["issued_recommendations"] += 1
            self.runtime_latency.record(time.perf_counter() - outcome.received)
        elif outcome.operation is not None and outcome.error_code is None:
            self.counters["accepted_" + (outcome.table or "")] += len(outcome.rows)
            self.runtime.record(outcome.table or "", outcome.rows)

    def _learn(self, rows: list[tuple[Any, ...]]) -> None:
        """Feed stored events to the runtime's models (see :meth:`_learn_events`)."""
        if self.runtime.specs:  # tracking id, event id, user id, item id, sent at, event type
            self._learn_events((row[0], row[3], row[1], row[6], row[8], row[4]) for row in rows)

    def _learn_events(self, events: Iterable[tuple[str, str, Any, Any, float, str]]) -> int:
        """Teach the models and the filters each (tracking id, event id) once: a retried
        request's copies, stored once, are learnt once. Returns how many were new."""
        observe, recent, learnt = self.runtime.models.observe, self.runtime.data.interactions, 0
        for tracking_id, event_id, user_id, item_id, at, event_type in events:
            if not self._first((tracking_id, event_id)):
                continue
            observe(user_id, item_id, at)
            recent.add(user_id, event_type, item_id)
            learnt += 1
        return learnt

    def _first(self, key: tuple[str, str]) -> bool:
        """True the first time an event id is seen (remembered, bounded: MAX_LEARNED_IDS)."""
        if key in self._learned:
            return False
        self._learned[key] = None
        if len(self._learned) > MAX_LEARNED_IDS:
            self._learned.popitem(last=False)
        return True

    # -- a restart on a store that holds rows already ---------------------------------------

    def resume(
        self,
        *,
        generation: int,
        records: Iterable[tuple[str, list[tuple[Any, ...]]]] = (),
        events: Iterable[tuple[str, str, Any, Any, float, str]] = (),
    ) -> int:
        """Carry on where an earlier run on the same store stopped; returns the events relearnt.

        ``generation`` counts the rows the store holds (0 for a new one). It reseeds the
        request and recommendation ids: on a new store a seeded emulator replays its ids
        exactly, and on a used one it draws them from a stream of that generation, so
        neither its recommendation ids nor the event ids it makes up from request ids can
        repeat stored ones. ``records`` ((table, rows) of items, users, actions and action
        interactions) and ``events`` (tracking id, event id, user id, item id, sentAt, event
        type), in arrival order, teach the runtime's models and filters again.
        """
        if generation:
            rng = self.config.rng
            self._ids = random.Random(None if rng is None else f"{rng}/after-{generation}")
            self.runtime.reseed(generation)
        if not self.runtime.specs:
            return 0
        for table, rows in records:
            self.runtime.record(table, rows)
        return self._learn_events(events)

    def stats(self) -> dict[str, Any]:
        """Counters named like the tracker's CloudWatch metrics, plus PutEvents latency.

        ``PutEventsRequests`` counts every call; throttled answers (400 or 429) count in
        ``PutEvents4xxErrors`` and in ``throttled``; injected 500/503 in ``PutEvents5xxErrors``;
        ``accepted_events`` are events newly stored, ``duplicates`` accepted but not stored;
        ``latency`` is :meth:`LatencySummary.to_dict` (``count, mean, p50, p90, p99, p99.9,
        max``, in ms, None while there is none) of PutEvents answers, arrival to reply;
        ``runtime_latency`` the same of GetRecommendations / GetPersonalizedRanking answers.
        """
        latency, runtime = self.latency.summary(), self.runtime_latency.summary()
        return {**self.counters, "latency": latency.to_dict(), "runtime_latency": runtime.to_dict()}
