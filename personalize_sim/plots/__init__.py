"""⑥ Matplotlib figures from delivery logs, events frames and reports.

Every function returns a :class:`matplotlib.figure.Figure` that a notebook shows as a
picture (no ``%matplotlib`` or pyplot needed). One-panel plots draw on ``ax=`` when given,
multi-panel ones on ``fig=`` (a figure or subfigure), else on a new figure; :func:`figure`
starts your own layout. Built with the object API, never pyplot: no global state, safe
from any thread.

Delivery (from ``handle.log``, a :class:`~personalize_sim.streaming.DeliveryLog`, or a handle):
:func:`delivery` (the three below, stacked), :func:`rate` (target vs achieved per second),
:func:`latency` (percentiles per second, from the intended time and from the send),
:func:`errors` (attempts per second by error code).

Simulation (from an events frame with its ground-truth columns): :func:`simulation`
(all six), :func:`sessions` (by hour of day or weekday), :func:`funnel` (share of sessions
reaching each event type), :func:`popularity` (rank-frequency of items, log-log),
:func:`click_through` (by slate position), :func:`attribution` (events by source).

Metric attribution (from :mod:`personalize_sim.attribution`'s frames):
:func:`attribution_windows`, :func:`attribution_totals`, :func:`attribution_counts`,
:func:`attributed_vs_incremental`. Realism (a real log against synthetic traffic):
:func:`realism`, :func:`realism_row`. Closed loop (``simulation.loop_metrics``):
:func:`closed_loop` (Gini of impressions, coverage, click-through, new items, per arm).

>>> from personalize_sim import stream
>>> from personalize_sim.streaming import MemoryTarget
>>> requests = [{"trackingId": "t", "sessionId": f"s{i}",
...              "eventList": [{"eventId": f"e{i}", "eventType": "View", "sentAt": 1.7e9}]}
...             for i in range(20)]
>>> handle = stream(requests, rate=1000, target=MemoryTarget())
>>> fig = delivery(handle.log)      # then fig.savefig("delivery.png"), or show it in a notebook
>>> [ax.get_title().split(" (")[0] for ax in fig.axes]
['send rate: target vs achieved', 'latency percentiles', 'errors by code']
"""

from ._attribution_report import (
    attributed_vs_incremental,
    attribution_counts,
    attribution_totals,
    attribution_windows,
)
from ._closed_loop import closed_loop
from ._delivery import (
    Series,
    bin_width,
    delivery,
    draw_errors,
    draw_latency,
    draw_rate,
    errors,
    latency,
    rate,
    series,
)
from ._figures import figure
from ._realism import realism, realism_row
from ._simulation import attribution, click_through, funnel, popularity, sessions, simulation

__all__ = [
    "Series",
    "attributed_vs_incremental",
    "attribution",
    "attribution_counts",
    "attribution_totals",
    "attribution_windows",
    "bin_width",
    "click_through",
    "closed_loop",
    "delivery",
    "draw_errors",
    "draw_latency",
    "draw_rate",
    "errors",
    "figure",
    "funnel",
    "latency",
    "popularity",
    "rate",
    "realism",
    "realism_row",
    "series",
    "sessions",
    "simulation",
]
