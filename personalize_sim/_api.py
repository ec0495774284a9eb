"""The one-call entry point that composes the parts: ``stream(..., dashboard=True)``.

The streaming package knows nothing of widgets; this module opens the stream, attaches
the dashboard as one more listener of its handle, then starts it. The stream's own
arguments are declared once, by :func:`~personalize_sim.streaming.open_stream`: ``stream``
passes them through and shows them in its signature, so the two cannot drift apart.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from .streaming import StreamHandle, open_stream

__all__ = ["stream"]

logger = logging.getLogger("personalize_sim")


def stream(
    source: Any, *, dashboard: bool = False, wait: bool | None = None, **options: Any
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
    try:
        _SIGNATURE.bind(source, dashboard=dashboard, wait=wait, **options)
    except TypeError as e:  # named as the caller wrote it, not as open_stream
        raise TypeError(f"stream(): {e}") from None
    handle = open_stream(source, **options)
    if dashboard:
        handle.dashboard = _show_dashboard(handle)
    return handle.run(wait=wait)


def _signature() -> inspect.Signature:
    """open_stream's parameters, then stream's own (what help() and IDEs show)."""
    own = inspect.signature(stream).parameters
    shared = inspect.signature(open_stream)
    mine = [own["dashboard"], own["wait"]]
    return shared.replace(parameters=[*shared.parameters.values(), *mine])


_SIGNATURE = _signature()
stream.__signature__ = _SIGNATURE  # type: ignore[attr-defined]


def _show_dashboard(handle: StreamHandle) -> Any:
    """Display a dashboard for ``handle``; a dashboard that fails must not stop the stream."""
    try:
        from .widgets import Dashboard

        return Dashboard(handle).display()
    except Exception:
        logger.exception("the dashboard could not be shown; the stream goes on without it")
        return None
