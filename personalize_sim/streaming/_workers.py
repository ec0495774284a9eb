"""``processes=N``: N spawned processes share the rate, each with its own transport.

Worker ``i`` gets requests ``i, i+N, …`` and the schedule at 1/N of the rate, started
``i/rate`` after the common start (so a constant rate interleaves evenly). Workers wait
for one shared start time on the monotonic clock (system-wide on one machine), so their
record times line up; they send their attempt records back in batches every 50 ms, and
the parent merges them into one log (``worker`` column) and one set of histograms.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import queue
import threading
import time
import traceback
from typing import Any

import numpy as np

from ..errors import PersonalizeSimError
from ._checkpoint import Checkpoint
from ._handle import Engine, StreamHandle
from ._log import DeliveryLog
from ._retry import RetryPolicy
from ._schedules import Schedule
from ._targets import Target
from ._wire import Prepared

__all__ = ["ProcessEngine"]

_FLUSH_S = 0.05
_READY_TIMEOUT_S = 120.0


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
        max_in_flight: int,
        max_lag: float,
        checkpoint: Checkpoint | None,
        log: DeliveryLog,
    ) -> None:
        n = processes
        self.n = n
        self.targets = [target.for_worker(i) for i in range(n)]  # fails early for a live client
        self.shares = [[p.request for p in prepared[i::n]] for i in range(n)]
        share = schedule.scaled(1.0 / n)
        self.schedules = [share] * n
        if share.kind == "poisson":  # independent gaps per worker, still reproducible from the seed
            draws = np.random.default_rng(share.rng).integers(2**63, size=n)
            self.schedules = [dataclasses.replace(share, rng=int(d)) for d in draws]
        rate = schedule.initial_rate
        self.phases = [i / rate if rate else 0.0 for i in range(n)]
        seeds = np.random.SeedSequence(
            rng if isinstance(rng, int) else np.random.default_rng(rng).integers(2**63)
        ).spawn(n)
        self.seeds = [int(s.generate_state(1)[0]) for s in seeds]
        self.retry, self.max_in_flight, self.max_lag = retry, max_in_flight, max_lag
        self.checkpoint_path = None if checkpoint is None else str(checkpoint.path)
        self.log = log
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        self._early: list[tuple] = []
        self._start_sent = False
        self._dead: list[tuple] = []

    def run(self, handle: StreamHandle) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # fork is unsafe with threads and event loops
        out = ctx.Queue()
        procs = []
        for i in range(self.n):
            parent, child = ctx.Pipe()
            args = (
                i, self.shares[i], self.schedules[i], self.targets[i], self.retry, self.seeds[i],
                self.max_in_flight, self.max_lag, self.checkpoint_path, child, out, self.n,
            )  # fmt: skip
            proc = ctx.Process(target=_worker_main, args=args, name=f"personalize-sim-stream-{i}")
            proc.daemon = True
            proc.start()
            child.close()
            procs.append(proc)
            with self._lock:
                self._conns.append(parent)
        try:
            self._pump(handle, out, procs)
        finally:
            for proc in procs:
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
            for conn in self._conns:
                conn.close()

    def _pump(self, handle: StreamHandle, out: Any, procs: list[Any]) -> None:
        ready, running = 0, self.n
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while running:
            try:
                msg = out.get(timeout=0.2)
            except queue.Empty:
                dead = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
                if dead:
                    raise PersonalizeSimError(
                        f"stream worker {dead[0].name} died with exit code {dead[0].exitcode}"
                    ) from None
                if not self._start_sent and time.monotonic() > deadline:
                    raise PersonalizeSimError("stream workers did not start in time") from None
                continue
            kind, index = msg[0], msg[1]
            if kind == "ready":
                ready += 1
                if ready == self.n:
                    t0 = time.monotonic() + 0.05  # a shared start, a moment ahead
                    self.log.started_at = time.time() + (t0 - time.monotonic())
                    with self._lock:
                        for i, conn in enumerate(self._conns):
                            conn.send(("start", t0, t0 + self.phases[i]))
                        self._start_sent = True
                        for control in self._early:
                            for conn in self._conns:
                                conn.send(control)
                        self._early.clear()
            elif kind == "records":
                for record in msg[2]:
                    handle.emit(record)
            elif kind == "dead":
                self._dead.extend(msg[2])
            elif kind == "done":
                running -= 1
            elif kind == "error":
                self.control("stop")
                raise PersonalizeSimError(f"stream worker {index} failed:\n{msg[2]}")

    def control(self, name: str, *args: Any) -> None:
        if name == "set_rate":
            args = (args[0] / self.n,)
        message = (name, *args)
        with self._lock:
            if not self._start_sent:  # workers apply these before their start
                self._early.append(message)
                return
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.send(message)

    def dead_letters(self) -> list[tuple[dict, str, str, str, str, int]]:
        return list(self._dead)


def _worker_main(index: int, *args: Any) -> None:
    """Entry point of one worker process: :func:`_worker`, with failures reported home."""
    out = args[9]
    try:
        _worker(index, *args)
    except BaseException:
        out.put(("error", index, traceback.format_exc()))
        out.put(("done", index, "failed"))


def _worker(
    index: int,
    requests: list[dict],
    schedule: Schedule,
    target: Target,
    retry: RetryPolicy,
    seed: int,
    max_in_flight: int,
    max_lag: float,
    checkpoint_path: str | None,
    conn: Any,
    out: Any,
    n: int,
) -> None:
    from ..clock import SystemClock
    from ._sender import Sender

    records: list[Any] = []
    checkpoint = None if checkpoint_path is None else Checkpoint(checkpoint_path)
    sender = Sender(
        (Prepared(r) for r in requests), target, schedule, emit=records.append,
        clock=SystemClock(), retry=retry, rng=seed, max_in_flight=max_in_flight,
        max_lag=max_lag, checkpoint=checkpoint, worker=index, rate_scale=n,
    )  # fmt: skip

    def apply(message: tuple) -> None:
        getattr(sender, message[0])(*message[1:])

    out.put(("ready", index))
    while True:
        message = conn.recv()
        if message[0] == "start":
            sender.origin, sender.start = message[1], message[2]
            break
        apply(message)

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def on_control() -> None:
            while conn.poll():
                apply(conn.recv())

        loop.add_reader(conn.fileno(), on_control)

        async def flush_forever() -> None:
            while True:
                await asyncio.sleep(_FLUSH_S)
                flush()

        def flush() -> None:
            if records:
                batch = records[:]
                records.clear()
                out.put(("records", index, batch))

        if checkpoint is not None:
            checkpoint.open()
        await target.open()
        flusher = asyncio.ensure_future(flush_forever())
        try:
            await sender.run()
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            flush()
            loop.remove_reader(conn.fileno())
            await target.close()
            if checkpoint is not None:
                checkpoint.close()

    from ._open import new_event_loop

    loop = new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    dead = [
        (dict(d.prepared.request), d.error_code, d.message, d.reason, d.prepared.id,
         d.prepared.events)
        for d in sender.dead_letters
    ]  # fmt: skip
    out.put(("dead", index, dead))
    out.put(("done", index, sender.state))
