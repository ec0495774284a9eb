"""What a handle drives: one sender on the handle's own thread, in its own event loop.

(:mod:`._workers` drives N processes instead.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._records import Attempt, DeadLetter
from ._sender import Sender

if TYPE_CHECKING:
    from ..clock import Clock
    from ._checkpoint import Checkpoint
    from ._log import DeliveryLog
    from ._options import Pacing
    from ._retry import RetryPolicy
    from ._schedules import Schedule
    from ._transports import Target
    from ._wire import Prepared

__all__ = ["Engine", "LocalEngine", "close_target", "new_event_loop"]

logger = logging.getLogger("personalize_sim.streaming")


class Engine:
    """The interface a :class:`~._handle.StreamHandle` drives."""

    def run(self, emit: Callable[[Attempt], None]) -> None:
        """Send everything, handing each attempt record to ``emit`` (on the handle's thread)."""
        raise NotImplementedError

    def control(self, name: str, *args: Any) -> None:
        """Apply ``pause``, ``resume``, ``stop`` or ``set_rate(rate)``; from any thread."""
        raise NotImplementedError

    def dead_letters(self) -> list[DeadLetter]:
        return []


async def close_target(target: Target) -> None:
    """Release the transport: a failure to is a warning, never the run's failure (every
    answer is counted by then, and the summary must still be given)."""
    try:
        await target.close()
    except Exception as e:
        logger.warning("closing %r failed (%s: %s); the run's record is complete",
                       target, type(e).__name__, e)  # fmt: skip


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (cheaper per request on the fast path), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
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
        pacing: Pacing,
        checkpoint: Checkpoint | None,
        log: DeliveryLog,
        count_input: bool = True,
    ) -> None:
        self.target = target
        self.checkpoint = checkpoint
        self.loop = new_event_loop()
        self._thread_id: int | None = None
        self.sender = Sender(
            prepared, target, schedule, emit=_unset,
            on_input=(lambda p: log.add_input(1, p.events)) if count_input else None,
            clock=clock, retry=retry, rng=rng, pacing=pacing, checkpoint=checkpoint,
        )  # fmt: skip

    def run(self, emit: Callable[[Attempt], None]) -> None:
        self.sender.emit = emit
        self._thread_id = threading.get_ident()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _main(self) -> None:
        with contextlib.ExitStack() as stack:
            if self.checkpoint is not None:
                stack.enter_context(self.checkpoint)
            await self.target.open()
            try:
                await self.sender.run()
            finally:
                await close_target(self.target)

    def control(self, name: str, *args: Any) -> None:
        action = getattr(self.sender, name)
        if threading.get_ident() == self._thread_id:
            action(*args)  # from a listener: apply now, deterministically
            return
        # a closed loop means the stream is over: there is nothing left to control
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(action, *args)

    def dead_letters(self) -> list[DeadLetter]:
        return list(self.sender.dead_letters)


def _unset(record: Attempt) -> None:
    raise RuntimeError("the engine emits records only while it runs")
