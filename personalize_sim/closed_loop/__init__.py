"""⑤ The closed loop: simulated users ask a recommender for slates, click, and it learns.

:func:`run_loop` plays sessions in event-time order against a set of *arms* (an A/B
split by user): :class:`OnlineArms` serves them in-process from the online models of
:mod:`personalize_sim.online` (fast, offline); :class:`RuntimeArms` calls any boto3
``personalize-runtime`` client (the emulator's, or a real campaign or recommender) and
sends each session's events back with a ``personalize-events`` client.
:func:`realtime_loop` runs the sessions on the wall-clock schedule instead and streams
each event through :func:`personalize_sim.streaming.open_stream` as it happens.
:func:`loop_metrics` gives, per day and arm, the Gini of impressions, catalog coverage,
click-through and the share of new items ever recommended
(:func:`personalize_sim.plots.loop` draws them).

The package sits above ``simulation`` and ``streaming`` (it uses both), beside
``attribution`` and ``calibration`` (see docs/architecture.md).

How it is laid out::

    _driver     LoopConfig, LoopResult, run_loop: sessions in event-time order, the users' clicks
    _arms       OnlineArms (models in-process), RuntimeArms (a personalize-runtime client)
    _metrics    loop_metrics: Gini of impressions, coverage, click-through, new items shown
    _realtime   realtime_loop: sessions on the schedule, events through a stream

>>> arms = OnlineArms({"top": "popularity"}, rng=0)
>>> result = run_loop(LoopConfig(users=20, items=10, days=1), arms, rng=0)
>>> sorted(loop_metrics(result)["ARM"].unique())
['top']
"""

from __future__ import annotations

from .._public import expose
from ._arms import OnlineArms, RuntimeArms
from ._driver import LoopConfig, LoopResult, run_loop
from ._metrics import loop_metrics
from ._realtime import RealtimeResult, realtime_loop

__all__ = [
    "LoopConfig",
    "LoopResult",
    "OnlineArms",
    "RealtimeResult",
    "RuntimeArms",
    "loop_metrics",
    "realtime_loop",
    "run_loop",
]

expose(__name__, globals(), __all__)
