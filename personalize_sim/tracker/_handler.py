"""The emulator's request → response logic, with no I/O: validation, quota, faults, counters.

:class:`Emulator` turns one HTTP request (method, path, headers, body) into an
:class:`Outcome`: either an error reply in the wire format of AWS, or the rows
to store and a 200. The server only reads sockets, sleeps the added latency,
commits the rows and writes the reply. Checks run in this order:

1. route (``POST /events``, ``/items``, ``/users``; else 404 ``UnknownOperationException``);
2. SigV4 signature, when ``verify_signature`` is on (403/400, see :mod:`.sigv4`);
3. body size and JSON (400 ``InvalidInputException``);
4. the request quota of the tracking id, a token bucket (``ThrottlingException``, 400 or 429);
5. the seeded fault plan (500 ``InternalFailure`` / 503 ``ServiceUnavailable``; added latency);
6. every constraint of botocore's model and the documented rules, via
   :func:`personalize_sim.limits.check_request` (400 ``InvalidInputException``);
7. known tracking ids, when configured (404 ``ResourceNotFoundException``).

Every parsed PutEvents request spends a token (the service counts calls, not
valid calls); every request that is not throttled spends one fault draw.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from personalize_sim import limits
from personalize_sim.clock import Clock, SystemClock

from ._faults import FaultPlan, Latency, TokenBucket

__all__ = [
    "DEFAULT_MAX_TPS",
    "DEFAULT_TRACKING_ID",
    "MAX_BODY_BYTES",
    "Emulator",
    "Outcome",
    "TrackerConfig",
    "error_body",
]

#: PutEvents quota per tracker (Developer Guide, limits: 1000 requests/s per dataset group)
DEFAULT_MAX_TPS = 1000.0
#: the tracking id handed out when any id is accepted
DEFAULT_TRACKING_ID = "local-tracker"
#: The server stops keeping a body past this size. It bounds memory only: a valid
#: PutEvents body is at most 10 events × 10 KB, about 600 KB even when every character
#: is JSON-escaped as \\uXXXX, and PutItems properties (≤ 32000 chars × 10) fit too.
MAX_BODY_BYTES = 2 * 1024 * 1024
OPERATIONS = ("PutEvents", "PutItems", "PutUsers")
_LATENCY_KEYS = ("mean_ms", "p50_ms", "p99_ms", "max_ms")
_ERROR_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.personalize/"
_FIVE_XX = {
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service is unavailable. Please try again."),
}


@dataclass(frozen=True, kw_only=True)
class TrackerConfig:
    """Options of one emulator (the ``personalize-sim serve`` flags, as a value).

    ``tracking_ids=None`` accepts any tracking id; ``max_tps=None`` (or 0) turns the
    quota off; ``latency_ms`` is a :class:`~.faults.Latency` or its spec (``5``,
    ``"2..8"``, ``"exp:5"``, ``"lognormal:5,50"``); ``seed`` drives the fault plan
    and request ids.
    """

    tracking_ids: tuple[str, ...] | None = None
    max_tps: float | None = DEFAULT_MAX_TPS
    throttle_status: int = 400
    latency_ms: Latency | None = None
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    verify_signature: bool = False
    access_key_id: str = "testing"
    secret_access_key: str = field(default="testing", repr=False)
    seed: int | None = None

    def __post_init__(self) -> None:
        ids = self.tracking_ids
        if ids is not None:
            if isinstance(ids, str):
                ids = (ids,)
            ids = tuple(ids)
            bad = [i for i in ids if not isinstance(i, str) or not i]
            if bad or not ids:
                raise ValueError(
                    f"tracking_ids must be non-empty strings (or None to accept any), got {ids!r}"
                )
            object.__setattr__(self, "tracking_ids", ids)
        tps = self.max_tps
        if tps is not None and not (
            isinstance(tps, int | float) and math.isfinite(tps) and tps >= 0
        ):
            raise ValueError(f"max_tps must be requests/s >= 0 (0 = no quota), got {tps!r}")
        object.__setattr__(self, "max_tps", None if not tps else float(tps))
        if self.throttle_status not in (400, 429):
            raise ValueError(f"throttle_status must be 400 or 429, got {self.throttle_status!r}")
        if self.latency_ms is not None:
            object.__setattr__(self, "latency_ms", Latency.parse(self.latency_ms))
        if not (isinstance(self.error_rate, int | float) and 0.0 <= self.error_rate <= 1.0):
            raise ValueError(f"error_rate must be a probability in [0, 1], got {self.error_rate!r}")
        bad_statuses = [s for s in self.error_statuses if s not in _FIVE_XX]
        if bad_statuses or not self.error_statuses:
            raise ValueError(
                f"error_statuses must be among {sorted(_FIVE_XX)}, got {self.error_statuses!r}"
            )
        if self.seed is not None and not isinstance(self.seed, int):
            raise ValueError(f"seed must be an int or None, got {self.seed!r}")

    @property
    def tracking_id(self) -> str:
        """The tracking id clients should use: the first known one, or a default."""
        return self.tracking_ids[0] if self.tracking_ids else DEFAULT_TRACKING_ID


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

    @property
    def body(self) -> bytes:
        return b"" if self.error_code is None else error_body(self.message or "")

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(b"x-amzn-requestid", self.request_id.encode())]
        if self.error_code is not None:
            headers.append((b"x-amzn-errortype", (self.error_code + _ERROR_NAMESPACE).encode()))
        headers.append((b"content-type", b"application/json"))
        return headers


def error_body(message: str) -> bytes:
    import orjson

    return orjson.dumps({"message": message})


# ---------------------------------------------------------------------------------------------
# Validation: a fast "is it certainly valid?" test compiled from the same FieldLimits that
# check_request walks; anything it does not accept goes through check_request, which is the
# single source of truth for both the verdict and the message.


def _compile(ops: limits.OperationLimits) -> Callable[[Any], bool]:
    """Generate straight-line Python that checks every FieldLimit of ``ops`` (no calls per field).

    The code is written from the model the same way :func:`limits.check_request`
    walks it; it only answers "certainly valid?", so any doubt costs a slow check,
    never a wrong verdict.
    """
    lines = ["def check(v0):"]
    namespace: dict[str, Any] = {"isfinite": math.isfinite}
    counter = iter(range(1_000_000))

    def emit(indent: int, text: str) -> None:
        lines.append("    " * indent + text)

    def value(path: str, var: str, indent: int) -> None:
        spec = ops.fields[path]
        kind = spec.type
        low = spec.min if spec.min is not None else 0
        high = spec.max
        size = f"{low} <= len({var})" + (f" <= {high}" if high is not None else "")
        if kind == "string":
            emit(indent, f"if type({var}) is not str or not {size}: return False")
            if spec.regex is not None:
                name = f"search{next(counter)}"
                namespace[name] = spec.regex.search
                emit(indent, f"if {name}({var}) is None: return False")
        elif kind == "list":
            emit(indent, f"if type({var}) is not list or not {size}: return False")
            item = f"v{next(counter)}"
            emit(indent, f"for {item} in {var}:")
            emit(indent + 1, f"if {item} is None: return False")
            value(path + "[]", item, indent + 1)
        elif kind == "structure":
            structure(path, var, indent)
        elif kind in ("float", "double", "timestamp"):
            emit(indent, f"if type({var}) is not float and type({var}) is not int: return False")
            emit(indent, f"if not isfinite({var}): return False")
        else:  # a kind this fast path does not know: let check_request decide
            emit(indent, "return False")

    def structure(path: str, var: str, indent: int) -> None:
        members = ops.members[path]
        allowed = f"allowed{next(counter)}"
        namespace[allowed] = frozenset(members)
        emit(indent, f"if type({var}) is not dict or not {allowed}.issuperset({var}): return False")
        for member in members:
            child = f"{path}.{member}" if path else member
            item = f"v{next(counter)}"
            emit(indent, f"{item} = {var}.get({member!r})")
            if ops.fields[child].required:
                emit(indent, f"if {item} is None: return False")
                value(child, item, indent)
            else:
                emit(indent, f"if {item} is not None:")
                value(child, item, indent + 1)

    structure("", "v0", 1)
    emit(1, "return True")
    exec(compile("\n".join(lines), f"<fast check of {ops.name}>", "exec"), namespace)
    return namespace["check"]


class _Validator:
    def __init__(self, operation: str) -> None:
        self.operation = operation
        self._fast = _compile(limits.operation_limits(operation))

    def __call__(
        self, request: Any, body_size: int = limits.EVENT_MAX_BYTES
    ) -> list[limits.Violation]:
        if not isinstance(request, dict):
            return [limits.Violation("", "type", request, "JSON object")]
        if self._fast(request):
            if self.operation != "PutEvents":
                return []
            # No event can pass 10 KB when the whole body is smaller: compact JSON of a decoded
            # event is never longer than its text in the body, except that its two numbers
            # (eventValue, sentAt) may print longer ("1E5" -> "100000.0"), by < 32 bytes each.
            sized = body_size + 64 <= limits.EVENT_MAX_BYTES
            events = request["eventList"]
            if all(_event_rules_pass(event, sized) for event in events):
                return []
        return limits.check_request(self.operation, request)


def _event_rules_pass(event: dict[str, Any], small: bool = False) -> bool:
    """True when an event certainly passes the documented rules of ``limits``.

    orjson accepts a subset of what ``json.loads`` accepts (no NaN, no lone
    surrogates) and decodes it to the same dict, so a pass here is a pass there;
    anything else is left to :func:`limits.check_request` for the verdict.
    """
    import orjson

    properties = event.get("properties")
    if properties is not None:
        try:
            decoded = orjson.loads(properties)
        except orjson.JSONDecodeError:
            return False
        if type(decoded) is not dict:
            return False
        for key in decoded:
            if key.lower() in _RESERVED:
                return False
    return small or limits.event_size(event) <= limits.EVENT_MAX_BYTES


_RESERVED = limits.RESERVED_PROPERTY_KEYS


def violations_message(violations: Sequence[limits.Violation]) -> str:
    """The service's style: ``2 validation errors detected: Value … at '…' failed …; …``."""
    n = len(violations)
    plural = "s" if n != 1 else ""
    return f"{n} validation error{plural} detected: " + "; ".join(v.message for v in violations)


