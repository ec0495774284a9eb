"""Speed and memory of the simulator (a benchmark, not a test).

1. The retail preset with slates, ~5,000,000 events in memory with ``simulate``:
   events/s (wall and CPU) and the process's peak RSS; then the same events as Arrow
   tables (``iter_simulate(arrow=True)``), which skips building Python lists.
2. ~20,000,000 events through ``iter_simulate(arrow=True)`` into partitioned Parquet
   (1M-row parts): peak RSS.
3. Baseline in the same run: the same behaviour (personas, funnel, per-session slates,
   position click model, properties, values) written the obvious way, one Python loop
   iteration per event as the Retail Demo Store generator does, on a 100k-event sample.

Each measurement runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own.
Targets (issue 4): ≥ 1,000,000 events/s; 20M chunked with peak RSS ≤ 2 GB.

    .venv/bin/python benchmarks/simulate.py            # full run (about a minute)
    .venv/bin/python benchmarks/simulate.py --quick    # 1M / 4M events
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time

NOW = "2026-11-26T00:00:00+00:00"


def retail(events: int):  # -> SimulationConfig
    """The retail preset scaled (by users) to about ``events`` events."""
    from personalize_sim import SimulationConfig

    config = SimulationConfig.preset("retail")
    per_user = config.expected_events_per_day() / config.population.users * config.time.days
    # new users join mid-window, so they contribute about half their share
    per_user *= 1 - config.population.new_user_share / 2
    return config.replace(users=math.ceil(events / per_user))


def child_in_memory(events: int) -> dict:
    import datetime as dt

    from personalize_sim import simulate

    config = retail(events)
    now = dt.datetime.fromisoformat(NOW)
    wall, cpu = time.perf_counter(), time.process_time()
    frame = simulate(config, now=now)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    slates = int(frame["IMPRESSION"].notna().sum())
    return {
        "events": len(frame),
        "users": config.population.users,
        "wall": wall,
        "cpu": cpu,
        "slates": slates,
        "rss_mb": peak_rss_mb(),
    }


def child_arrow(events: int) -> dict:
    """The same events as Arrow tables, in memory: the engine without Python lists."""
    import datetime as dt

    from personalize_sim import iter_simulate

    config = retail(events)
    now = dt.datetime.fromisoformat(NOW)
    wall, cpu = time.perf_counter(), time.process_time()
    tables = list(iter_simulate(config, now=now, chunk_events=1_000_000, arrow=True))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "events": sum(t.num_rows for t in tables),
        "wall": wall,
        "cpu": cpu,
        "rss_mb": peak_rss_mb(),
    }


def child_chunked(events: int, out: str) -> dict:
    import datetime as dt

    from personalize_sim import iter_simulate
    from personalize_sim.simulation import write_parquet

    config = retail(events)
    now = dt.datetime.fromisoformat(NOW)
    counted = 0

    def counting():
        nonlocal counted
        for chunk in iter_simulate(config, now=now, chunk_events=1_000_000, arrow=True):
            counted += chunk.num_rows
            yield chunk

    wall = time.perf_counter()
    parts = write_parquet(counting(), out)
    wall = time.perf_counter() - wall
    return {"events": counted, "parts": len(parts), "wall": wall, "rss_mb": peak_rss_mb()}


def child_baseline(events: int) -> dict:
    """The same model, one Python iteration per event: the way samples usually do it."""
    import bisect
    import datetime as dt
    import itertools
    import random

    import numpy as np
    import pandas as pd

    from personalize_sim.simulation._catalog import build_catalog
    from personalize_sim.simulation._population import build_population

    config = retail(events)
    rnd = random.Random(1)
    wall = time.perf_counter()
    gen = np.random.default_rng(1)
    start = int(dt.datetime.fromisoformat(NOW).timestamp() * 1e6) - 14 * 86_400_000_000
    pop = build_population(config.population, config.exposure, start, start + 1, gen)
    cat = build_catalog(config.catalog, config.population, 14, gen)
    weights = np.exp(cat.log_popularity)
    pref = [
        list(itertools.accumulate(weights * cat.affinity[p, cat.category]))
        for p in range(len(config.population.personas))
    ]
    by_popularity = list(itertools.accumulate(weights))
    popular = [int(i) for i in np.argsort(-weights)[:10]]
    relevance = cat.relevance.tolist()
    category = cat.category.tolist()
    price = cat.price.tolist()
    persona_of = pop.persona.tolist()
    arm_of = pop.arm.tolist()
    names = config.funnel.names
    same_item = {e.name for e in config.funnel.event_types if not e.new_item}
    table = {a: list(row.items()) for a, row in config.funnel.transitions.items()}
    users = list(range(pop.size))
    cum_activity = list(itertools.accumulate(pop.activity))
    exam = config.exposure.examination_curve()
    scale = config.exposure.click_scale

    def personalised_slate(persona: int) -> list[int]:
        chosen: list[int] = []
        while len(chosen) < 10:  # quality 0.8: own taste, else popularity; no repeats
            cdf = pref[persona] if rnd.random() < 0.8 else by_popularity
            pick = bisect.bisect(cdf, rnd.random() * cdf[-1])
            if pick not in chosen:
                chosen.append(pick)
        return chosen

    rows = []
    session = 0
    while len(rows) < events:
        session += 1
        user = rnd.choices(users, cum_weights=cum_activity)[0]
        persona = persona_of[user]
        anonymous = rnd.random() < 0.3
        device = rnd.choices(("web", "ios", "android"), (0.5, 0.3, 0.2))[0]
        t = start + rnd.randrange(14 * 86_400_000_000)
        state, item, rec, slate, step = "View", None, None, None, 0
        while True:
            impression = None
            if state not in same_item:
                cdf = pref[persona]
                item = bisect.bisect(cdf, rnd.random() * cdf[-1])
                rec = None
                if rnd.random() < 0.6:
                    if slate is None:
                        slate = popular if arm_of[user] == 0 else personalised_slate(persona)
                    impression = slate
                    for pos, candidate in enumerate(slate):
                        attract = scale * relevance[persona][category[candidate]]
                        if rnd.random() < exam[pos] * attract:
                            item, rec = candidate, f"rec-S{session:010d}-{step:03d}"
                            break
            rows.append(
                {
                    "USER_ID": None if anonymous else f"u{user}",
                    "SESSION_ID": f"S{session:010d}",
                    "ITEM_ID": f"i{item}",
                    "EVENT_TYPE": state,
                    "EVENT_VALUE": price[item] if state == "Purchase" else math.nan,
                    "TIMESTAMP": t,
                    "IMPRESSION": [f"i{i}" for i in impression] if impression else None,
                    "RECOMMENDATION_ID": rec,
                    "DEVICE": device,
                    "DISCOUNT": "Yes" if rnd.random() < 0.2 else "No",
                }
            )
            step += 1
            t += int(45e6 * math.exp(rnd.gauss(0, 1)))
            r, nxt = rnd.random(), "exit"
            for candidate, p in table[state]:
                r -= p
                if r < 0:
                    nxt = candidate
                    break
            if nxt == "exit":
                break
            state = nxt
    frame = pd.DataFrame(rows)
    frame["TIMESTAMP"] = pd.to_datetime(frame["TIMESTAMP"], unit="us", utc=True)
    frame = frame.sort_values(["TIMESTAMP", "SESSION_ID"])
    wall = time.perf_counter() - wall
    assert set(frame["EVENT_TYPE"]) <= set(names)
    return {"events": len(frame), "wall": wall}


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(f"child {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--chunked-events", type=int, default=20_000_000)
    parser.add_argument("--baseline-events", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="1M in memory, 4M chunked")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, *rest = args.child
        result = {
            "memory": child_in_memory,
            "arrow": child_arrow,
            "chunked": child_chunked,
            "baseline": child_baseline,
        }[kind](int(n), *rest)
        print(json.dumps(result))
        return
    if args.quick:
        args.events, args.chunked_events, args.baseline_events = 1_000_000, 4_000_000, 30_000
    import os

    print(f"simulate benchmark: retail preset with slates; {os.cpu_count()} CPUs (shared)")
    base = run_child("baseline", str(args.baseline_events))
    base_rate = base["events"] / base["wall"]
    print(
        f"baseline, a Python loop per event: {base['events']:,} events in {base['wall']:.2f} s"
        f" = {base_rate:,.0f} events/s"
    )
    mem = run_child("memory", str(args.events))
    rate = mem["events"] / mem["wall"]
    print(
        f"simulate():      {mem['events']:,} events ({mem['slates']:,} with a slate, "
        f"{mem['users']:,} users) in {mem['wall']:.2f} s wall / {mem['cpu']:.2f} s CPU"
    )
    print(
        f"                 {rate:,.0f} events/s wall, {mem['events'] / mem['cpu']:,.0f} events/s"
        f" per CPU-second; peak RSS {mem['rss_mb']:,.0f} MB"
    )
    print(f"                 {rate / base_rate:,.0f}x the per-event loop (target: >= 1,000,000/s)")
    arrow = run_child("arrow", str(args.events))
    print(
        f"iter_simulate(arrow=True): the same {arrow['events']:,} events as Arrow tables in "
        f"{arrow['wall']:.2f} s = {arrow['events'] / arrow['wall']:,.0f} events/s "
        f"({arrow['events'] / arrow['cpu']:,.0f} per CPU-second; "
        f"peak RSS {arrow['rss_mb']:,.0f} MB)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        chunked = run_child("chunked", str(args.chunked_events), tmp + "/events")
    print(
        f"iter_simulate(): {chunked['events']:,} events -> {chunked['parts']} Parquet parts in "
        f"{chunked['wall']:.1f} s ({chunked['events'] / chunked['wall']:,.0f} events/s); "
        f"peak RSS {chunked['rss_mb']:,.0f} MB (target: <= 2048 MB)"
    )


if __name__ == "__main__":
    main()
