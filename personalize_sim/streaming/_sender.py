"""The asyncio driver: performs the I/O the pacer and the retry policy ask for, nothing more.

One loop decides; sends run as tasks. The loop launches every first attempt that is due
(:class:`~.pacer.Pacer`) and every retry whose backoff has passed
(:class:`~.retry.RetryPolicy`), while fewer than ``max_in_flight`` requests are on the wire,
then waits for the next due time, a completion or a control call. Each finished attempt
becomes one :class:`~.log.Attempt`, handed to ``emit`` (the log and the listeners).

Under a :class:`~personalize_sim.clock.VirtualClock` the loop lets in-flight sends settle
before it moves time forward, so with an instant target every time is exact.

An attempt's ``sent`` time is when the transport put it on the wire (its own stamp, on the
system clock), and the wait before that is its ``queued`` time. In ``adaptive`` retry mode an
:class:`~._adaptive.AdaptiveRate` gates every send once the tracker throttles. An endpoint that
has never answered (:mod:`._silence`), or a transport that cannot go on (its file is full:
it raises a :class:`~personalize_sim.errors.PersonalizeSimError`) ends the run with that
error, leaving the requests pending: the attempts still on the wire are abandoned.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..clock import Clock, SystemClock, VirtualClock
from ..errors import PersonalizeSimError
from ._adaptive import AdaptiveRate
from ._checkpoint import Checkpoint
from ._options import Pacing
from ._pacer import Pacer
from ._records import Attempt, DeadLetter, Outcome
from ._retry import THROTTLING_CODES, Decision, RetryPolicy
from ._schedules import Schedule
from ._silence import Silence
from ._summary import StreamState
from ._transports import Response, Target
from ._wire import Prepared

__all__ = ["Sender"]

logger = logging.getLogger("personalize_sim.streaming")


class Sender:
    """Drive ``source`` to ``target`` on ``schedule``; call :meth:`run` on an event loop.

    ``source`` yields :class:`Prepared` requests; ``on_input(prepared)`` is called as each
    one is read (the log counts it); ``emit(record)`` receives each attempt.
    """

    def __init__(
        self,
        source: Iterator[Prepared],
        target: Target,
        schedule: Schedule,
        *,
        emit: Callable[[Attempt], None],
        on_input: Callable[[Prepared], None] | None = None,
        clock: Clock,
        retry: RetryPolicy,
        rng: Any = None,
        pacing: Pacing | None = None,
        checkpoint: Checkpoint | None = None,
        worker: int = 0,
        start: float | None = None,
        origin: float | None = None,
        rate_scale: float = 1.0,
    ) -> None:
        self.source = source
        self.target = target
        self.schedule = schedule
        self.emit = emit
        self.on_input = on_input or (lambda prepared: None)
        self.clock = clock
        self.retry = retry
        self.rng = np.random.default_rng(rng)
        pacing = Pacing() if pacing is None else pacing
        self.max_in_flight = pacing.max_in_flight
        self.max_lag = pacing.max_lag
        self.checkpoint = checkpoint
        self.worker = worker
        self.start = start
        self.origin = origin  # record times are seconds after this (default: the start)
        self.rate_scale = rate_scale  # a worker of N records the whole stream's target rate
        self.pacer: Pacer | None = None
        self.dead_letters: list[DeadLetter] = []
        self.state = StreamState.NEW
        self._virtual = isinstance(clock, VirtualClock)
        self._inflight: set[asyncio.Task] = set()
        self._retries: list[tuple[float, int, Prepared, int, float]] = []
        self._seq = itertools.count()
        self._waiter: asyncio.Future | None = None
        # what may end the current wait early, besides control calls (fewer needless wake-ups)
        self._wake_on_done = True
        self._wait_deadline = math.inf
        self._stop = False
        self._controls: list[Callable[[], None]] = []
        self._warned = False
        self._slots_exhausted = False
        # transports stamp the wire on the system clock: trusted only when that is our clock
        self._wire_stamps = isinstance(clock, SystemClock)
        self.limiter: AdaptiveRate | None = None  # set at the start in adaptive mode
        self.silence: Silence | None = None  # has the endpoint ever answered? (from the first)
        #: why the run ended early (the endpoint never answered, the output is full), raised
        self.failure: PersonalizeSimError | None = None

    # -- control (call on the loop's thread) ----------------------------------------------------
    def pause(self) -> None:
        self._control(lambda: self.pacer.pause(self.clock.now()))  # type: ignore[union-attr]

    def resume(self) -> None:
        self._control(lambda: self.pacer.resume(self.clock.now()))  # type: ignore[union-attr]

    def stop(self) -> None:
        self._stop = True
        self._poke()

    def set_rate(self, rate: float) -> None:
        self._control(lambda: self.pacer.set_rate(rate, self.clock.now()))  # type: ignore[union-attr]

    def _control(self, action: Callable[[], None]) -> None:
        if self.pacer is None:
            self._controls.append(action)  # applied when the run starts
        else:
            action()
        self._poke()

    def _poke(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- the loop --------------------------------------------------------------------------------
    async def run(self) -> None:
        clock = self.clock
        # read the first request before the clock starts: building it may import things
        pending: Prepared | None = next(self.source, None)
        exhausted = pending is None
        if pending is not None:
            self.on_input(pending)
        start = clock.now() if self.start is None else self.start
        self.pacer = pacer = Pacer(self.schedule.cursor(), start=start, max_lag=self.max_lag)
        if self.origin is None:
            self.origin = start
        if self.retry.mode == "adaptive":
            self.limiter = AdaptiveRate(now=start)
        for action in self._controls:
            action()
        self._controls.clear()
        self.state = StreamState.RUNNING
        # wait for a shared start time (processes=N) without counting it as lag
        if start > clock.now():
            await self._wait(start)
        try:
            while not self._stop:
                now = clock.now()
                if pacer.paused:
                    self.state = StreamState.PAUSED
                    await self._wait(math.inf)
                    continue
                self.state = StreamState.RUNNING
                retries = self._retries
                gate = self._launch_retries(now)
                while not exhausted and len(self._inflight) < self.max_in_flight and gate <= now:
                    if pending is None:
                        pending = next(self.source, None)
                        if pending is None:
                            exhausted = True
                            break
                        self.on_input(pending)
                    if pacer.due(pending.events, pending.sent_at) > now:
                        break
                    # held back by the adaptive rate: the tracker's limit, not a missed send
                    release = pacer.release(now, held=self._limiting())
                    if release.missed and not self._warned:
                        self._warned = True
                        self._warn_missed()
                    elif not release.missed:
                        self._slots_exhausted = False
                    self._launch(pending, 1, release.intended, release.due, release.missed)
                    pending = None
                    now = clock.now()
                    gate = self._gate(now)
                if exhausted and not retries and not self._inflight:
                    break
                deadline = math.inf
                full = len(self._inflight) >= self.max_in_flight
                if full and not exhausted:
                    self._slots_exhausted = True  # sends wait for a slot, not for the CPU
                if not full:
                    if pending is not None:
                        deadline = pacer.due(pending.events, pending.sent_at)
                    elif not exhausted:  # the adaptive rate held the next one back unread
                        deadline = now
                    if retries:
                        deadline = min(deadline, retries[0][0])
                    if gate > now and deadline < math.inf:  # not before the adaptive rate allows
                        deadline = max(deadline, gate)
                # a completion matters only when it frees the slot we wait for, or may end the run
                self._wake_on_done = full or (exhausted and not retries)
                self._wait_deadline = deadline
                await self._wait(deadline)
                self._wake_on_done, self._wait_deadline = True, math.inf
        finally:
            self.state = StreamState.STOPPING if self._stop else StreamState.RUNNING  # draining
            while self._inflight:  # requests on the wire are finished, never abandoned
                await asyncio.wait(set(self._inflight))
        self.state = StreamState.STOPPED if self._stop else StreamState.DONE
        if self.failure is not None:
            raise self.failure

    def _launch_retries(self, now: float) -> float:
        """Launch the retries whose backoff has passed, while slots (and the adaptive rate)
        allow; return when the adaptive rate lets the next send start."""
        retries, gate = self._retries, self._gate(now)
        while retries and retries[0][0] <= now and len(self._inflight) < self.max_in_flight:
            if gate > now:
                break
            due, _, prepared, attempt, intended = heapq.heappop(retries)
            self._launch(prepared, attempt, intended, due, False)
            gate = self._gate(now)
        return gate

    def _gate(self, now: float) -> float:
        """When the adaptive rate lets the next send start (``now`` when not limiting)."""
        return now if self.limiter is None else self.limiter.ready_at(now)

    def _limiting(self) -> bool:
        return self.limiter is not None and self.limiter.enabled

    def _warn_missed(self) -> None:
        why = (
            f"all {self.max_in_flight} in-flight slots were taken"
            if self._slots_exhausted
            else "the client could not send fast enough"
        )
        logger.warning(
            "the client is the bottleneck: sends fell more than %.3g s behind schedule (%s); "
            "missed sends are counted, and the summary names the limit", self.max_lag, why,
        )  # fmt: skip

    async def _wait(self, deadline: float) -> None:
        """Until ``deadline`` (monotonic), a completion, or a control call, whichever is first."""
        if self._virtual:
            if self._inflight:  # instant targets: let them finish before time moves
                await asyncio.wait(set(self._inflight), return_when=asyncio.FIRST_COMPLETED)
                return
            if deadline < math.inf:
                await self.clock.asleep(deadline - self.clock.now())
                return
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = None
        if deadline < math.inf:
            delay = deadline - self.clock.now()
            if delay <= 0:
                return
            timer = loop.call_later(delay, _wake, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None

    def _launch(
        self, prepared: Prepared, attempt: int, intended: float, scheduled: float, missed: bool
    ) -> None:
        if self.limiter is not None:
            self.limiter.take(self.clock.now())
        task = asyncio.ensure_future(self._attempt(prepared, attempt, intended, scheduled, missed))
        self._inflight.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("stream attempt crashed", exc_info=task.exception())
        if self._wake_on_done:
            self._poke()

    async def _attempt(
        self, prepared: Prepared, attempt: int, intended: float, scheduled: float, missed: bool
    ) -> None:
        clock = self.clock
        pacer = self.pacer
        assert pacer is not None
        target_rate = pacer.rate_at(clock.now())
        handed = clock.now()
        try:
            response = await self.target.send(prepared)
        except PersonalizeSimError as e:  # the transport cannot go on (its file is full…)
            self._fail(e)
            response = Response(0, type(e).__name__, str(e))
        except Exception as e:  # a target bug must not lose the request: dead-letter it, loudly
            logger.exception("target %r raised while sending", self.target)
            response = Response(0, "TargetError", f"{type(e).__name__}: {e}")
        finished = clock.now()
        sent = acquired = handed
        if self._wire_stamps and handed <= response.started <= response.ended <= finished:
            sent, finished = response.started, response.ended  # the transport's own stamps
            acquired = response.acquired if handed <= response.acquired <= sent else sent
        decision = self.retry.decide(
            attempt=attempt,
            status=response.status,
            error_code=response.error_code,
            elapsed=finished - intended,
            rng=self.rng,
        )
        held = self.failure is not None and not response.status  # the run is ending on it
        if held or self._observe(
            response, handed, finished, decision.action is Outcome.DEAD_LETTER
        ):
            decision = _HELD  # the run ends: this request stays pending, never dead-lettered
        if decision.action is Outcome.DELIVERED and self.checkpoint is not None:
            try:
                self.checkpoint.add(prepared.id)
            except PersonalizeSimError as e:  # its disk is full: the run cannot go on
                self._fail(e)
        elif decision is _HELD:
            pass
        elif decision.action is Outcome.RETRY:
            due = finished + decision.delay
            heapq.heappush(self._retries, (due, next(self._seq), prepared, attempt + 1, intended))
            if due < self._wait_deadline:
                self._poke()
        elif decision.action is Outcome.DEAD_LETTER:
            self.dead_letters.append(prepared.dead_letter(response, decision.reason))
        t0 = self.origin if self.origin is not None else pacer.start
        self.emit(
            Attempt(
                request_id=prepared.id,
                attempt=attempt,
                worker=self.worker,
                events=prepared.events,
                intended=intended - t0,
                scheduled=scheduled - t0,
                sent=sent - t0,
                finished=finished - t0,
                status=int(response.status),
                error_code=response.error_code,
                message=response.message,
                outcome=decision.action,
                missed=missed,
                target_rate=math.nan if target_rate is None else target_rate * self.rate_scale,
                sdk_retries=int(response.sdk_retries),
                queued=acquired - handed,
            )
        )

    def _observe(self, response: Response, handed: float, now: float, giving_up: bool) -> bool:
        """Feed the adaptive rate; True when the run ends as the endpoint never answered
        (:mod:`._silence`)."""
        if response.status and self.limiter is not None:
            throttled = response.error_code in THROTTLING_CODES or response.status == 429
            self.limiter.on_response(now, throttled=throttled)
        if self.silence is None:
            self.silence = Silence(self.target.endpoint)
        error = self.silence.observe(response, handed=handed, now=now, giving_up=giving_up)
        if error is not None:
            self._fail(error, abandon=True)
        return error is not None

    def _fail(self, error: PersonalizeSimError, *, abandon: bool = False) -> None:
        """End the run with ``error`` (raised by :meth:`run`); with ``abandon`` (no answer is
        coming) the attempts on the wire are given up now, and stay pending, before one
        waiting for a connection or a thread is handed to the transport."""
        if self.failure is not None:
            return
        self.failure = error
        self.stop()
        current = asyncio.current_task()
        for task in self._inflight if abandon else ():
            if task is not current:
                task.cancel()

    def pending_retries(self) -> int:
        return len(self._retries)


#: an attempt whose request stays pending because the run ends (endpoint never answered)
_HELD = Decision(Outcome.RETRY, reason="the endpoint never answered")


def _wake(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)
