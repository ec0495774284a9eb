"""Simulated events per second of the closed loop, beside the open-loop simulator (a benchmark).

Four ways to make events, measured in one run, warm, interleaved, median of ``--repeat``
rounds, wall and this process's CPU seconds:

- ``open loop``: ``simulation.simulate`` (vectorised; recommenders do not learn), the baseline
  (its own size, ``--open-events``: a rate, not the same events);
- ``in-process``: ``closed_loop`` with ``OnlineArms`` (the emulator's models in this process);
- ``HTTP request/response``: ``closed_loop`` with ``RuntimeArms``: a boto3
  ``personalize-runtime`` call per session and a ``put_events`` per session, to a
  ``LocalTracker`` in its own process;
- ``real-time over HTTP``: ``closed_loop.realtime_loop`` with the events streamed by
  ``open_stream`` (replay schedule, played as fast as it goes: ``speedup`` 1e9).

The closed-loop modes run the same users (same config and seed) with a popularity and
a user-personalization arm; each prints events/s and its ratio to the open loop. The
emulator runs in its own process, started (untimed) afresh for every run.

    .venv/bin/python benchmarks/closed_loop.py                           # 400 users, 3 days
    .venv/bin/python benchmarks/closed_loop.py --users 30 --days 1 --repeat 1   # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

KINDS = {"top": "popularity", "mine": "user-personalization"}


Timed = tuple[int, float, float]  # events, wall s, CPU s of this process


def timed(run: Callable[[], int]) -> Timed:
    wall, cpu = time.perf_counter(), time.process_time()
    events = run()
    return events, time.perf_counter() - wall, time.process_time() - cpu


def open_loop(events: int) -> Callable[[], Timed]:
    from personalize_sim.simulation import simulate

    users = max(50, events)  # the retail preset makes about 1.25 events a user a day
    start = "2026-01-05T00:00:00Z"
    return lambda: timed(lambda: len(simulate("retail", users=users, days=1, rng=0, start=start)))


def in_process(config: Any) -> Callable[[], Timed]:
    from personalize_sim.closed_loop import OnlineArms, run_loop

    return lambda: timed(lambda: len(run_loop(config, OnlineArms(KINDS, rng=0), rng=0).events))


def http(config: Any) -> Callable[[], Timed]:
    """A fresh emulator (its own process) per run, so every run starts cold; the start is
    not timed."""
    from personalize_sim.closed_loop import RuntimeArms, run_loop
    from personalize_sim.tracker import LocalTracker

    def run() -> Timed:
        with LocalTracker(max_tps=0, rng=0, recommenders=KINDS) as tracker:
            arms = RuntimeArms(
                tracker.runtime_client(),
                tracker.recommender_arns,
                events_client=tracker.client(),
                tracking_id=tracker.tracking_id,
            )
            return timed(lambda: len(run_loop(config, arms, rng=0).events))

    return run


def realtime(config: Any) -> Callable[[], Timed]:
    """At speedup 1e9 every send is "late": a lag allowance of an hour keeps the stream from
    reporting itself as the bottleneck (it is the schedule that is impossible)."""
    from personalize_sim.closed_loop import realtime_loop
    from personalize_sim.streaming import Pacing
    from personalize_sim.tracker import LocalTracker

    def run() -> Timed:
        with LocalTracker(max_tps=0, rng=0, recommenders=KINDS) as tracker:

            def loop() -> int:
                result = realtime_loop(
                    config,
                    tracker.runtime_client(),
                    tracker.recommender_arns,
                    events_target=tracker.client(),
                    tracking_id=tracker.tracking_id,
                    speedup=1e9,
                    pacing=Pacing(max_lag=3600.0),
                    rng=0,
                )
                return result.delivery.delivered_events

            return timed(loop)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--open-events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from personalize_sim.closed_loop import LoopConfig

    config = LoopConfig(users=args.users, items=200, days=args.days, sessions_per_day=2)
    modes = {
        "open loop": open_loop(args.open_events),
        "in-process": in_process(config),
        "HTTP request/response": http(config),
        "real-time over HTTP": realtime(config),
    }
    for run in modes.values():  # warm: imports, caches, the first process start
        run()
    results: dict[str, list[Timed]] = {name: [] for name in modes}
    for round_ in range(args.repeat):
        order = list(modes) if round_ % 2 == 0 else list(reversed(modes))
        for name in order:
            results[name].append(modes[name]())
    base = None
    print(f"{'mode':24} {'events':>8} {'wall s':>8} {'cpu s':>8} {'events/s':>10} {'ratio':>8}")
    for name, runs in results.items():
        events = runs[0][0]
        wall = statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[2] for r in runs)
        rate = events / wall
        base = rate if base is None else base
        spread = f"(wall {min(r[1] for r in runs):.2f}-{max(r[1] for r in runs):.2f})"
        print(
            f"{name:24} {events:8d} {wall:8.2f} {cpu:8.2f} {rate:10.0f} {rate / base:8.4f} {spread}"
        )
    print("ratio = events/s of the mode / events/s of the open loop (same run)")
    print(
        "real-time at speedup 1e9 runs ahead of its own stream: later sessions see fewer of "
        "the earlier events than in the request/response loop, so it makes fewer clicks"
    )


if __name__ == "__main__":
    main()
