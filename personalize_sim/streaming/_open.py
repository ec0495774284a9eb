"""``open_stream()``: a stream of events to a tracker at a controlled rate, ready to start."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .._checks import check, count, instance
from ..clock import Clock, SystemClock, VirtualClock
from ._checkpoint import Checkpoint, fingerprint
from ._engine import Engine, LocalEngine
from ._handle import Listener, StreamHandle
from ._log import DeliveryLog
from ._options import Conversion, Pacing
from ._retry import RetryPolicy
from ._schedules import Schedule, from_rate
from ._sources import RequestSource, prepared
from ._summary import RunSettings
from ._transports import Target, make_target

__all__ = ["max_processes", "open_stream"]


def open_stream(
    source: Any,
    *,
    rate: float | Schedule,
    tracking_id: str | None = None,
    target: Any = None,
    retry: RetryPolicy | None = None,
    pacing: Pacing | None = None,
    conversion: Conversion | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    processes: int = 1,
    listeners: Sequence[Listener] = (),
    max_records: int | None = None,
    clock: Clock | None = None,
    rng: Any = None,
) -> StreamHandle:
    """A stream of ``source`` to a tracker on a rate schedule: a :class:`StreamHandle`, not started.

    ``source`` is an events frame, a list of PutEvents requests (``put_events`` kwargs), or an
    iterable of frames/requests (read lazily, so memory stays bounded). ``rate`` is requests
    per second, or a schedule: ``constant`` (``per="events"`` paces events), ``ramp``,
    ``steps``, ``poisson``, ``replay``, ``rate_function`` from :mod:`personalize_sim.streaming`.

    ``target`` is a boto3 ``personalize-events`` client (yours: any profile, region or
    ``endpoint_url``), ``"boto3"`` (a client from the default session), ``"fast"`` (signed
    aiohttp; ``FastTarget(endpoint_url=…, region=…)`` to configure it), or any
    :class:`Target` (``JsonlTarget(path)`` for a dry run, ``MemoryTarget()``).

    Frames are validated first (``tracking_id`` is then required): any bad row raises
    :class:`~personalize_sim.PayloadError` and nothing is sent, unless
    ``conversion=Conversion(invalid="skip")``, which reports bad rows in ``handle.problems``
    and sends the rest. Frames from an iterable are checked one at a time, each before any
    of its rows is sent.

    ``retry`` (a :class:`RetryPolicy`) says how long to retry (120 s after each request's
    intended time by default, so an outage or throttling is ridden out), and whether to adapt
    the send rate to throttling (``RetryPolicy(mode="adaptive")``); ``pacing`` (a
    :class:`Pacing`) the requests in flight and the lag before a send counts as missed.
    The target's settings and credentials are checked here, before anything is sent: missing
    credentials raise :class:`~personalize_sim.ConfigError`, except against a loopback
    endpoint, where fake local ones are used (and a one-line warning says so). ``checkpoint=PATH``
    records delivered requests, so running again with the same path skips them; the file
    names its input (a fingerprint of it) and tracking id, and a file that is not a
    checkpoint of this input and tracking id is refused with a ConfigError before anything
    is sent or written (see :mod:`personalize_sim.streaming._checkpoint`).
    ``processes=N`` shares the rate across N processes (each with its own transport), at most
    two per CPU (:func:`max_processes`).
    Attempt records beyond the newest 50,000 wait in a temporary Arrow file, so memory stays
    flat however long the stream runs and ``handle.log`` still has every attempt;
    ``max_records=N`` keeps only the newest N instead (counts and histograms stay exact).
    ``clock`` and ``rng`` are injected for exact tests.

    Attach listeners (a dashboard) before the first send, then call ``handle.start()`` or
    ``handle.run()``; :func:`personalize_sim.stream` does all of it in one call.

    >>> from personalize_sim.streaming import MemoryTarget
    >>> events = lambda i: [{"eventId": str(i), "eventType": "View", "sentAt": 1_700_000_000 + i}]
    >>> requests = [{"trackingId": "t", "sessionId": "s", "eventList": events(i)} for i in range(3)]
    >>> handle = open_stream(requests, rate=1000, target=MemoryTarget())
    >>> summary = handle.run(wait=True).summary
    >>> summary.delivered_events, summary.balanced
    (3, True)
    """
    schedule = from_rate(rate)
    retry = RetryPolicy() if retry is None else retry
    instance(retry, "retry", RetryPolicy, "a RetryPolicy")
    pacing = Pacing() if pacing is None else instance(pacing, "pacing", Pacing, "a Pacing")
    conversion = Conversion() if conversion is None else conversion
    instance(conversion, "conversion", Conversion, "a Conversion")
    count(processes, "processes", low=1)
    limit = max_processes()
    check(
        processes <= limit, "processes", processes,
        f"at most {limit}, two per CPU this process may use: a sender process keeps about one "
        "CPU busy, so more only share them, each with an interpreter's memory; for more load "
        "raise the rate or max_in_flight, or spread it over machines (personalize_sim.scale)",
    )  # fmt: skip
    if max_records is not None:
        count(max_records, "max_records", low=1)
    clock = SystemClock() if clock is None else clock

    target = make_target(target)
    target.prepare()  # credentials and settings, before any send
    log = DeliveryLog(unit=schedule.per, max_records=max_records)
    log.target_rate = schedule.initial_rate
    log.settings = RunSettings(
        transport=target.name, pool=target.pool, max_in_flight=pacing.max_in_flight,
        processes=processes, retry_mode=retry.mode, schedule=schedule.describe(),
    )  # fmt: skip
    requests = RequestSource(source, tracking_id=tracking_id, conversion=conversion, log=log)
    cp = None
    if checkpoint is not None:  # checked (and refused) before anything is sent or written
        identity, requests.requests = fingerprint(requests.requests, tracking_id)
        cp = Checkpoint(checkpoint, identity)
    settings = {"retry": retry, "rng": rng, "pacing": pacing, "checkpoint": cp, "log": log}
    engine = _engine(requests, target, schedule, processes, clock, settings)
    handle = StreamHandle(engine, log, listeners=tuple(listeners), problems=requests.problems)
    log.started_at = clock.wall()
    return handle


def max_processes() -> int:
    """The most sender processes ``processes=N`` starts: two per CPU this process may use."""
    try:
        cpus = len(os.sched_getaffinity(0))  # what a container or taskset allows
    except AttributeError:  # not on every platform
        cpus = os.cpu_count() or 1
    return 2 * cpus


def _engine(
    requests: RequestSource,
    target: Target,
    schedule: Schedule,
    processes: int,
    clock: Clock,
    settings: dict[str, Any],
) -> Engine:
    """One sender on the handle's thread, or ``processes`` worker processes."""
    log: DeliveryLog = settings["log"]
    ready = prepared(requests.requests, settings["checkpoint"], log)
    if requests.sized:  # every request is input (and pending) from the start
        ready_list = list(ready)
        log.add_input(len(ready_list), sum(p.events for p in ready_list))
        ready = iter(ready_list)
    if processes == 1:
        return LocalEngine(
            ready, target, schedule, clock=clock, count_input=not requests.sized, **settings
        )
    check(
        not isinstance(clock, VirtualClock), "clock", clock,
        "the real clock: processes=N cannot share a virtual one",
    )  # fmt: skip
    check(
        requests.sized, "source", "an iterator",
        "a frame or a list of requests with processes=N (an iterator cannot be split)",
    )  # fmt: skip
    from ._workers import ProcessEngine

    if settings["checkpoint"] is not None:  # the workers append to a file with its header
        settings["checkpoint"].open().close()

    return ProcessEngine(ready_list, target, schedule, processes=processes, **settings)
