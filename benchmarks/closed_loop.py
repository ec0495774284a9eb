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

Then the cost of a filtered request beside an unfiltered one (:func:`filter_cost`): one
emulator in its own process, relearning a store of ``--filter-items`` items (every item
viewed, a long tail of views from 5,000 users, 100 buyers with 50 purchases each among the
popular items, a CATEGORY of 20 per item), answers ``GetRecommendations`` (popularity, 25
items) to the buyers, unfiltered, with ``EXCLUDE ... Interactions.EVENT_TYPE IN
("purchase")`` and with ``INCLUDE ... Items.CATEGORY IN ($C)``: requests/s and CPU per
request of the emulator's process (psutil) and of this one (the boto3 client), warm,
interleaved, median and range of ``--repeat`` rounds.

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


FILTERS = {
    "unbought": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
    "category": "INCLUDE ItemID WHERE Items.CATEGORY IN ($C)",
}


def filter_store(path: str, items: int, rng: int = 0) -> None:
    """A store the emulator resumes from: views, purchases and items (docs/architecture.md,
    "Emulator store"), written directly, so 100k items do not cost 100k HTTP calls."""
    import json

    import numpy as np

    from personalize_sim.tracker._store import Store

    gen = np.random.default_rng(rng)
    store = Store(path)
    views = np.concatenate([np.arange(items), gen.zipf(1.3, items) % items])
    viewers = gen.integers(0, 5000, len(views))
    rows: list[tuple[Any, ...]] = []
    for n, (item, user) in enumerate(zip(views, viewers, strict=True)):
        rows.append(("t", f"viewer-{user}", f"s-{user}", f"v{n}", "View", None, f"item-{item}",
                     None, 1e9 + n, None, None, None, 1e9 + n))  # fmt: skip
    for buyer in range(100):
        for k, item in enumerate(gen.choice(200, 50, replace=False)):
            rows.append(("t", f"buyer-{buyer}", f"b-{buyer}", f"p{buyer}-{k}", "Purchase", None,
                         f"item-{item}", None, 2e9 + k, None, None, None, 2e9 + k))  # fmt: skip
    arn = "arn:aws:personalize:us-east-1:000000000000:dataset/bench/ITEMS"
    records = [(arn, f"item-{i}", json.dumps({"category": f"c{i % 20}"}), 1e9)
               for i in range(items)]  # fmt: skip
    store.write([("events", rows), ("items", records)])
    store.close()


def filter_cost(items: int, requests: int, repeat: int) -> None:
    import os
    import tempfile

    import psutil

    from personalize_sim.tracker import LocalTracker

    folder = tempfile.mkdtemp(prefix="filter-cost-")
    path = os.path.join(folder, "store.db")
    filter_store(path, items)
    with LocalTracker(db_path=path, max_tps=0, rng=0, recommenders={"top": "popularity"},
                      filters=FILTERS) as tracker:  # fmt: skip
        runtime, server = tracker.runtime_client(), psutil.Process(tracker.process.pid)
        top, arns = tracker.recommender_arns["top"], tracker.config.filter_arns
        modes = {
            "unfiltered": {},
            "exclude purchased": {"filterArn": arns["unbought"]},
            "category IN ($C)": {"filterArn": arns["category"], "filterValues": {"C": '"c7"'}},
        }

        def measure(extra: dict[str, Any]) -> tuple[float, float, float]:
            cpu, wall = server.cpu_times(), time.perf_counter()
            mine = time.process_time()
            for n in range(requests):
                answer = runtime.get_recommendations(recommenderArn=top, userId=f"buyer-{n % 100}",
                                                     numResults=25, **extra)  # fmt: skip
                assert len(answer["itemList"]) == 25
            wall = time.perf_counter() - wall
            spent = sum(server.cpu_times()[:2]) - sum(cpu[:2])
            return (
                requests / wall,
                spent / requests * 1e3,
                (time.process_time() - mine) / requests * 1e3,
            )

        for extra in modes.values():  # warm
            measure(extra)
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in modes}
        for round_ in range(repeat):
            for name in list(modes) if round_ % 2 == 0 else list(reversed(modes)):
                runs[name].append(measure(modes[name]))
    print(f"\nfiltered GetRecommendations at {items} items ({requests} requests x {repeat} rounds, "
          "median [min-max])")  # fmt: skip
    print(f"{'mode':20} {'requests/s':>22} {'emulator CPU ms/req':>24} {'client CPU ms/req':>18}")
    base = statistics.median(r[1] for r in runs["unfiltered"])
    for name, found in runs.items():
        rate, cpu, client = ([r[i] for r in found] for i in range(3))
        mid = statistics.median(cpu)
        print(f"{name:20} {statistics.median(rate):8.0f} [{min(rate):5.0f}-{max(rate):5.0f}]"
              f"   {mid:8.3f} [{min(cpu):.3f}-{max(cpu):.3f}]"
              f"   {statistics.median(client):8.3f}  x{mid / base:.2f}")  # fmt: skip
    worst = max(statistics.median(r[1] for r in runs[n]) for n in modes) / base
    print(
        f"filtered / unfiltered emulator CPU per request: at most x{worst:.2f} "
        f"({'within' if worst <= 2 else 'NOT within'} 2x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--open-events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--filter-items", type=int, default=100_000)
    parser.add_argument("--filter-requests", type=int, default=500)
    parser.add_argument("--only-filters", action="store_true", help="the filter cost alone")
    args = parser.parse_args()
    if args.only_filters:
        filter_cost(args.filter_items, args.filter_requests, max(3, args.repeat))
        return

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
    filter_cost(args.filter_items, args.filter_requests, max(3, args.repeat))


if __name__ == "__main__":
    main()
