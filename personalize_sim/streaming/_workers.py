"""``processes=N``: N spawned processes share the rate, each with its own transport.

Worker ``i`` gets requests ``i, i+N, …`` and the schedule at 1/N of the rate, started
``i/rate`` after the common start (so a constant rate interleaves evenly). Workers wait
for one shared start time on the monotonic clock (system-wide on one machine), so their
record times line up; they send their attempt records back in batches every 50 ms, and
the parent merges them into one log (``worker`` column) and one set of histograms.

Messages from a worker, on the shared queue: ``("ready", i)``, ``("records", i, [Attempt…])``,
``("dead", i, [DeadLetter…])``, ``("error", i, traceback)``, ``("failed", i, message)`` (a
failure explained in one message, e.g. an endpoint that never answered), ``("done", i)``.
To a worker, on its pipe: ``("start", origin, start)`` once, then control calls such as
``("pause",)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DeliveryError, PersonalizeSimError
from ._checkpoint import Checkpoint
from ._engine import Engine, close_target, new_event_loop
from ._records import Attempt, DeadLetter
from ._sender import Sender
from ._wire import Prepared

if TYPE_CHECKING:
    from ._log import DeliveryLog
    from ._options import Pacing
    from ._retry import RetryPolicy
    from ._schedules import Schedule
    from ._transports import Target

__all__ = ["ProcessEngine"]

_FLUSH_S = 0.05
_READY_TIMEOUT_S = 120.0


@dataclasses.dataclass(frozen=True)
class WorkerPlan:
    """Everything one worker process needs (picklable)."""

    index: int
    workers: int
    requests: list[Mapping[str, Any]]
    schedule: Schedule
    target: Target
    retry: RetryPolicy
    pacing: Pacing
    rng: int
    checkpoint_path: str | None


class ProcessEngine(Engine):
    """Run the stream in N worker processes and merge what they report."""

    def __init__(
        self,
        prepared: list[Prepared],
        target: Target,
        schedule: Schedule,
        *,
        processes: int,
        retry: RetryPolicy,
        rng: Any,
        pacing: Pacing,
        checkpoint: Checkpoint | None,
        log: DeliveryLog,
    ) -> None:
        n = self.n = processes
        targets = [target.for_worker(i) for i in range(n)]  # fails early for a live client
        rate = schedule.initial_rate
        self.phases = [i / rate if rate else 0.0 for i in range(n)]
        shares, seeds = _shares(schedule, n), _seeds(rng, n)
        path = None if checkpoint is None else str(checkpoint.path)
        self.plans = [
            WorkerPlan(
                index=i,
                workers=n,
                requests=[p.request for p in prepared[i::n]],
                schedule=shares[i],
                target=targets[i],
                retry=retry,
                pacing=pacing,
                rng=seeds[i],
                checkpoint_path=path,
            )
            for i in range(n)
        ]
        self.log = log
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        self._early: list[tuple[Any, ...]] = []
        self._start_sent = False
        self._stopping = False
        self._dead: list[DeadLetter] = []

    def run(self, emit: Callable[[Attempt], None]) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # fork is unsafe with threads and event loops
        out = ctx.Queue()
        procs = []
        # the workers inherit this thread's blocked signals: Ctrl-C (sent to the whole process
        # group) and SIGTERM reach only the parent, which stops them through their pipes, so
        # none dies mid-request or loses its unsent records
        masked = _block(_STOP_SIGNALS)
        try:
            for plan in self.plans:
                if self._stopping:  # stopped while starting: the rest never start (pending)
                    break
                parent, child = ctx.Pipe()
                proc = ctx.Process(
                    target=_worker_main, args=(plan, child, out),
                    name=f"personalize-sim-stream-{plan.index}", daemon=True,
                )  # fmt: skip
                proc.start()
                child.close()
                procs.append(proc)
                with self._lock:
                    self._conns.append(parent)
        finally:
            _unblock(masked)
        try:
            self._pump(emit, out, procs)
        finally:
            for proc in procs:
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
            for conn in self._conns:
                conn.close()

    def _pump(self, emit: Callable[[Attempt], None], out: Any, procs: list[Any]) -> None:
        ready, running = 0, len(procs)
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while running:
            try:
                msg = out.get(timeout=0.2)
            except queue.Empty:
                self._check_alive(procs, deadline)
                continue
            kind, index = msg[0], msg[1]
            if kind == "ready":
                ready += 1
                if ready == len(procs):
                    self._start_all()
            elif kind == "records":
                for record in msg[2]:
                    emit(record)
            elif kind == "dead":
                self._dead.extend(msg[2])
            elif kind == "done":
                running -= 1
            elif kind == "error":
                self.control("stop")
                raise DeliveryError(f"stream worker {index} failed:\n{msg[2]}")
            elif kind == "failed":
                self.control("stop")
                raise DeliveryError(msg[2])

    def _check_alive(self, procs: list[Any], deadline: float) -> None:
        dead = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
        if dead:
            raise DeliveryError(
                f"stream worker {dead[0].name} died with exit code {dead[0].exitcode}"
            )
        if not self._start_sent and time.monotonic() > deadline:
            raise DeliveryError(f"stream workers did not start within {_READY_TIMEOUT_S:g} s")

    def _start_all(self) -> None:
        t0 = time.monotonic() + 0.05  # a shared start, a moment ahead
        self.log.started_at = time.time() + (t0 - time.monotonic())
        with self._lock:
            for control in self._early:  # first: a stop during start-up sends nothing
                for conn in self._conns:
                    conn.send(control)
            self._early.clear()
            for i, conn in enumerate(self._conns):
                conn.send(("start", t0, t0 + self.phases[i]))
            self._start_sent = True

    def control(self, name: str, *args: Any) -> None:
        if name == "set_rate":
            args = (args[0] / self.n,)
        message = (name, *args)
        if name == "stop":
            self._stopping = True
        with self._lock:
            if not self._start_sent:  # workers apply these before their start
                self._early.append(message)
                return
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.send(message)

    def dead_letters(self) -> list[DeadLetter]:
        return list(self._dead)


def _shares(schedule: Schedule, n: int) -> list[Schedule]:
    """Each worker's schedule: 1/n of the rate; Poisson gaps independent per worker."""
    share = schedule.scaled(1.0 / n)
    if share.kind != "poisson":
        return [share] * n
    draws = np.random.default_rng(share.rng).integers(2**63, size=n)
    return [dataclasses.replace(share, rng=int(d)) for d in draws]


