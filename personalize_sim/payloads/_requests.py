"""Building the request dicts: events grouped by session and user, cut into lists of ≤ 10.

Events of a session are put in time order and cut into requests wherever the user
changes (a login midway gives requests before and after it) or the list is full;
requests are ordered by their first event's time. Each event dict lists its keys in
the order of botocore's ``Event`` shape, as the wire shows them.

>>> records(("a", "b"), [[1, 2], ["x", "y"]])
[{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
"""

from __future__ import annotations

import functools
import itertools
import linecache
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import limits
from ._events import Events

__all__ = ["EVENT_KEYS", "build_requests", "event_dict", "records"]

# Order of the Event shape's members in botocore's model, as the wire shows them.
EVENT_KEYS = (
    "eventId",
    "eventType",
    "eventValue",
    "itemId",
    "properties",
    "sentAt",
    "recommendationId",
    "impression",
    "metricAttribution",
)
_OPTIONAL_KEYS = (
    "eventValue",
    "itemId",
    "properties",
    "recommendationId",
    "impression",
    "metricAttribution",
)
_REQUEST_KEYS = ("trackingId", "userId", "sessionId", "eventList")


def build_requests(events: Events, rows: np.ndarray, tracking_id: str) -> list[dict[str, Any]]:
    """The PutEvents requests of the events at positions ``rows`` (in frame order)."""
    if not len(rows):
        return []
    sent = events.sent_us[rows]
    s_code = events.factorized("sessionId")[0][rows]
    u_code = events.factorized("userId")[0][rows]  # None -> -1
    order = np.lexsort((np.arange(len(rows)), sent, s_code))
    starts = _request_starts(s_code[order], u_code[order])
    ends = np.append(starts[1:], len(order))
    request_order = np.lexsort((starts, sent[order][starts]))

    event_dicts = _event_dicts(events, rows)[order].tolist()
    first = starts[request_order]
    users = events.fields["userId"][rows][order][first].tolist()
    sessions = events.fields["sessionId"][rows][order][first].tolist()
    lists = map(event_dicts.__getitem__, map(slice, first.tolist(), ends[request_order].tolist()))
    requests = records(_REQUEST_KEYS, [itertools.repeat(tracking_id), users, sessions, lists])
    for i in np.flatnonzero(u_code[order][first] < 0).tolist():
        del requests[i]["userId"]  # anonymous: the API wants no userId at all
    return requests


def _request_starts(session: np.ndarray, user: np.ndarray) -> np.ndarray:
    """Where each request begins in events sorted by session then time.

    A request begins where the session or the user changes, and every
    ``max_events`` events within one run of the same (session, user).
    """
    n = len(session)
    boundary = np.ones(n, dtype=bool)
    boundary[1:] = (session[1:] != session[:-1]) | (user[1:] != user[:-1])
    run_start = np.maximum.accumulate(np.where(boundary, np.arange(n), 0))
    max_events = limits.operation_limits("PutEvents").field("eventList").max or 10
    return np.flatnonzero(boundary | ((np.arange(n) - run_start) % max_events == 0))


def _event_dicts(events: Events, rows: np.ndarray) -> np.ndarray:
    """One dict per event of ``rows`` (an object array), built per presence pattern.

    Pass ``rows`` in frame order: values are then read from memory in the order they
    were made, which is twice as fast as building in session order (cache misses).
    """
    n = len(rows)
    # epoch seconds, exact to the µs: the float personalize_sim._timestamps.wire_seconds gives
    sent = (events.sent_us[rows] / 1e6).astype(object)
    columns: dict[str, np.ndarray] = {"eventId": events.fields["eventId"][rows], "sentAt": sent}
    signature = np.zeros(n, dtype=np.int64)
    for bit, name in enumerate(_OPTIONAL_KEYS):
        values = events.fields[name][rows]
        given = events.present[name][rows]
        if name == "metricAttribution" and given.any():
            values = values.copy()
            values[given] = [{"eventAttributionSource": v} for v in values[given]]
        columns[name] = values
        signature |= given.astype(np.int64) << bit
    columns["eventType"] = events.fields["eventType"][rows]
    patterns = np.unique(signature).tolist()
    out = np.empty(n, dtype=object)
    for sig in patterns:
        keys = tuple(
            k for k in EVENT_KEYS if k not in _OPTIONAL_KEYS or sig >> _OPTIONAL_KEYS.index(k) & 1
        )
        where = slice(None) if len(patterns) == 1 else np.flatnonzero(signature == sig)
        made = records(keys, [columns[k][where].tolist() for k in keys])
        if len(patterns) == 1:
            out[:] = made
        else:
            placed = np.empty(len(made), dtype=object)
            placed[:] = made
            out[where] = placed
    return out


def event_dict(events: Events, i: int) -> dict[str, Any]:
    """The event dict of row ``i`` as a request will carry it (to measure its size)."""
    # an id still to be derived will be 32 hex characters
    event: dict[str, Any] = {"eventId": events.fields["eventId"][i] or "0" * 32}
    for name in EVENT_KEYS[1:]:
        if name == "sentAt":
            event[name] = int(events.sent_us[i]) / 1e6
            continue
        if events.present[name][i]:
            value = events.fields[name][i]
            if name == "metricAttribution":
                value = {"eventAttributionSource": value}
            event[name] = value.item() if isinstance(value, np.generic) else value
    return event


def records(keys: tuple[str, ...], columns: list[Iterable[Any]]) -> list[dict[str, Any]]:
    """One dict per row: ``keys[j]`` → the row's value in ``columns[j]``."""
    return list(map(_dict_maker(keys), *columns))


@functools.cache
def _dict_maker(keys: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """``def record(a0, a1): return {"eventId": a0, "eventType": a1}``, generated once per
    key tuple, its source registered with :mod:`linecache` (tracebacks and debuggers show it).

    A dict display builds a presized dict in one step; ``dict(zip(keys, row))`` grows
    one from an iterator. On a million events the display saves 10-13% of
    ``to_put_events``' CPU time: ``benchmarks/payloads.py`` weighs both in one run and
    says which to keep.
    """
    args = [f"a{i}" for i in range(len(keys))]
    body = ", ".join(f"{k!r}: {a}" for k, a in zip(keys, args, strict=True))
    source = f"def record({', '.join(args)}):\n    return {{{body}}}\n"
    filename = f"<personalize_sim.payloads generated record {next(_GENERATED)}>"
    # as attrs does: a unique name, and no mtime, so linecache.checkcache keeps it
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)
    maker: Callable[..., dict[str, Any]] = namespace["record"]
    return maker


#: numbers the generated functions' file names
_GENERATED = itertools.count(1)
