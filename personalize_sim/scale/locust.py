"""Locust for distributed load: users that send our PutEvents requests, shares, shapes.

``pip install 'personalize-sim[locust]'``, then in a locustfile (``examples/locustfile.py``)::

    from personalize_sim.scale.locust import PutEventsUser
    class Shopper(PutEventsUser):
        pass

and run ``locust -f locustfile.py --headless --processes 2 --host <endpoint>
--tracking-id <id> --events <parquet> --ledger ledger.json -u 20 -r 20 -t 1m``.

* **Requests** are built by the payload layer (``to_put_events``), serialised as the wire
  format (:class:`~personalize_sim.streaming.Prepared`) and signed by
  :class:`~personalize_sim.streaming.FastTarget` (SigV4 from botocore, signing name
  ``personalize``), then sent by Locust's own ``FastHttpUser`` client (geventhttpclient:
  gevent, not asyncio), which reports every attempt through ``events.request`` (name,
  response time, length, exception), so Locust's UI, CSV and percentiles count them all.
* **Sources** (:class:`FrameSource`, :class:`ParquetSource`, :class:`SimulationSource`): each
  worker process takes its own contiguous share (by its place among the workers the master
  lists at the test's start), so no event is sent by two workers.
* **Ledger**: workers report their counts to the master a few times a second; at the end the
  master writes one :class:`~personalize_sim.scale.Ledger` (``--ledger``): delivered,
  dead-lettered (bad input, or retries exhausted) and unsent, per worker. A worker that
  dies is named in ``failures`` and its unsent events (with those in flight) are counted.
  When every share is sent, the test ends (as ``-t`` would), with every count in.
* **Shapes**: :class:`ScheduleShape` runs our schedules (ramp, steps, replay…) as a
  ``LoadTestShape``: users = target rate / each user's ``constant_throughput``.

Importing this module imports Locust, which lets gevent patch the process (sockets,
threads): import it only in a locustfile, never in a notebook or a test process.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from collections import deque
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

try:
    import gevent
    import gevent.lock
    from locust import FastHttpUser, LoadTestShape, constant_throughput, events, task
    from locust.exception import StopUser
    from locust.runners import MasterRunner, WorkerRunner
except ImportError as e:  # pragma: no cover - the extra is part of the test install
    raise ImportError(
        "personalize_sim.scale.locust needs Locust: pip install 'personalize-sim[locust]'"
    ) from e

from ..streaming import FastTarget
from ..streaming.internal import Prepared, error_fields
from ._shares import Ledger, replay_rates, users_for_rate
from ._sources import FrameSource, ParquetSource, SimulationSource, Source

__all__ = [
    "FrameSource",
    "ParquetSource",
    "PutEventsUser",
    "ScheduleShape",
    "SimulationSource",
    "Source",
]

logger = logging.getLogger("personalize_sim.scale")

#: how often a worker tells the master its counts (seconds)
REPORT_EVERY_S = 0.25
#: requests read and converted at once, off the event loop
_BATCH = 64
_LEDGER_MESSAGE = "personalize_sim_ledger"
_WORKERS_OPTION = "personalize_sim_workers"
#: answers worth another attempt (as the stream's RetryPolicy classifies them)
_RETRYABLE = ("ThrottlingException", "ServiceUnavailable", "InternalServerError")


# -- the per-process feed and its counts ----------------------------------------------------


class _Feed:
    """This process's share of the requests, shared by its users, and what became of them."""

    def __init__(self, requests: Iterator[dict], input_events: int, index: int | None) -> None:
        self.requests, self.index = requests, index
        self.counts: dict[str, Any] = {
            "input_events": input_events, "delivered_events": 0, "dead_letter_events": 0,
            "pending_events": 0, "attempts": 0, "exhausted": False,
        }  # fmt: skip
        self.last_report = 0.0
        self.batch: deque[dict] = deque()
        self.reading = gevent.lock.Semaphore()

    def next(self) -> dict | None:
        """The next request, read and converted a batch at a time off the event loop."""
        if not self.batch:
            with self.reading:  # a generator runs in one thread at a time
                if not self.batch and not self.counts["exhausted"]:
                    self.batch.extend(_off_loop(list, islice(self.requests, _BATCH)))
                    self.counts["exhausted"] = not self.batch
        return self.batch.popleft() if self.batch else None


