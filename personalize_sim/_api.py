"""The one-call entry point that composes the parts: ``stream(..., dashboard=True)``.

The streaming package knows nothing of widgets; this module opens the stream, attaches
the dashboard as one more listener of its handle, then starts it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .streaming import Conversion, Pacing, RetryPolicy, StreamHandle, open_stream
from .streaming.internal import Listener, Schedule

if TYPE_CHECKING:
    import os

    from .clock import Clock

__all__ = ["stream"]

logger = logging.getLogger("personalize_sim")


def stream(
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
    dashboard: bool = False,
    wait: bool | None = None,
) -> StreamHandle:
    """Stream ``source`` to a tracker at ``rate``; returns the :class:`StreamHandle`.

    The arguments up to ``rng`` are those of :func:`personalize_sim.streaming.open_stream`
    (what to send, where, how fast, how to retry). ``dashboard=True`` displays a live
    :class:`~personalize_sim.Dashboard` (in Jupyter) before the first send; it is
    ``handle.dashboard``. In a notebook (a running event loop) the handle returns at once;
    in a script the call blocks until the stream ends (``wait=`` overrides).

    >>> from personalize_sim.streaming import MemoryTarget
    >>> requests = [{"trackingId": "t", "sessionId": "s",
    ...              "eventList": [{"eventId": "e1", "eventType": "View", "sentAt": 1.7e9}]}]
    >>> stream(requests, rate=100, target=MemoryTarget()).summary.delivered_events
    1
    """
    handle = open_stream(
        source, rate=rate, tracking_id=tracking_id, target=target, retry=retry, pacing=pacing,
        conversion=conversion, checkpoint=checkpoint, processes=processes, listeners=listeners,
        max_records=max_records, clock=clock, rng=rng,
    )  # fmt: skip
    if dashboard:
        handle.dashboard = _show_dashboard(handle)
    return handle.run(wait=wait)


def _show_dashboard(handle: StreamHandle) -> Any:
    """Display a dashboard for ``handle``; a dashboard that fails must not stop the stream."""
    try:
        from .widgets import Dashboard

        return Dashboard(handle).display()
    except Exception:
        logger.exception("the dashboard could not be shown; the stream goes on without it")
        return None