def _sent_at(value: Any) -> float | None:
    """Epoch seconds from a JSON number (int or fractional) or a numeric/ISO-8601 string."""
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        return stamp.timestamp()
    return None


# ---------------------------------------------------------------------------------------------


class Emulator:
    """The sans-I/O core of the local tracker: config, quota buckets, fault plan and counters."""

    def __init__(self, config: TrackerConfig | None = None, *, clock: Clock | None = None):
        self.config = config or TrackerConfig()
        self.clock = clock or SystemClock()
        ids = self.config.tracking_ids
        self._known = None if ids is None else frozenset(ids)
        self._buckets: dict[str, TokenBucket] = {}
        self._faults = FaultPlan(
            error_rate=self.config.error_rate,
            latency=self.config.latency_ms,
            error_statuses=self.config.error_statuses,
            rng=self.config.seed,
        )
        # request ids are seeded too, so a run's ids (and generated event ids) replay
        self._ids = random.Random(self.config.seed)
        self._validators = {op: _Validator(op) for op in OPERATIONS}
        self._routes = {limits.operation_limits(op).http_path: op for op in OPERATIONS}
        self._keys = {self.config.access_key_id: self.config.secret_access_key}
        self.counters: dict[str, int] = {"throttled": 0, "accepted_events": 0, "duplicates": 0}
        for op in OPERATIONS:
            for suffix in ("Requests", "4xxErrors", "5xxErrors"):
                self.counters[op + suffix] = 0
        self.counters["accepted_items"] = self.counters["accepted_users"] = 0
        self._latency_us: Any = None

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
        if self.config.verify_signature:
            from ._sigv4 import verify

            problem = verify(method, path, query, headers, body, self._keys, self.clock.wall())
            if problem is not None:
                return self.fail(outcome, problem.status, problem.code, problem.message)
        size = len(body) if body_size is None else body_size
        if size > MAX_BODY_BYTES:
            return self.fail(
                outcome,
                400,
                "InvalidInputException",
                f"Request body of {size} bytes is larger than the maximum "
                f"of {MAX_BODY_BYTES} bytes",
            )
        import orjson

        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return self.fail(
                outcome, 400, "InvalidInputException", f"Request body is not valid JSON: {exc}"
            )
        if operation == "PutEvents":
            tracking_id = request.get("trackingId") if isinstance(request, dict) else None
            key = tracking_id if isinstance(tracking_id, str) else ""
            if not self._take_token(key):
                self.counters["throttled"] += 1
                return self.fail(
                    outcome, self.config.throttle_status, "ThrottlingException", "Rate exceeded"
                )
        fault = self._faults.draw()
        outcome.latency_s = fault.latency_s
        if fault.status is not None:
            code, message = _FIVE_XX[fault.status]
            return self.fail(outcome, fault.status, code, message)
        violations = self._validators[operation](request, size)
        if violations:
            return self.fail(outcome, 400, "InvalidInputException", violations_message(violations))
        if operation == "PutEvents":
            if self._known is not None and request["trackingId"] not in self._known:
                return self.fail(
                    outcome,
                    404,
                    "ResourceNotFoundException",
                    f"Could not find an event tracker with tracking id {request['trackingId']!r}",
                )
            return self._events(outcome, request)
        return self._records(outcome, operation, request)

    def _take_token(self, key: str) -> bool:
        if self.config.max_tps is None:
            return True
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.config.max_tps, clock=self.clock)
        return bucket.take()

    def fail(self, outcome: Outcome, status: int, code: str, message: str) -> Outcome:
        """Turn ``outcome`` into an error answer and count it (4xx or 5xx of its operation)."""
        outcome.status, outcome.error_code, outcome.message = status, code, message
        if outcome.operation is not None:
            kind = "5xxErrors" if status >= 500 else "4xxErrors"
            self.counters[outcome.operation + kind] += 1
        return outcome

    def _events(self, outcome: Outcome, request: dict[str, Any]) -> Outcome:
        import orjson

        received = self.clock.wall()
        tracking_id, session_id = request["trackingId"], request["sessionId"]
        user_id = request.get("userId")
        rows = []
        for i, event in enumerate(request["eventList"]):
            sent_at = _sent_at(event["sentAt"])
            if sent_at is None or not math.isfinite(sent_at):
                return self.fail(
                    outcome,
                    400,
                    "InvalidInputException",
                    f"Value {event['sentAt']!r} at 'eventList[{i}].sentAt' failed to satisfy "
                    "constraint: Member must be a timestamp in epoch seconds",
                )
            impression = event.get("impression")
            attribution = event.get("metricAttribution")
            rows.append(
                (
                    tracking_id,
                    user_id,
                    session_id,
                    # Personalize makes up an id when none is given; ours derive from the request id
                    event.get("eventId") or f"{outcome.request_id}-{i}",
                    event["eventType"],
                    event.get("eventValue"),
                    event.get("itemId"),
                    event.get("properties"),
                    sent_at,
                    event.get("recommendationId"),
                    None if impression is None else orjson.dumps(impression).decode(),
                    None if attribution is None else attribution.get("eventAttributionSource"),
                    received,
                )
            )
        outcome.table, outcome.rows = "events", rows
        return outcome

    def _records(self, outcome: Outcome, operation: str, request: dict[str, Any]) -> Outcome:
        received = self.clock.wall()
        member, key, table = {
            "PutItems": ("items", "itemId", "items"),
            "PutUsers": ("users", "userId", "users"),
        }[operation]
        outcome.table = table
        outcome.rows = [
            (request["datasetArn"], record[key], record.get("properties"), received)
            for record in request[member]
        ]
        return outcome

    def finish(self, outcome: Outcome, stored: int) -> None:
        """Count an answered request: ``stored`` rows of ``outcome.rows`` were new."""
        if outcome.operation == "PutEvents":
            if outcome.error_code is None:
                self.counters["accepted_events"] += stored
                self.counters["duplicates"] += len(outcome.rows) - stored
            elapsed_us = max(1, int((time.perf_counter() - outcome.received) * 1e6))
            self._histogram().record_value(min(elapsed_us, 3_600_000_000))
        elif outcome.operation is not None and outcome.error_code is None:
            self.counters["accepted_" + (outcome.table or "")] += len(outcome.rows)

    def _histogram(self) -> Any:
        if self._latency_us is None:
            from hdrh.histogram import HdrHistogram

            self._latency_us = HdrHistogram(1, 3_600_000_000, 3)
        return self._latency_us

    def stats(self) -> dict[str, Any]:
        """Counters named like the tracker's CloudWatch metrics, plus PutEvents latency in ms.

        ``PutEventsRequests`` counts every call; throttled answers (400 or 429) count in
        ``PutEvents4xxErrors`` and in ``throttled``; injected 500/503 in ``PutEvents5xxErrors``;
        ``accepted_events`` are events newly stored, ``duplicates`` accepted but not stored.
        """
        result: dict[str, Any] = dict(self.counters)
        hist = self._latency_us
        if hist is None or hist.get_total_count() == 0:
            result["latency"] = {"count": 0} | dict.fromkeys(_LATENCY_KEYS)
        else:
            result["latency"] = {
                "count": hist.get_total_count(),
                "mean_ms": hist.get_mean_value() / 1000,
                "p50_ms": hist.get_value_at_percentile(50) / 1000,
                "p99_ms": hist.get_value_at_percentile(99) / 1000,
                "max_ms": hist.get_max_value() / 1000,
            }
        return result