def _off_loop(work: Any, *args: Any) -> Any:
    """CPU-bound work (reading Parquet, converting, botocore's set-up) in gevent's thread pool:
    the hub keeps answering heartbeats meanwhile. A worker that holds the loop for three
    seconds on a busy machine is marked missing, and the test stops without its counts."""
    return gevent.get_hub().threadpool.apply(work, args)


_feed: _Feed | None = None
_setup_lock = gevent.lock.Semaphore()


def _start_feed(user: PutEventsUser) -> None:
    global _feed
    if _feed is not None:
        return
    options = user.environment.parsed_options
    share = _worker_share(user.environment)
    if share is None:  # a late worker: its users stop at their first task, quietly
        _feed = _Feed(iter(()), 0, None)
        return
    index, workers = share
    tracking_id = user.tracking_id or getattr(options, "tracking_id", None)
    if not tracking_id:
        raise StopUser("no tracking id: pass --tracking-id or set tracking_id")
    source = user.source or _source_from(options)
    requests, input_events = source.share(index, workers, tracking_id)
    _feed = _Feed(requests, input_events, index)


def _worker_share(environment: Any) -> tuple[int, int] | None:
    """This worker's share: its place among the workers the master listed at the test's start.

    Not Locust's ``worker_index``: the master numbers every worker it ever hears from, so a
    worker seen late (or twice, under load) gets an index past the count of shares.
    """
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        listed = getattr(environment.parsed_options, _WORKERS_OPTION, None)
        if not listed:
            raise RuntimeError("the master did not say which workers share the source")
        workers = str(listed).split(",")
        if runner.client_id not in workers:
            logger.warning(
                "worker %s joined after the test started: the source was shared between the "
                "%d workers there then, so it sends nothing", runner.client_id, len(workers),
            )  # fmt: skip
            return None
        return workers.index(runner.client_id), len(workers)
    return 0, 1


# -- the user -----------------------------------------------------------------------------


class PutEventsUser(FastHttpUser):
    """Sends the worker's share of ``source`` one request per task, signed as AWS expects.

    ``source`` (class attribute) or ``--events PATH`` (Parquet) says what to send;
    ``--tracking-id`` (or ``tracking_id``) names the tracker; ``--host`` is the endpoint
    (``https://personalize-events.<region>.amazonaws.com`` for AWS). Each user sends
    ``rate_per_user`` requests/s (``constant_throughput``). Throttling, 5xx and connection
    errors are tried again up to ``max_attempts`` (full-jitter backoff); bad input is not.
    """

    abstract = True
    source: ClassVar[Source | None] = None
    tracking_id: ClassVar[str | None] = None
    rate_per_user: ClassVar[float] = 1.0
    max_attempts: ClassVar[int] = 3
    backoff_s: ClassVar[float] = 0.05
    wait_time = constant_throughput(1.0)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        pacing = constant_throughput(self.rate_per_user)
        self.wait_time = lambda: pacing(self)  # type: ignore[method-assign]

    def on_start(self) -> None:
        # users start concurrently and reading a share can yield to another greenlet:
        # one lock, so the process builds one feed (two would send the share twice)
        with _setup_lock:
            _off_loop(_start_feed, self)
            self.signer = _off_loop(_signer, self.host)

    @task
    def put_events(self) -> None:
        assert _feed is not None
        request = _feed.next()
        if request is None:
            _share_sent(self.environment)
            raise StopUser()
        prepared = Prepared(request)
        _feed.counts["pending_events"] += prepared.events
        outcome = self._deliver(prepared)
        _feed.counts["pending_events"] -= prepared.events
        _feed.counts[outcome] += prepared.events
        _report(self.environment)

    def _deliver(self, prepared: Prepared) -> str:
        """Attempts until delivered or given up: "delivered_events" or "dead_letter_events"."""
        assert _feed is not None
        for attempt in range(1, self.max_attempts + 1):
            _feed.counts["attempts"] += 1
            code = self._attempt(prepared)
            if not code:
                return "delivered_events"
            if code not in _RETRYABLE and code != "ConnectionError":
                return "dead_letter_events"
            if attempt < self.max_attempts:
                gevent.sleep(random.uniform(0, self.backoff_s * 2**attempt))
        return "dead_letter_events"

    def _attempt(self, prepared: Prepared) -> str:
        """One signed POST, reported to Locust; the AWS error code ("" on success)."""
        body = prepared.body
        headers = self.signer.signed_headers(body)
        # geventhttpclient sends bytes as they are (its stub says str or dict)
        data: Any = body
        with self.client.post(
            "/events", data=data, headers=headers, name="PutEvents", catch_response=True
        ) as resp:
            status = resp.status_code or 0
            if 200 <= status < 300:
                resp.success()
                return ""
            if status == 0:
                resp.failure(f"ConnectionError: {resp.error}")
                return "ConnectionError"
            error_type = resp.headers.get("x-amzn-ErrorType", "") if resp.headers else ""
            code, message = error_fields(status, error_type, resp.content or b"")
            resp.failure(f"{code}: {message}")
            return code


