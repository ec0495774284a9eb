"""``StreamHandle``: a stream you can start, pause, resume, stop, re-rate, watch and wait for.

The stream runs on its own thread with its own event loop, so the same code works from a
script and inside Jupyter (whose own loop is already running in the main thread). Control
calls are thread-safe; called from a listener (the stream's own thread) they apply at once.
Listeners get every attempt record; a listener that raises is logged, never fatal: views
such as the dashboard attach this way, so the stream never depends on them.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._checks import positive
from ..errors import ConfigTypeError, DeliveryError, PersonalizeSimError
from ._records import Attempt
from ._summary import DeliverySummary, StreamState

if TYPE_CHECKING:
    import pandas as pd

    from ._engine import Engine
    from ._log import DeliveryLog

__all__ = ["Listener", "StreamHandle", "in_event_loop"]

logger = logging.getLogger("personalize_sim.streaming")

Listener = Callable[[Attempt], Any]


class StreamHandle:
    """Control and observe one stream (from :func:`open_stream` or ``personalize_sim.stream``).

    ``state`` is a :class:`StreamState`; ``summary`` a :class:`DeliverySummary`; ``log`` one
    row per attempt; ``dead_letters`` the requests given up; ``problems`` the rows refused
    before sending (``Conversion(invalid="skip")``).
    """

    def __init__(
        self,
        engine: Engine,
        log: DeliveryLog,
        *,
        listeners: tuple[Listener, ...] = (),
        problems: pd.DataFrame | None = None,
    ) -> None:
        self._engine = engine
        self._log = log
        self.listeners: list[Listener] = []
        for listener in listeners:
            self.add_listener(listener)
        self.problems = problems
        self.state = StreamState.NEW
        #: the live Dashboard shown by ``stream(..., dashboard=True)``, else None
        self.dashboard: Any = None
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()
        self._error: BaseException | None = None
        self._broken: set[int] = set()
        self._stop_requested = False

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> StreamHandle:
        """Start sending on the stream's own thread; returns at once."""
        if self._thread is not None:
            raise RuntimeError("this stream has already been started")
        self.state = StreamState.RUNNING
        self._thread = threading.Thread(
            target=self._main, name="personalize-sim-stream", daemon=True
        )
        self._thread.start()
        return self

    def run(self, *, wait: bool | None = None) -> StreamHandle:
        """Start, then block until the stream ends unless ``wait`` is false.

        By default (``wait=None``) it waits in a script and returns at once inside a running
        event loop (a Jupyter kernel), so a notebook cell never blocks. Ctrl-C while waiting
        stops the stream, lets the requests on the wire finish, and re-raises.
        """
        self.start()
        if wait is None:
            wait = not in_event_loop()
        if wait:
            try:
                self.wait()
            except KeyboardInterrupt:
                self.stop()
                self._finished.wait()
                raise
        return self

    def _main(self) -> None:
        try:
            self._engine.run(self.emit)
        except BaseException as e:  # surfaced by wait(); never lost in a thread
            self._error = e
            self.state = StreamState.FAILED
            # an error we explain is re-raised by wait(): logging it too would say it twice
            log = logger.debug if isinstance(e, PersonalizeSimError) else logger.error
            log("stream failed: %s", e)
        finally:
            if self.state is not StreamState.FAILED:
                self.state = StreamState.STOPPED if self._stop_requested else StreamState.DONE
            self._finished.set()

    # -- control ---------------------------------------------------------------------------------
    def pause(self) -> None:
        """Stop sending until :meth:`resume`; what is on the wire finishes."""
        self._engine.control("pause")
        self._set_state(StreamState.PAUSED)

    def resume(self) -> None:
        """Carry on from where the schedule was, shifted by the time spent paused."""
        self._engine.control("resume")
        self._set_state(StreamState.RUNNING)

    def stop(self) -> None:
        """Send nothing more; requests on the wire finish; the rest stay ``pending``."""
        self._stop_requested = True
        self._engine.control("stop")
        self._set_state(StreamState.STOPPING)

    def set_rate(self, rate: float) -> None:
        """Continue at ``rate`` (the schedule's unit per second) from the next send on."""
        rate = positive(rate, "rate")
        self._engine.control("set_rate", rate)
        log = self._log
        log.target_rate = rate
        planned = log.settings.schedule.split("; set to ")[0]
        schedule = f"{planned}; set to {rate:g} {log.unit}/s while running"
        log.settings = dataclasses.replace(log.settings, schedule=schedule)

    def _set_state(self, state: StreamState) -> None:
        if not self._finished.is_set():
            self.state = state

    def wait(self, timeout: float | None = None) -> DeliverySummary:
        """Block until the stream ends; return its summary (re-raises a crash of the stream)."""
        if self._thread is None:
            raise RuntimeError("the stream has not been started: call start() or run()")
        if not self._finished.wait(timeout):
            raise TimeoutError(f"the stream is still {self.state} after {timeout} s")
        if self._error is not None:
            raise self._error
        return self.summary

    async def wait_async(self) -> DeliverySummary:
        """``await handle.wait_async()`` in a notebook cell: waits without blocking its loop."""
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(None, self.wait)

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def raise_for_delivery(self) -> None:
        """Raise :class:`DeliveryError` unless every input event was delivered."""
        s = self.summary
        if not s.complete:
            raise DeliveryError(
                f"{s.delivered_events + s.resumed_events} of {s.input_events} events "
                f"delivered; {s.dead_letter_events} dead-lettered, {s.pending_events} "
                f"pending, {s.rejected_rows} rows rejected before sending",
                summary=s,
            )

    def __enter__(self) -> StreamHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.done:
            self.stop()
        if self._thread is not None:
            self._finished.wait()

    # -- observing ---------------------------------------------------------------------------
    def emit(self, record: Attempt) -> None:
        """Record one attempt and tell the listeners (called on the stream's thread)."""
        self._log.add(record)
        for listener in list(self.listeners):
            self._tell(listener, record)

    def _tell(self, listener: Listener, record: Attempt) -> None:
        try:
            listener(record)
        except Exception:
            key = id(listener)
            if key not in self._broken:  # one traceback per listener, not one per record
                self._broken.add(key)
                logger.exception("stream listener %r failed; the stream goes on", listener)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(record)`` with every attempt record from now on."""
        if not callable(listener):
            raise ConfigTypeError("listener", listener, "a callable taking an Attempt")
        self.listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self.listeners.remove(listener)

    @property
    def summary(self) -> DeliverySummary:
        """The summary so far (final once the stream is done)."""
        return self._log.summary(self.state)

    def live_summary(self) -> DeliverySummary:
        """The summary without latency percentiles: cheap enough for a live display."""
        return self._log.summary(self.state, percentiles=False)

    @property
    def log(self) -> pd.DataFrame:
        """One row per attempt so far (columns: see :mod:`personalize_sim.streaming._records`);
        read back from the log's spill file, so memory during the stream stays bounded.
        ``handle.delivery_log.write(path)`` saves it without building the frame."""
        return self._log.frame()

    @property
    def delivery_log(self) -> DeliveryLog:
        return self._log

    def per_second(self) -> pd.DataFrame:
        return self._log.per_second()

    @property
    def dead_letters(self) -> pd.DataFrame:
        """Requests that were not delivered: id, events, error code, message, reason, request."""
        import pandas as pd

        columns = ["request_id", "events", "error_code", "message", "reason", "request"]
        rows = [[getattr(d, c) for c in columns] for d in self._engine.dead_letters()]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.astype({"request_id": "string", "events": "int64", "error_code": "string",
                             "message": "string", "reason": "string"})  # fmt: skip

    def __repr__(self) -> str:
        s = self.live_summary()
        return (
            f"<StreamHandle {self.state}: {s.delivered_events}/{s.input_events} events "
            f"delivered, {s.dead_letter_events} dead-lettered, {s.attempts} attempts>"
        )

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(repr(self))}</code>"


def in_event_loop() -> bool:
    """True inside Jupyter/IPython kernels and async code, where a call must not block."""
    import asyncio
    import sys

    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        pass
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = getattr(ipython, "get_ipython", lambda: None)()
        if shell is not None and "IPKernelApp" in getattr(shell, "config", {}):
            return True
    return False
