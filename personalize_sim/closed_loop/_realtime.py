"""The real-time closed loop: a loop thread produces sessions on time, a stream sends them."""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._checks import positive
from ..clock import Clock, SystemClock
from ..streaming import DeliverySummary, Pacing, RetryPolicy, open_stream, replay
from ._arms import RuntimeArms, loop_requests
from ._driver import LoopConfig, LoopEvent, LoopResult, run_loop

__all__ = ["RealtimeResult", "realtime_loop"]

_END = object()


@dataclass(frozen=True, eq=False)
class RealtimeResult:
    """The loop's result (slates, events, failed slates) and the stream's delivery summary."""

    loop: LoopResult
    delivery: DeliverySummary
    slate_counts: Mapping[str, int]  # attempts, retries, failed_slates of the slate requests


class _StreamedArms:
    """Slates from a runtime client; each session's PutEvents request goes to the stream."""

    def __init__(self, arms: RuntimeArms, tracking_id: str, out: queue.Queue[Any]) -> None:
        self.arms, self.arns = arms, arms.arns
        self.tracking_id, self.out = tracking_id, out

    def slate(self, arm: str, user_id: str, n: int, at: float) -> tuple[list[str], str]:
        return self.arms.slate(arm, user_id, n, at)

    def feedback(self, events: Sequence[LoopEvent]) -> None:
        for request in loop_requests(events, self.tracking_id):
            self.out.put(request)


def realtime_loop(
    config: LoopConfig,
    runtime_client: Any,
    arns: Mapping[str, str],
    *,
    events_target: Any,
    tracking_id: str,
    speedup: float = 1.0,
    retry: RetryPolicy | None = None,
    pacing: Pacing | None = None,
    clock: Clock | None = None,
    rng: Any = None,
) -> RealtimeResult:
    """Run ``config``'s users against ``arns`` (arm -> campaign or recommender ARN) in real time.

    ``events_target`` is what :func:`~personalize_sim.streaming.open_stream` takes (a boto3
    ``personalize-events`` client, ``"fast"``, a ``Target``); ``speedup`` plays event time
    that many times faster (``speedup=86400`` plays a day in a second); ``retry`` is the
    streaming layer's policy, for slates and events alike; ``pacing`` goes to the stream.

    >>> from personalize_sim.closed_loop import LoopConfig, LoopResult
    >>> from personalize_sim.tracker import LocalTracker
    >>> config = LoopConfig(users=10, items=20, days=1, sessions_per_day=1)
    >>> with LocalTracker(process=False, max_tps=0, recommenders={"top": "popularity"}) as t:
    ...     result = realtime_loop(
    ...         config, t.runtime_client(), t.recommender_arns, events_target=t.client(),
    ...         tracking_id=t.tracking_id, speedup=864_000, rng=0,
    ...     )  # a day in a tenth of a second
    ...     stored = len(t.events())
    >>> isinstance(result, RealtimeResult) and isinstance(result.loop, LoopResult)
    True
    >>> result.delivery.delivered_events == len(result.loop.events) == stored
    True
    """
    positive(speedup, "speedup")
    retry = RetryPolicy() if retry is None else retry
    clock = SystemClock() if clock is None else clock
    pending: queue.Queue[Any] = queue.Queue()
    arms = RuntimeArms(runtime_client, arns, retry=retry, sleep=clock.sleep)
    streamed = _StreamedArms(arms, tracking_id, pending)
    began, first = clock.now(), config.start.timestamp()

    def wait_for(at: float) -> None:
        delay = began + (at - first) / speedup - clock.now()
        if delay > 0:
            clock.sleep(delay)

    outcome: dict[str, Any] = {}

    def play() -> None:
        try:
            outcome["loop"] = run_loop(config, streamed, rng=rng, on_session=wait_for)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc
        finally:
            pending.put(_END)

    loop_thread = threading.Thread(target=play, name="closed-loop", daemon=True)
    loop_thread.start()
    handle = open_stream(
        iter(pending.get, _END),
        rate=replay(speedup),
        target=events_target,
        retry=retry,
        pacing=pacing,
    )
    summary = handle.run(wait=True).summary
    loop_thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return RealtimeResult(loop=outcome["loop"], delivery=summary, slate_counts=dict(arms.counts))