_signers: dict[str, FastTarget] = {}


def _signer(host: str | None) -> FastTarget:
    """One FastTarget per endpoint and process, used only to sign (credentials resolved once)."""
    key = host or ""
    if key not in _signers:
        target = FastTarget(endpoint_url=host or None)
        target.prepare_signing()
        _signers[key] = target
    return _signers[key]


#: this process's own --events: a master forwards its options to the workers when the test
#: starts, and its --events (often none) must not replace a worker's own path
_own_events: str = ""


class _OwnEvents(argparse.Action):
    """Keeps ``--events`` as this process's command line gave it, when it is parsed: a worker
    that joins a running test gets the master's options before ``events.init`` fires."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        global _own_events
        _own_events = str(values or "")
        setattr(namespace, self.dest, values)


def _source_from(options: Any) -> Source:
    path = _own_events or getattr(options, "events", None)
    if not path:
        raise StopUser("no source: set source= on the user class or pass --events PATH")
    return ParquetSource(path)


# -- shapes -------------------------------------------------------------------------------


class ScheduleShape(LoadTestShape):
    """Our schedules as a Locust shape: ``schedule`` (requests/s) for ``duration`` seconds,
    with each user sending ``rate_per_user`` requests/s (as :class:`PutEventsUser`).

    ``replay`` has no rate of its own: build it with :meth:`replay_rates` from the source.
    """

    abstract = True
    schedule: ClassVar[Any] = None
    duration: ClassVar[float] = 60.0
    rate_per_user: ClassVar[float] = 1.0
    rates: ClassVar[list[float] | None] = None  # per second, from replay_rates
    _cursor: Any = None

    def tick(self) -> tuple[int, float] | None:
        t = self.get_run_time()
        if t >= self.duration:
            return None
        users = users_for_rate(self.rate_at(t), self.rate_per_user)
        return users, float(users)

    def rate_at(self, t: float) -> float:
        """The target in requests/s ``t`` seconds into the test."""
        if self.rates is not None:
            return self.rates[min(int(t), len(self.rates) - 1)]
        schedule = self.schedule
        if schedule is None or schedule.per != "requests" or schedule.kind == "replay":
            raise ValueError(
                "ScheduleShape needs schedule= in requests per second (constant, ramp, steps…); "
                "for a replay, rates = ScheduleShape.replay_rates(frame, tracking_id, speedup)"
            )
        if self._cursor is None:
            self._cursor = schedule.cursor()
        return float(self._cursor.rate_at(t))

    @staticmethod
    def replay_rates(frame: Any, tracking_id: str, speedup: float = 1.0) -> list[float]:
        """Requests per second of wall time when ``frame`` is replayed ``speedup``× faster."""
        from ..payloads import to_put_events

        requests = to_put_events(frame, tracking_id)
        return replay_rates([Prepared(r).sent_at or 0.0 for r in requests], speedup)


# -- reporting: workers to the master, the master to a ledger ---------------------------------


def _report(environment: Any, *, force: bool = False, final: bool = False) -> None:
    """Send this worker's counts to the master (at most every REPORT_EVERY_S unless forced);
    ``final``: the test stopped and nothing more will be sent."""
    runner = environment.runner
    if _feed is None or _feed.index is None or not isinstance(runner, WorkerRunner):
        return  # nothing to report: not a worker, or one that holds no share
    now = time.monotonic()
    if force or final or now - _feed.last_report >= REPORT_EVERY_S:
        _feed.last_report = now
        data = {"index": _feed.index, "final": final, **_feed.counts}
        runner.send_message(_LEDGER_MESSAGE, data)


_shares: dict[int, dict[str, Any]] = {}
_ending = False


def _share_sent(environment: Any) -> None:
    """The share is read to its end: once nothing is in flight either, this worker's counts are
    final, and its statistics go to the master first (in order, on the same connection), so
    the test can end without waiting on Locust's half-second grace for late reports."""
    assert _feed is not None
    done = _feed.counts["pending_events"] == 0
    runner = environment.runner
    if done and isinstance(runner, WorkerRunner):
        runner._send_stats()  # no public flush: Locust otherwise reports every 3 s
    _report(environment, force=True, final=done)
    if done and not isinstance(runner, WorkerRunner):
        _end_test(environment)  # one process: its share is the whole source


