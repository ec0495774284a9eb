"""``open_stream()``: a stream of events to a tracker at a controlled rate, ready to start."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..clock import Clock, SystemClock, VirtualClock
from ..errors import ConfigError, PayloadError
from ._checkpoint import Checkpoint
from ._handle import Engine, Listener, StreamHandle
from ._log import DeliveryLog
from ._retry import RetryPolicy
from ._schedules import Schedule, from_rate
from ._sender import Sender
from ._targets import Target, make_target
from ._wire import Prepared

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["new_event_loop", "open_stream"]

logger = logging.getLogger("personalize_sim.streaming")


def open_stream(
    source: Any,
    *,
    rate: float | Schedule,
    tracking_id: str | None = None,
    target: Any = None,
    per: Literal["requests", "events"] = "requests",
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    retry: RetryPolicy | None = None,
    max_in_flight: int = 64,
    max_lag: float = 1.0,
    checkpoint: str | None = None,
    processes: int = 1,
    listeners: Sequence[Listener] = (),
    invalid: Literal["raise", "skip"] = "raise",
    properties: Sequence[str] | None = None,
    time_unit: Literal["s", "ms", "us", "ns"] | None = None,
    clock: Clock | None = None,
    rng: Any = None,
    max_records: int | None = None,
) -> StreamHandle:
    """A stream of ``source`` to a tracker on a rate schedule: a :class:`StreamHandle`, not started.

    ``source`` is an events frame, a list of PutEvents requests (``put_events`` kwargs), or an
    iterable of frames/requests (read lazily, so memory stays bounded). ``rate`` is a number
    (``per`` second, requests by default) or a schedule: ``constant``, ``ramp``, ``steps``,
    ``poisson``, ``replay``, ``rate_function`` from :mod:`personalize_sim.streaming`.

    ``target`` is a boto3 ``personalize-events`` client, ``"boto3"`` (default session; with
    ``endpoint_url``/``region``/``profile``), ``"fast"`` (signed aiohttp transport), a
    :class:`~personalize_sim.streaming.targets.Target` (``JsonlTarget(path)`` for a dry run,
    ``MemoryTarget()``). Frames are validated first: with ``invalid="raise"`` (default) any
    bad row raises :class:`~personalize_sim.PayloadError` and nothing is sent; with
    ``"skip"`` bad rows are reported in ``handle.problems`` and never sent. Frames from an
    iterable are checked one at a time, each before any of its rows is sent; a bad frame
    stops the stream there with ``invalid="raise"`` (``wait()`` raises the PayloadError).

    ``checkpoint=PATH`` records delivered requests; running again with the same path skips
    them. ``processes=N`` shares the rate across N processes (each with its own transport).
    Attach listeners (a dashboard) before the first send, then call ``handle.start()``;
    :func:`personalize_sim.stream` does all of it in one call.

    >>> from personalize_sim.streaming import MemoryTarget
    >>> events = lambda i: [{"eventId": str(i), "eventType": "View", "sentAt": 1_700_000_000 + i}]
    >>> requests = [{"trackingId": "t", "sessionId": "s", "eventList": events(i)} for i in range(3)]
    >>> handle = open_stream(requests, rate=1000, target=MemoryTarget()).start()
    >>> _ = handle.wait()
    >>> handle.summary["delivered_events"], handle.summary["balanced"]
    (3, True)
    """
    schedule = from_rate(rate, per=per)
    retry = RetryPolicy() if retry is None else retry
    if not isinstance(retry, RetryPolicy):
        raise TypeError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
    if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int) or max_in_flight < 1:
        raise ConfigError("max_in_flight", max_in_flight, "must be an int >= 1")
    if not (isinstance(max_lag, int | float) and max_lag > 0):
        raise ConfigError("max_lag", max_lag, "must be a number of seconds > 0")
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ConfigError("processes", processes, "must be an int >= 1")
    if invalid not in ("raise", "skip"):
        raise ConfigError("invalid", invalid, "must be 'raise' or 'skip'")
    clock = SystemClock() if clock is None else clock
    target_obj = make_target(target, endpoint_url=endpoint_url, region=region, profile=profile)

    log = DeliveryLog(unit=schedule.per, max_records=max_records)
    log.target_rate = schedule.initial_rate
    requests, problems = _requests(source, tracking_id, properties, time_unit, invalid, log)
    cp = None if checkpoint is None else Checkpoint(checkpoint)
    prepared: Iterator[Prepared] | list[Prepared] = _prepared(requests, cp, log)
    counted = isinstance(requests, list)
    if counted:  # a sized source: every request is input (and pending) from the start
        prepared = list(prepared)
        log.add_input(len(prepared), sum(p.events for p in prepared))

    if processes > 1:
        if isinstance(clock, VirtualClock):
            raise ConfigError("clock", clock, "processes=N runs on the real clock only")
        if not isinstance(requests, list):
            raise ConfigError(
                "source", type(source).__name__,
                "processes=N needs a frame or a list of requests (an iterator cannot be split)",
            )  # fmt: skip
        from ._workers import ProcessEngine

        engine: Engine = ProcessEngine(
            list(prepared), target_obj, schedule, processes=processes, retry=retry, rng=rng,
            max_in_flight=max_in_flight, max_lag=max_lag, checkpoint=cp, log=log,
        )  # fmt: skip
    else:
        engine = LocalEngine(
            iter(prepared), target_obj, schedule, clock=clock, retry=retry, rng=rng,
            max_in_flight=max_in_flight, max_lag=max_lag, checkpoint=cp, log=log,
            count_input=not counted,
        )  # fmt: skip
    handle = StreamHandle(engine, log, listeners=tuple(listeners), problems=problems)
    log.started_at = clock.wall()
    return handle


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (cheaper per request on the fast path), else asyncio's own."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LocalEngine(Engine):
    """One :class:`Sender` on the handle's thread, in a fresh event loop."""

    def __init__(
        self,
        prepared: Iterator[Prepared],
        target: Target,
        schedule: Schedule,
        *,
        clock: Clock,
        retry: RetryPolicy,
        rng: Any,
        max_in_flight: int,
        max_lag: float,
        checkpoint: Checkpoint | None,
        log: DeliveryLog,
        count_input: bool = True,
    ) -> None:
        self.target = target
        self.checkpoint = checkpoint
        self.loop = new_event_loop()
        self._thread_id: int | None = None
        self._log = log
        self._handle: StreamHandle | None = None
        self.sender = Sender(
            prepared, target, schedule, emit=self._emit,
            on_input=(lambda p: log.add_input(1, p.events)) if count_input else (lambda p: None),
            clock=clock, retry=retry, rng=rng,
            max_in_flight=max_in_flight, max_lag=max_lag, checkpoint=checkpoint,
        )  # fmt: skip

    def _emit(self, record: Any) -> None:
        assert self._handle is not None
        self._handle.emit(record)

    def run(self, handle: StreamHandle) -> None:
        self._handle = handle
        self._thread_id = threading.get_ident()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _main(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.open()
        try:
            await self.target.open()
            try:
                await self.sender.run()
            finally:
                await self.target.close()
        finally:
            if self.checkpoint is not None:
                self.checkpoint.close()

    def control(self, name: str, *args: Any) -> None:
        action = getattr(self.sender, name)
        if threading.get_ident() == self._thread_id:
            action(*args)  # from a listener: apply now, deterministically
            return
        # a closed loop means the stream is over: there is nothing left to control
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(action, *args)

    def dead_letters(self) -> list[tuple[dict, str, str, str, str, int]]:
        return [
            (dict(d.prepared.request), d.error_code, d.message, d.reason, d.prepared.id,
             d.prepared.events)
            for d in list(self.sender.dead_letters)
        ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Sources


def _requests(
    source: Any,
    tracking_id: str | None,
    properties: Sequence[str] | None,
    time_unit: Any,
    invalid: str,
    log: DeliveryLog,
) -> tuple[list[Mapping[str, Any]] | Iterator[Mapping[str, Any]], pd.DataFrame | None]:
    """Requests from a frame (converted now), a list, or an iterable (converted lazily)."""
    if _is_frame(source):
        requests, problems = _convert(source, tracking_id, properties, time_unit, invalid, log)
        return list(requests), problems
    if isinstance(source, Mapping | str | bytes):
        raise TypeError(
            "source must be an events frame, a list of PutEvents requests, or an iterable of "
            f"frames; got {type(source).__name__}"
        )
    if isinstance(source, list | tuple):
        return [_with_tracking_id(r, tracking_id) for r in source], None
    if isinstance(source, Iterable):
        return _lazy(iter(source), tracking_id, properties, time_unit, invalid, log), None
    raise TypeError(f"source must be a frame, a list or an iterable, got {type(source).__name__}")


def _lazy(
    items: Iterator[Any],
    tracking_id: str | None,
    properties: Sequence[str] | None,
    time_unit: Any,
    invalid: str,
    log: DeliveryLog,
) -> Iterator[Mapping[str, Any]]:
    for item in items:
        if _is_frame(item):
            requests, _ = _convert(item, tracking_id, properties, time_unit, invalid, log)
            yield from requests
        elif isinstance(item, Mapping):
            yield _with_tracking_id(item, tracking_id)
        else:
            raise TypeError(f"an iterable source must yield frames or requests, got {item!r:.80}")


def _convert(
    frame: Any,
    tracking_id: str | None,
    properties: Sequence[str] | None,
    time_unit: Any,
    invalid: str,
    log: DeliveryLog,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    from ..payloads import to_put_events

    if tracking_id is None:
        raise ConfigError(
            "tracking_id", None, "an events frame needs tracking_id= (the tracker id)"
        )
    requests, problems = to_put_events(
        frame, tracking_id, properties=properties, time_unit=time_unit, errors="collect"
    )
    if len(problems):
        if invalid == "raise":
            raise PayloadError(problems)
        kept = sum(len(r["eventList"]) for r in requests)
        rejected = len(frame) - kept
        log.add_rejected(rejected)
        logger.warning(
            "%d rows fail validation and will not be sent (see handle.problems)", rejected
        )
    return requests, problems


def _with_tracking_id(request: Mapping[str, Any], tracking_id: str | None) -> Mapping[str, Any]:
    if not isinstance(request, Mapping):
        raise TypeError(f"a PutEvents request must be a dict, got {type(request).__name__}")
    if tracking_id is None or request.get("trackingId") == tracking_id:
        return request
    return {**request, "trackingId": tracking_id}


def _prepared(
    requests: Iterable[Mapping[str, Any]], checkpoint: Checkpoint | None, log: DeliveryLog
) -> Iterator[Prepared]:
    for request in requests:
        prepared = Prepared(request)
        if checkpoint is not None and prepared.id in checkpoint:
            log.add_resumed(1, prepared.events)  # delivered by an earlier run
            continue
        yield prepared


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")
