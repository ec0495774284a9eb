"""The one-call entry points that compose the parts: ``stream(..., dashboard=True)``.

The streaming package knows nothing of widgets; this module builds the stream, attaches
the dashboard as one more listener of its handle, then starts it.
"""

from __future__ import annotations

import logging
from typing import Any

from .streaming import StreamHandle, open_stream

__all__ = ["stream"]

logger = logging.getLogger("personalize_sim")


def stream(
    source: Any,
    *,
    rate: Any,
    wait: bool | None = None,
    dashboard: bool = False,
    **options: Any,
) -> StreamHandle:
    """Stream ``source`` to a tracker at ``rate``; returns the running :class:`StreamHandle`.

    ``options`` are those of :func:`personalize_sim.streaming.open_stream` (``tracking_id``,
    ``target``, ``retry``, ``checkpoint``, ``processes`` …). In a notebook (a running event
    loop) the handle returns at once; in a script the call blocks until the end (``wait=``
    overrides). ``dashboard=True`` displays a live :class:`~personalize_sim.Dashboard`
    before the first send; it is ``handle.dashboard``.

    >>> from personalize_sim.streaming import MemoryTarget
    >>> requests = [{"trackingId": "t", "sessionId": "s",
    ...              "eventList": [{"eventId": "e1", "eventType": "View", "sentAt": 1.7e9}]}]
    >>> stream(requests, rate=100, target=MemoryTarget()).summary["delivered_events"]
    1
    """
    handle = open_stream(source, rate=rate, **options)
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
