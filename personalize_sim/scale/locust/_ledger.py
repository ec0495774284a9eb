"""Each process's feed of requests and its counts; workers report them to the master, which
ends the test once every share is sent and writes one ledger."""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

import gevent
import gevent.lock
from locust import events
from locust.rpc import Message
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from .._shares import Ledger

logger = logging.getLogger("personalize_sim.scale")

#: how often a worker tells the master its counts (seconds)
REPORT_EVERY_S = 0.25
#: how long a master waits past --stop-timeout for its workers' last reports when it quits
QUIT_GRACE_S = 15.0
#: requests read and converted at once, off the event loop
_BATCH = 64
_LEDGER_MESSAGE = "personalize_sim_ledger"
#: the option in which the master lists the workers that share the source
WORKERS_OPTION = "personalize_sim_workers"


class Feed:
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
                    self.batch.extend(off_loop(list, islice(self.requests, _BATCH)))
                    self.counts["exhausted"] = not self.batch
        return self.batch.popleft() if self.batch else None


def off_loop(work: Any, *args: Any) -> Any:
    """CPU-bound work (reading Parquet, converting, botocore's set-up) in gevent's thread pool:
    the hub keeps answering heartbeats meanwhile. A worker that holds the loop for three
    seconds on a busy machine is marked missing, and the test stops without its counts."""
    return gevent.get_hub().threadpool.apply(work, args)


#: this process's feed (set by the first user to start)
feed: Feed | None = None


def report(environment: Any, *, force: bool = False, final: bool = False) -> None:
    """Send this worker's counts to the master (at most every REPORT_EVERY_S unless forced);
    ``final``: the test stopped and nothing more will be sent."""
    runner = environment.runner
    if feed is None or feed.index is None or not isinstance(runner, WorkerRunner):
        return  # nothing to report: not a worker, or one that holds no share
    now = time.monotonic()
    if force or final or now - feed.last_report >= REPORT_EVERY_S:
        feed.last_report = now
        data = {"index": feed.index, "final": final, **feed.counts}
        runner.send_message(_LEDGER_MESSAGE, data)


_shares: dict[int, dict[str, Any]] = {}
_ending = False


def share_sent(environment: Any) -> None:
    """The share is read to its end: once nothing is in flight either, this worker's counts are
    final, and its statistics go to the master first (in order, on the same connection), so
    the test can end without waiting on Locust's half-second grace for late reports."""
    assert feed is not None
    done = feed.counts["pending_events"] == 0
    runner = environment.runner
    if done and isinstance(runner, WorkerRunner):
        runner._send_stats()  # no public flush: Locust otherwise reports every 3 s
    report(environment, force=True, final=done)
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


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.register_message(_LEDGER_MESSAGE, _on_ledger)
        runner.quit = _quit_when_reported(runner, runner.quit)  # type: ignore[method-assign]


def _quit_when_reported(runner: Any, quit_now: Any) -> Any:
    """Locust's master quits (at ``-t``, on Ctrl-C) by telling its workers to quit and waiting
    half a second for their last reports; a worker first waits up to ``--stop-timeout`` for
    its users, so on a busy machine its final counts and statistics arrive after the master
    has gone. This quit tells the workers first and waits until each has answered that it
    quit (after its last reports, on the same connection) or is missing, then quits."""

    def quit() -> None:
        waiting = [client.id for client in runner.clients.all]
        for client_id in waiting:
            runner.server.send_to_client(Message("quit", None, client_id))
        limit = time.monotonic() + _stop_timeout(runner) + QUIT_GRACE_S
        while time.monotonic() < limit and any(_still_working(runner, i) for i in waiting):
            gevent.sleep(0.1)
        quit_now()

    return quit


def _stop_timeout(runner: Any) -> float:
    return float(getattr(runner.environment, "stop_timeout", None) or 0)


def _still_working(runner: Any, client_id: str) -> bool:
    client = runner.clients.get(client_id)
    return client is not None and client.state != STATE_MISSING


def _on_ledger(msg: Any, environment: Any = None, **_: Any) -> None:
    _shares[int(msg.data["index"])] = {**msg.data, "client_id": msg.node_id}
    listed = getattr(getattr(environment, "parsed_options", None), WORKERS_OPTION, None)
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
    if ready and not getattr(options, WORKERS_OPTION, None):
        nodes = runner.clients.ready + runner.clients.spawning + runner.clients.running
        ids = sorted((node.id for node in nodes), key=runner.get_worker_index)
        setattr(options, WORKERS_OPTION, ",".join(ids))


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    report(environment, final=True)
    if isinstance(environment.runner, WorkerRunner):
        environment.runner._send_stats()  # the last requests' statistics, before it says so


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        return
    if isinstance(runner, MasterRunner):
        ledger = master_ledger(runner)
    elif feed is not None:
        ledger = Ledger.merge([_share_counts({"index": 0, **feed.counts}, lost=False)])
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
