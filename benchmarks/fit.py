"""Speed of ``fit`` (a benchmark, not a test).

1. ``fit`` on a ~10,000,000-event interactions log (the bulk-import layout: string ids,
   epoch-second TIMESTAMPs, EVENT_TYPE, EVENT_VALUE, no SESSION_ID, so it is split into
   sessions too): wall and CPU seconds, median of ``--repeat`` runs.
2. Baseline in the same run: the same estimates written the obvious way (sort, then one
   Python loop iteration per event to split sessions and count gaps, lengths, idle
   times, transitions, hours and weekdays, then the same percentile tables), on a
   sample of ``--naive-events`` events; ``fit`` runs on the same sample, interleaved
   with it (naive, fit, fit, naive, …), after a warm-up of each. The naive tables are
   checked equal to ``fit``'s; ``fit`` does more (users as people, the popularity curve
   freed of noise, about 0.3 s a catalog of 50,000 items whatever the log's size), so on a
   small sample the loop can win: the ratio is a floor.

3. Simulating the fitted config (users as people, issue 23), beside the same config with
   Poisson arrivals, interleaved: events/s, wall and CPU.

Targets: fitting a 10M-event log takes seconds, not minutes (issue 16), within 10 s of CPU
(issue 23); a fitted config simulates at 500,000 events/s or more.

    .venv/bin/python benchmarks/fit.py                    # full run (about a minute)
    .venv/bin/python benchmarks/fit.py --events 50000 --naive-events 5000 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from typing import Any

import numpy as np

START = "2026-01-05T00:00:00Z"
TIMEZONE = "Europe/Paris"


def make_log(events: int) -> Any:
    """An interactions log of about ``events`` events, from a fitted-style config."""
    from personalize_sim.simulation import (
        ArmConfig,
        CatalogConfig,
        CategoryConfig,
        ExposureConfig,
        PopulationConfig,
        SimulationConfig,
        TimeConfig,
        TrafficConfig,
        simulate,
    )

    percent = np.linspace(0, 1, 101)
    rng = np.random.default_rng(0)
    sessions = np.quantile(np.rint(rng.pareto(1.5, 20_000) * 2 + 1).clip(1, 60), percent)
    idle = np.quantile(rng.lognormal(np.log(21_600), 1.2, 20_000) + 1_800, percent)
    config = SimulationConfig(
        catalog=CatalogConfig(items=50_000, categories=(CategoryConfig(name="all"),)),
        population=PopulationConfig(users=1_000, anonymous_share=0.0, login_share=0.0),
        time=TimeConfig(days=28, start=START, timezone=TIMEZONE),
        exposure=ExposureConfig(
            slate_probability=0.0, arms=(ArmConfig(name="none", recommender="none"),)
        ),
        traffic=TrafficConfig(sessions_per_user=tuple(sessions), idle_gaps=tuple(idle)),
    )
    probe = simulate(config, rng=1)
    users = max(1, round(1_000 * events / max(len(probe), 1)))
    frame = simulate(config.replace(users=users), rng=1)
    return frame[["USER_ID", "ITEM_ID", "EVENT_TYPE", "EVENT_VALUE"]].assign(
        TIMESTAMP=frame["TIMESTAMP"].astype("int64") // 10**6
    )


def fast(log: Any) -> Any:
    from personalize_sim.calibration import fit

    return fit(log, timezone=TIMEZONE)


def naive(log: Any) -> dict[str, Any]:
    """Sessions, gaps, lengths, idle times, transitions and profiles, event by event."""
    import pandas as pd

    from personalize_sim.simulation._quantiles import quantile_table

    frame = log.sort_values(["USER_ID", "TIMESTAMP"], kind="stable")
    local = pd.to_datetime(frame["TIMESTAMP"], unit="s", utc=True).dt.tz_convert(TIMEZONE)
    users = frame["USER_ID"].tolist()
    times = (frame["TIMESTAMP"] * 1_000_000).tolist()
    types = frame["EVENT_TYPE"].tolist()
    hours, days = local.dt.hour.tolist(), local.dt.day_of_week.tolist()
    gaps, lengths, idle = [], [], []
    per_user: Counter[str] = Counter()
    transitions: Counter[tuple[str, str]] = Counter()
    hour_counts, day_counts = [0] * 24, [0] * 7
    length = 0
    for i, user in enumerate(users):
        new_user = i == 0 or user != users[i - 1]
        if new_user or times[i] - times[i - 1] > 1_800_000_000:
            if i:
                lengths.append(length)
                transitions[(types[i - 1], "exit")] += 1
                if not new_user:
                    idle.append((times[i] - times[i - 1]) / 1e6)
            length = 0
            per_user[user] += 1
            hour_counts[hours[i]] += 1
            day_counts[days[i]] += 1
        else:
            gaps.append((times[i] - times[i - 1]) / 1e6)
            transitions[(types[i - 1], types[i])] += 1
        length += 1
    lengths.append(length)
    transitions[(types[-1], "exit")] += 1
    return {
        "sessions_per_user": quantile_table(np.array(list(per_user.values()))),
        "session_lengths": quantile_table(np.array(lengths)),
        "gap": quantile_table(np.array(gaps)),
        "transitions": transitions,
        "hours": hour_counts,
        "idle": len(idle),
    }


def same_output(config: Any, tables: dict[str, Any]) -> None:
    """The naive tables equal fit's (the raw sessions-per-user and length tables)."""
    assert tables["session_lengths"] == config.traffic.session_lengths
    assert tables["gap"] == config.time.gap.quantiles
    view = config.funnel.transitions["View"]
    total = sum(c for (a, _), c in tables["transitions"].items() if a == "View")
    assert abs(tables["transitions"][("View", "exit")] / total - view["exit"]) < 1e-5