def _seeds(rng: Any, n: int) -> list[int]:
    """Independent, reproducible seeds of the workers' retry jitter."""
    root = rng if isinstance(rng, int) else np.random.default_rng(rng).integers(2**63)
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(root).spawn(n)]


_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def _block(signals: frozenset[signal.Signals]) -> set[Any] | None:
    """Block ``signals`` in this thread (where POSIX allows); the mask it had before."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, signals)


def _unblock(previous: set[Any] | None) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _worker_main(plan: WorkerPlan, conn: Any, out: Any) -> None:
    """Entry point of one worker process: failures are reported home, never lost."""
    _block(_STOP_SIGNALS)  # the parent stops it (inherited too, where spawning keeps the mask)
    try:
        _Worker(plan, conn, out).run()
    except PersonalizeSimError as e:  # a failure we explain (e.g. the endpoint never answered)
        out.put(("failed", plan.index, str(e)))
        out.put(("done", plan.index))
    except BaseException:
        out.put(("error", plan.index, traceback.format_exc()))
        out.put(("done", plan.index))


class _Worker:
    """One worker process: waits for the shared start, sends its share, reports home."""

    def __init__(self, plan: WorkerPlan, conn: Any, out: Any) -> None:
        from ..clock import SystemClock

        self.plan, self.conn, self.out = plan, conn, out
        self.records: list[Attempt] = []
        path = plan.checkpoint_path
        self.checkpoint = None if path is None else Checkpoint(path)
        self.sender = Sender(
            (Prepared(r) for r in plan.requests), plan.target, plan.schedule,
            emit=self.records.append, clock=SystemClock(), retry=plan.retry, rng=plan.rng,
            pacing=plan.pacing, checkpoint=self.checkpoint, worker=plan.index,
            rate_scale=plan.workers,
        )  # fmt: skip

    def run(self) -> None:
        self._wait_for_start()
        loop = new_event_loop()
        try:
            loop.run_until_complete(self._send())
        finally:
            loop.close()
        self.out.put(("dead", self.plan.index, list(self.sender.dead_letters)))
        self.out.put(("done", self.plan.index))

    def _wait_for_start(self) -> None:
        self.out.put(("ready", self.plan.index))
        while True:
            message = self.conn.recv()
            if message[0] == "start":
                self.sender.origin, self.sender.start = message[1], message[2]
                return
            self._apply(message)

    def _apply(self, message: tuple[Any, ...]) -> None:
        getattr(self.sender, message[0])(*message[1:])

    def _on_control(self) -> None:
        while self.conn.poll():
            self._apply(self.conn.recv())

    def _flush(self) -> None:
        if self.records:
            batch = self.records[:]
            self.records.clear()
            self.out.put(("records", self.plan.index, batch))

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_S)
            self._flush()

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self._on_control)
        with contextlib.ExitStack() as stack:
            if self.checkpoint is not None:
                stack.enter_context(self.checkpoint)
            await self.plan.target.open()
            flusher = asyncio.ensure_future(self._flush_forever())
            try:
                await self.sender.run()
            finally:
                flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flusher
                self._flush()
                loop.remove_reader(self.conn.fileno())
                await close_target(self.plan.target)
