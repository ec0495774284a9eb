"""The closed loop in real time: sessions unfold on the schedule, events stream as they happen.

:func:`realtime_loop` runs :func:`personalize_sim.simulation.closed_loop` against a
``personalize-runtime`` client (the emulator's, or a real campaign or recommender): each
session waits for its time (``speedup`` times faster than event time), asks for its
slate then, and hands its events to a stream (:func:`personalize_sim.streaming.open_stream`
with a ``replay`` schedule, the streaming layer's retries, pacing and delivery log), which
sends each when it happens; so later users get recommendations learnt from earlier ones.
Slate requests are retried with the same :class:`~personalize_sim.streaming.RetryPolicy`.

It sits above ``simulation`` and ``streaming`` (the models never import the sender), beside
``attribution``. The request/response loop without a stream is
``simulation.closed_loop(config, simulation.RuntimeArms(...))``; the in-process one
``simulation.closed_loop(config, simulation.OnlineArms(...))``.
"""

from __future__ import annotations

from ._realtime import RealtimeResult, realtime_loop

__all__ = ["RealtimeResult", "realtime_loop"]