def timed(fn: Any, *args: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--naive-events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    log = make_log(args.events)
    fast(log.iloc[:1000])  # warm-up: imports, zone data
    runs = [timed(fast, log) for _ in range(args.repeat)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(
        f"fit on {len(log):,} events: {wall:.2f} s wall, {cpu:.2f} s CPU (median of "
        f"{args.repeat}; {len(log) / wall:,.0f} events/s)"
    )

    sample = log.iloc[: args.naive_events]
    same_output(fast(sample), naive(sample))
    fast_runs, naive_runs = [], []
    for i in range(max(args.repeat, 1)):
        order = (fast, naive) if i % 2 else (naive, fast)
        for fn in order:
            (fast_runs if fn is fast else naive_runs).append(timed(fn, sample))
    f_wall = statistics.median(r[0] for r in fast_runs)
    n_wall = statistics.median(r[0] for r in naive_runs)
    f_cpu = statistics.median(r[1] for r in fast_runs)
    n_cpu = statistics.median(r[1] for r in naive_runs)
    print(
        f"on {len(sample):,} events: fit {f_wall:.3f} s wall / {f_cpu:.3f} s CPU, naive "
        f"{n_wall:.3f} s wall / {n_cpu:.3f} s CPU: fit (every estimate) takes "
        f"{f_wall / n_wall:.2f}x the naive loop's time (its session tables only; wall), "
        f"{f_cpu / n_cpu:.2f}x (CPU)"
    )
    print(
        f"the naive loop would take about {len(log) / len(sample) * n_wall:.0f} s on the "
        f"{len(log):,}-event log"
    )
    simulate_fitted(runs[-1][2], args.repeat)


def simulate_fitted(config: Any, repeat: int) -> None:
    """Events/s of simulating the fitted config (users as people: the plan of sessions and
    items for the whole window), beside the same config with Poisson arrivals (no plan) in
    the same run, interleaved, each warmed up first."""
    from personalize_sim.simulation import simulate

    poisson = config.replace(traffic=None)
    simulate(config.replace(users=200), rng=0)
    simulate(poisson.replace(users=200), rng=0)
    rates: dict[str, list[tuple[float, float]]] = {"fitted": [], "poisson": []}
    for i in range(max(repeat, 1)):
        order = ("fitted", "poisson") if i % 2 else ("poisson", "fitted")
        for name in order:
            chosen = config if name == "fitted" else poisson
            wall, cpu, frame = timed(lambda c, seed: simulate(c, rng=seed), chosen, i)
            rates[name].append((len(frame) / wall, len(frame) / cpu))
    for name, got in rates.items():
        walls = [w for w, _ in got]
        print(
            f"simulate the {name} config: {statistics.median(walls):,.0f} events/s wall "
            f"(range {min(walls):,.0f}-{max(walls):,.0f}), "
            f"{statistics.median(c for _, c in got):,.0f} events/s CPU"
        )


if __name__ == "__main__":
    main()
