"""Speed and memory of the simulator (a benchmark, not a test).

1. The retail preset with slates, ~5,000,000 events in memory with ``simulate``:
   events/s (wall and CPU) and the process's peak RSS; then the same events as Arrow
   tables (``iter_simulate(arrow=True)``), which skips building Python lists.
2. ~20,000,000 events through ``iter_simulate(arrow=True)`` into partitioned Parquet
   (1M-row parts): peak RSS.
3. Baseline in the same run: the same behaviour (personas, funnel, per-session slates,
   position click model, properties, values) written the obvious way, one Python loop
   iteration per event as the Retail Demo Store generator does, on a 100k-event sample.
4. The two clever pieces of the frame builder against their plain versions, on
   1,000,000 events (``--clever-events``): SESSION_ID and RECOMMENDATION_ID laid out as
   fixed-width bytes (``simulation._ids``) against Arrow's cast/pad/join kernels, and
   IMPRESSION lists built with the cyclic GC paused (``_gc.paused_gc``) against the GC left
   on; median of interleaved runs, wall and CPU seconds.

Each measurement runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own.
Targets (issue 4): ≥ 1,000,000 events/s; 20M chunked with peak RSS ≤ 2 GB.

    .venv/bin/python benchmarks/simulate.py            # full run (about a minute)
    .venv/bin/python benchmarks/simulate.py --quick    # 1M / 4M events
    .venv/bin/python benchmarks/simulate.py --clever   # only (4)
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

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

    from personalize_sim.simulation import iter_simulate

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

    from personalize_sim.simulation import iter_simulate, write_parquet

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
    import datetime as dt
    import random

    import pandas as pd

    config = retail(events)
    rnd = random.Random(1)
    wall = time.perf_counter()
    start = int(dt.datetime.fromisoformat(NOW).timestamp() * 1e6) - 14 * 86_400_000_000
    site = baseline_site(config, start)
    rows: list[dict] = []
    session = 0
    while len(rows) < events:
        session += 1
        rows.extend(baseline_session(site, rnd, session, start))
    frame = pd.DataFrame(rows)
    frame["TIMESTAMP"] = pd.to_datetime(frame["TIMESTAMP"], unit="us", utc=True)
    frame = frame.sort_values(["TIMESTAMP", "SESSION_ID"])
    wall = time.perf_counter() - wall
    assert set(frame["EVENT_TYPE"]) <= set(config.funnel.names)
    return {"events": len(frame), "wall": wall}


def baseline_site(config, start: int) -> dict:
    """Users and items of the baseline as plain Python lists (cumulative weights)."""
    import itertools

    import numpy as np

    from personalize_sim.simulation._catalog import build_catalog
    from personalize_sim.simulation._population import build_population

    gen = np.random.default_rng(1)
    pop = build_population(config.population, config.exposure, start, start + 1, gen)
    cat = build_catalog(config.catalog, config.population, 14, gen)
    weights = np.exp(cat.log_popularity)
    return {
        "pref": [
            list(itertools.accumulate(weights * cat.affinity[p, cat.category]))
            for p in range(len(config.population.personas))
        ],
        "by_popularity": list(itertools.accumulate(weights)),
        "popular": [int(i) for i in np.argsort(-weights)[:10]],
        "relevance": cat.relevance.tolist(),
        "category": cat.category.tolist(),
        "price": cat.price.tolist(),
        "persona_of": pop.persona.tolist(),
        "arm_of": pop.arm.tolist(),
        "same_item": {e.name for e in config.funnel.event_types if not e.new_item},
        "table": {a: list(row.items()) for a, row in config.funnel.transitions.items()},
        "users": list(range(pop.size)),
        "cum_activity": list(itertools.accumulate(pop.activity)),
        "exam": config.exposure.examination_curve(),
        "scale": config.exposure.click_scale,
    }


def baseline_slate(site: dict, rnd, persona: int) -> list[int]:
    """A personalised slate: quality 0.8, own taste, else popularity; no repeats."""
    import bisect

    chosen: list[int] = []
    while len(chosen) < 10:
        cdf = site["pref"][persona] if rnd.random() < 0.8 else site["by_popularity"]
        pick = bisect.bisect(cdf, rnd.random() * cdf[-1])
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def baseline_session(site: dict, rnd, session: int, start: int) -> list[dict]:
    """One session's rows, event by event."""
    import bisect

    pref, same_item, table = site["pref"], site["same_item"], site["table"]
    relevance, category, exam = site["relevance"], site["category"], site["exam"]
    user = rnd.choices(site["users"], cum_weights=site["cum_activity"])[0]
    persona = site["persona_of"][user]
    anonymous = rnd.random() < 0.3
    device = rnd.choices(("web", "ios", "android"), (0.5, 0.3, 0.2))[0]
    t = start + rnd.randrange(14 * 86_400_000_000)
    state, item, rec, slate, step = "View", None, None, None, 0
    rows = []
    while True:
        impression = None
        if state not in same_item:
            cdf = pref[persona]
            item = bisect.bisect(cdf, rnd.random() * cdf[-1])
            rec = None
            if rnd.random() < 0.6:
                if slate is None:
                    personal = site["arm_of"][user] != 0
                    slate = baseline_slate(site, rnd, persona) if personal else site["popular"]
                impression = slate
                for pos, candidate in enumerate(slate):
                    attract = site["scale"] * relevance[persona][category[candidate]]
                    if rnd.random() < exam[pos] * attract:
                        item, rec = candidate, f"rec-S{session:010d}-{step:03d}"
                        break
        rows.append(
            {
                "USER_ID": None if anonymous else f"u{user}",
                "SESSION_ID": f"S{session:010d}",
                "ITEM_ID": f"i{item}",
                "EVENT_TYPE": state,
                "EVENT_VALUE": site["price"][item] if state == "Purchase" else math.nan,
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
            return rows
        state = nxt


def plain_ids(sessions, rows, steps, width):  # -> (pa.Array, pa.Array)
    """SESSION_ID of every event and RECOMMENDATION_ID of events ``rows`` (clicked at
    ``steps``), the plain way: Arrow's cast, pad and join kernels."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(value: str):
        return pa.scalar(value, pa.large_string())

    def padded(numbers, digits: int):
        return pc.utf8_lpad(pc.cast(pa.array(numbers), pa.large_string()), digits, "0")

    ids = pc.binary_join_element_wise(text("S"), padded(sessions, 10), text(""))
    recs = pc.binary_join_element_wise(
        text("rec-"), ids.take(pa.array(rows)), text("-"), padded(steps, width), text("")
    )
    return ids, recs


def clever_ids(sessions, rows, steps, width):  # -> (pa.Array, pa.Array)
    """The same ids as the frame builder makes them: fixed-width bytes."""
    from personalize_sim.simulation._ids import recommendation_ids, session_bytes, session_ids

    as_bytes = session_bytes(sessions)
    return session_ids(as_bytes), recommendation_ids(as_bytes[rows], steps, width)


def child_clever(events: int) -> dict:
    """Plain against clever on one batch of ``events`` events: median of interleaved runs."""
    import contextlib
    import datetime as dt
    import gc
    import statistics

    import numpy as np

    from personalize_sim.simulation import _columns
    from personalize_sim.simulation._batch import Batch
    from personalize_sim.simulation._engine import Run
    from personalize_sim.simulation._scheduler import batches

    config = retail(events)
    run = Run(config, 1, dt.datetime.fromisoformat(NOW))
    batch = Batch.concat(list(batches(run)), run.n_props, run.k)
    frames = _columns.Frames(run.config, run.population, run.catalog.size)
    frames.parts(batch)  # builds the id pools once, outside the timings
    sessions = batch.cols["session"]
    rows = np.flatnonzero(batch.cols["rec_step"] >= 0)
    steps = batch.cols["rec_step"][rows]
    width = len(str(config.funnel.max_events - 1))
    for plain, clever in zip(
        plain_ids(sessions, rows, steps, width),
        clever_ids(sessions, rows, steps, width),
        strict=True,
    ):
        assert plain.equals(clever)

    def impressions(paused: bool) -> Callable[[], None]:
        def build() -> None:
            if not paused:
                _columns.paused_gc = contextlib.nullcontext  # the plain version
            try:
                frames.parts(batch)
            finally:
                _columns.paused_gc = original

        return build

    original = _columns.paused_gc
    cases = {
        "ids, fixed-width bytes": lambda: clever_ids(sessions, rows, steps, width),
        "ids, Arrow kernels": lambda: plain_ids(sessions, rows, steps, width),
        "frame parts, GC paused": impressions(True),
        "frame parts, GC on": impressions(False),
    }
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(5):
        for name, case in cases.items():  # interleaved: one of each per round
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            case()
            timings[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {
        "events": len(batch),
        "slates": int((batch.cols["slate_row"] >= 0).sum()),
        "median": {
            name: [statistics.median(t[0] for t in runs), statistics.median(t[1] for t in runs)]
            for name, runs in timings.items()
        },
        "range": {
            name: [min(t[0] for t in runs), max(t[0] for t in runs)]
            for name, runs in timings.items()
        },
    }


def print_clever(result: dict) -> None:
    print(
        f"plain vs clever on {result['events']:,} events ({result['slates']:,} slates), "
        "median of 5 interleaved runs:"
    )
    median, spread = result["median"], result["range"]
    for name, (wall, cpu) in median.items():
        low, high = spread[name]
        print(f"  {name:24s} {wall:6.3f} s wall ({low:.3f}-{high:.3f}) / {cpu:6.3f} s CPU")
    for clever, plain in (
        ("ids, fixed-width bytes", "ids, Arrow kernels"),
        ("frame parts, GC paused", "frame parts, GC on"),
    ):
        gain = median[plain][1] / median[clever][1]
        print(f"  {clever} is {gain:.1f}x faster (CPU) than {plain}")


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
    parser.add_argument("--clever", action="store_true", help="only plain vs clever (4)")
    parser.add_argument("--clever-events", type=int, default=1_000_000, help="events of (4)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, *rest = args.child
        result = {
            "memory": child_in_memory,
            "arrow": child_arrow,
            "chunked": child_chunked,
            "baseline": child_baseline,
            "clever": child_clever,
        }[kind](int(n), *rest)
        print(json.dumps(result))
        return
    if args.quick:
        args.events, args.chunked_events, args.baseline_events = 1_000_000, 4_000_000, 30_000
    import os

    if args.clever:
        print_clever(run_child("clever", str(args.clever_events)))
        return
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
    print_clever(run_child("clever", str(args.clever_events)))


if __name__ == "__main__":
    main()
