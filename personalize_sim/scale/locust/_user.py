"""The Locust user that sends PutEvents requests, and how a worker finds its share."""

from __future__ import annotations

import argparse
import logging
import random
from typing import Any, ClassVar

import gevent
import gevent.lock
from locust import FastHttpUser, constant_throughput, events, task
from locust.exception import StopUser
from locust.runners import WorkerRunner

from ...streaming import FastTarget
from ...streaming.internal import Prepared, error_fields
from .._sources import ParquetSource, Source
from . import _ledger
from ._ledger import WORKERS_OPTION, Feed, off_loop, report, share_sent

logger = logging.getLogger("personalize_sim.scale")

#: answers worth another attempt (as the stream's RetryPolicy classifies them)
_RETRYABLE = ("ThrottlingException", "ServiceUnavailable", "InternalServerError")

_setup_lock = gevent.lock.Semaphore()


def _start_feed(user: PutEventsUser) -> None:
    if _ledger.feed is not None:
        return
    options = user.environment.parsed_options
    share = _worker_share(user.environment)
    if share is None:  # a late worker: its users stop at their first task, quietly
        _ledger.feed = Feed(iter(()), 0, None)
        return
    index, workers = share
    tracking_id = user.tracking_id or getattr(options, "tracking_id", None)
    if not tracking_id:
        raise StopUser("no tracking id: pass --tracking-id or set tracking_id")
    source = user.source or _source_from(options)
    requests, input_events = source.share(index, workers, tracking_id)
    _ledger.feed = Feed(requests, input_events, index)


def _worker_share(environment: Any) -> tuple[int, int] | None:
    """This worker's share: its place among the workers the master listed at the test's start.

    Not Locust's ``worker_index``: the master numbers every worker it ever hears from, so a
    worker seen late (or twice, under load) gets an index past the count of shares.
    """
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        listed = getattr(environment.parsed_options, WORKERS_OPTION, None)
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
            off_loop(_start_feed, self)
            self.signer = off_loop(_signer, self.host)

    @task
    def put_events(self) -> None:
        assert _ledger.feed is not None
        request = _ledger.feed.next()
        if request is None:
            share_sent(self.environment)
            raise StopUser()
        prepared = Prepared(request)
        _ledger.feed.counts["pending_events"] += prepared.events
        outcome = self._deliver(prepared)
        _ledger.feed.counts["pending_events"] -= prepared.events
        _ledger.feed.counts[outcome] += prepared.events
        report(self.environment)

    def _deliver(self, prepared: Prepared) -> str:
        """Attempts until delivered or given up: "delivered_events" or "dead_letter_events"."""
        assert _ledger.feed is not None
        for attempt in range(1, self.max_attempts + 1):
            _ledger.feed.counts["attempts"] += 1
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


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("personalize-sim")
    group.add_argument("--tracking-id", default="", help="the event tracker's tracking id")
    group.add_argument(
        "--events", default="", action=_OwnEvents, help="a Parquet file or directory of events"
    )
    group.add_argument("--ledger", default="", help="write the merged ledger (JSON) here")
