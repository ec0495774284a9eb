"""⑥ A live ipywidgets dashboard for a stream.

In a notebook, ``stream(..., dashboard=True)`` shows one (it is ``handle.dashboard``)::

    fast = FastTarget(endpoint_url=tracker.endpoint_url)
    handle = stream(frame, rate=50, tracking_id=tracker.tracking_id, target=fast, dashboard=True)
    summary = handle.dashboard.wait()     # in a later cell: the stream ended, the view shows it

or attach one to any handle (running, finished or not yet started)::

    dash = Dashboard(handle).display()

How it stays safe in a notebook (``docs/reference/jupyter-widgets.md``): the widget tree is
displayed once, from the caller's thread; afterwards a throttled updater thread (at most
4 updates per second, the chart at most once a second) only assigns trait values, and the
chart's Output widget gets its ``outputs`` replaced in one assignment (never ``with out:``,
which captures whatever any thread prints). The dashboard listens to the stream's attempt
records through a listener that only appends to a queue; any error in the dashboard is
logged once and never reaches the stream.

How it is laid out: ``_dashboard`` (the widget tree, the updater thread, the controls),
``_panels`` (what it shows: counters, estimates, the HTML and the chart).
"""

from __future__ import annotations

from .._public import expose
from ._dashboard import Dashboard

__all__ = ["Dashboard"]

expose(__name__, globals(), __all__)
