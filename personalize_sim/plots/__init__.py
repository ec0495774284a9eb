"""⑥ Matplotlib figures from delivery logs, events frames and reports.

Every function returns a :class:`matplotlib.figure.Figure` that a notebook shows as a
picture (no ``%matplotlib`` or pyplot needed). One-panel plots draw on ``ax=`` when given,
multi-panel ones on ``fig=`` (a figure or subfigure), else on a new figure; :func:`figure`
starts your own layout. Built with the object API, never pyplot: no global state, safe
from any thread.

Delivery (from ``handle.log``, a :class:`~personalize_sim.streaming.DeliveryLog`, or a handle):
:func:`delivery` (the three below, stacked), :func:`rate` (target vs achieved per second),
:func:`latency` (percentiles per second, from the intended time and from the send),
:func:`error_codes` (attempts per second by error code). A handle or a log is read from
its spill file a batch at a time, so a long run plots in bounded memory; the achieved rate
spreads each send over the interval to the next, so an exact schedule draws a flat line.

Simulated traffic (from an events frame with its ground-truth columns): :func:`traffic`
(all six), :func:`sessions` (by hour of day or weekday), :func:`funnel` (share of sessions
reaching each event type), :func:`popularity` (rank-frequency of items, log-log),
:func:`click_through` (by slate position), :func:`attribution_sources` (events by source).

Metric attribution (from :mod:`personalize_sim.attribution`'s frames):
:func:`attribution_windows`, :func:`attribution_totals`, :func:`attribution_counts`,
:func:`attributed_vs_incremental`. Realism (a real log against synthetic traffic):
:func:`realism`, :func:`realism_row`. Closed loop (``closed_loop.loop_metrics``):
:func:`loop` (Gini of impressions, coverage, click-through, new items, per arm).

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

from .._public import expose
from ._attribution_report import (
    attributed_vs_incremental,
    attribution_counts,
    attribution_totals,
    attribution_windows,
)
from ._delivery import delivery, error_codes, latency, rate
from ._figures import figure
from ._loop import loop
from ._realism import realism, realism_row
from ._simulation import (
    attribution_sources,
    click_through,
    funnel,
    popularity,
    sessions,
    traffic,
)

__all__ = [
    "attributed_vs_incremental",
    "attribution_counts",
    "attribution_sources",
    "attribution_totals",
    "attribution_windows",
    "click_through",
    "delivery",
    "error_codes",
    "figure",
    "funnel",
    "latency",
    "loop",
    "popularity",
    "rate",
    "realism",
    "realism_row",
    "sessions",
    "traffic",
]

expose(__name__, globals(), __all__)