def _end_test(environment: Any) -> None:
    """Every share is sent: end the run as ``-t`` would (the web UI stays up, idle)."""
    global _ending
    if _ending:
        return
    _ending = True
    logger.info("personalize-sim: every share is sent; the test ends")
    runner = environment.runner
    headless = getattr(environment.parsed_options, "headless", False)
    gevent.spawn(runner.quit if headless else runner.stop)


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("personalize-sim")
    group.add_argument("--tracking-id", default="", help="the event tracker's tracking id")
    group.add_argument(
        "--events", default="", action=_OwnEvents, help="a Parquet file or directory of events"
    )
    group.add_argument("--ledger", default="", help="write the merged ledger (JSON) here")


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.register_message(_LEDGER_MESSAGE, _on_ledger)


def _on_ledger(msg: Any, environment: Any = None, **_: Any) -> None:
    _shares[int(msg.data["index"])] = {**msg.data, "client_id": msg.node_id}
    listed = getattr(getattr(environment, "parsed_options", None), _WORKERS_OPTION, None)
    if listed:
        shares = [_shares.get(i, {}) for i in range(len(str(listed).split(",")))]
        if all(share.get("final") and share.get("exhausted") for share in shares):
            _end_test(environment)


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    """The master lists the workers once, in Locust's order: shares never move between them."""
    runner = environment.runner
    options = environment.parsed_options
    ready = isinstance(runner, MasterRunner) and options is not None
    if ready and not getattr(options, _WORKERS_OPTION, None):
        nodes = runner.clients.ready + runner.clients.spawning + runner.clients.running
        ids = sorted((node.id for node in nodes), key=runner.get_worker_index)
        setattr(options, _WORKERS_OPTION, ",".join(ids))


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    _report(environment, final=True)


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        return
    if isinstance(runner, MasterRunner):
        ledger = master_ledger(runner)
    elif _feed is not None:
        ledger = Ledger.merge([_share_counts({"index": 0, **_feed.counts}, lost=False)])
    else:
        return
    logger.info("personalize-sim ledger: %s", ledger)
    for failure in ledger.failures:
        logger.error("personalize-sim: %s", failure)
    path = getattr(environment.parsed_options, "ledger", "")
    if path:
        Path(path).write_text(json.dumps(ledger.to_dict(), indent=1, default=str))


def master_ledger(runner: Any) -> Ledger:
    """The workers' last reports merged; a worker that died before its final report (Locust
    marks it missing, or it is gone) is a failure."""
    shares, failures = [], []
    for index in sorted(_shares):
        data = _shares[index]
        client = runner.clients.get(data["client_id"])
        state = getattr(client, "state", "gone")
        lost = not data.get("final") or state == "missing"
        share = _share_counts(data, lost=lost)
        if lost:
            failures.append(
                f"worker {index} ({data['client_id']}) was lost ({state}); of its share "
                f"{share['unsent_events']:,} events are unsent (those in flight included)"
            )
        shares.append(share)
    return Ledger.merge(shares, failures)


def _share_counts(data: Mapping[str, Any], *, lost: bool) -> dict[str, Any]:
    """One worker's report as ledger counts: what it did not finish is unsent."""
    delivered, dead = int(data["delivered_events"]), int(data["dead_letter_events"])
    pending = 0 if lost else int(data["pending_events"])
    total = int(data["input_events"])
    if total < 0:  # a simulated share: its size is what was read
        total = delivered + dead + int(data["pending_events"])
    unsent = total - delivered - dead - pending
    return {
        "index": int(data["index"]), "input_events": total, "delivered_events": delivered,
        "dead_letter_events": dead, "pending_events": pending, "unsent_events": unsent,
        "attempts": int(data["attempts"]), "lost": lost,
    }  # fmt: skip
