"""Speed of ``attribution_report`` against a naive pandas groupby (a benchmark, not a test).

The events are the retail preset scaled to ``--events`` (10,000,000 by default), one arm
with an explicit source and one credited through its RECOMMENDATION_IDs, read as a
pandas frame with Arrow-backed strings (IMPRESSION left out: attribution never reads
it). Four metrics: SAMPLECOUNT of View and of Purchase, SUM(Items.PRICE) and
SUM(Interactions.EVENT_VALUE) of Purchase, with a creation time and the 14-day cut-off.

The baseline does the same work the obvious way: source = explicit, else
``RECOMMENDATION_ID.map(recommenders)``, else SOURCE_NAME_UNDEFINED; the cut-offs as
boolean masks; ``TIMESTAMP.dt.floor("15min")``; then per metric a
``groupby([window, source]).agg(sum, count)``. Both results are checked equal, then
timed warm, interleaved (ours, naive, naive, ours, …), median of ``--repeat`` pairs,
with wall and CPU seconds.

    .venv/bin/python benchmarks/attribution.py                    # 10M events
    .venv/bin/python benchmarks/attribution.py --events 200000 --repeat 1   # smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
METRICS = {
    "name": "bench",
    "metrics": [
        {"eventType": "View", "metricName": "views", "expression": "SAMPLECOUNT()"},
        {"eventType": "Purchase", "metricName": "purchases", "expression": "SAMPLECOUNT()"},
        {"eventType": "Purchase", "metricName": "revenue", "expression": "SUM(Items.PRICE)"},
        {
            "eventType": "Purchase",
            "metricName": "value",
            "expression": "SUM(Interactions.EVENT_VALUE)",
        },
    ],
}
COLUMNS = [
    "EVENT_TYPE",
    "TIMESTAMP",
    "ITEM_ID",
    "EVENT_VALUE",
    "RECOMMENDATION_ID",
    "EVENT_ATTRIBUTION_SOURCE",
    "RECOMMENDER_ARN",
]


def build(events: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Any]:
    """The events frame, the items, the recommenders table and the attribution."""
    from personalize_sim.attribution import MetricAttribution
    from personalize_sim.simulation import (
        ArmConfig,
        SimulationConfig,
        catalog_items,
        iter_simulate,
    )

    arms = (
        ArmConfig(name="popular", recommender="popular", attribution_source="most-popular"),
        ArmConfig(name="personalized", recommender="personalized"),
    )
    config = SimulationConfig.preset("retail").replace(exposure__arms=arms, rng=1)
    per_user = config.expected_events_per_day() / config.population.users * config.time.days
    per_user *= 1 - config.population.new_user_share / 2
    config = config.replace(users=max(200, math.ceil(events / per_user)))
    tables = iter_simulate(config, now=NOW, chunk_events=1_000_000, arrow=True)
    parts = [t.select(COLUMNS).to_pandas(types_mapper=pd.ArrowDtype) for t in tables]
    frame = pd.concat(parts, ignore_index=True)
    frame["TIMESTAMP"] = frame["TIMESTAMP"].astype("datetime64[us, UTC]")
    frame["EVENT_VALUE"] = frame["EVENT_VALUE"].astype("float64")
    recs = frame[["RECOMMENDATION_ID", "RECOMMENDER_ARN"]].dropna().drop_duplicates()
    items = catalog_items(config)
    created = NOW - dt.timedelta(days=config.time.days / 2)
    attribution = MetricAttribution.from_json(METRICS, created_at=created)
    # the mapping is passed, as for a log that does not say who issued each id
    return frame.drop(columns=["RECOMMENDER_ARN"]), items, recs, attribution


def ours(frame, items, recs, attribution) -> pd.DataFrame:
    from personalize_sim.attribution import attribution_report

    report = attribution_report(frame, attribution, items=items, recommenders=recs, now=NOW)
    return report.table


def naive(frame, items, recs, attribution) -> pd.DataFrame:
    """The same report with pandas the obvious way."""
    mapping = pd.Series(recs["RECOMMENDER_ARN"].to_numpy(), index=recs["RECOMMENDATION_ID"])
    source = frame["EVENT_ATTRIBUTION_SOURCE"].astype(object)
    source = source.fillna(frame["RECOMMENDATION_ID"].astype(object).map(mapping))
    source = source.fillna("SOURCE_NAME_UNDEFINED")
    ts = frame["TIMESTAMP"]
    keep = (ts >= attribution.created_at) & (ts > NOW - dt.timedelta(days=14)) & (ts <= NOW)
    window = ts.dt.floor("15min")
    price = pd.Series(items["PRICE"].to_numpy(), index=items["ITEM_ID"])
    out = []
    for metric in attribution.metrics:
        selected = keep & (frame["EVENT_TYPE"] == metric.event_type)
        if metric.function == "samplecount":
            value = pd.Series(1.0, index=frame.index)
        elif metric.dataset == "Items":
            value = frame["ITEM_ID"].astype(object).map(price)
        else:
            value = frame[metric.column]
        part = pd.DataFrame(
            {"WINDOW": window[selected], "SOURCE": source[selected], "v": value[selected]}
        ).dropna(subset=["v"])
        grouped = part.groupby(["WINDOW", "SOURCE"], sort=True)["v"].agg(["sum", "count"])
        grouped = grouped.reset_index()
        grouped.insert(1, "METRIC_NAME", metric.metric_name)
        out.append(grouped)
    return pd.concat(out, ignore_index=True)


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Both give the same rows: (metric, window, source) -> value, events."""
    left = a.set_index(["METRIC_NAME", "WINDOW", "SOURCE"])[["VALUE", "EVENTS"]].sort_index()
    right = b.rename(columns={"sum": "VALUE", "count": "EVENTS"})
    right = right.set_index(["METRIC_NAME", "WINDOW", "SOURCE"])[["VALUE", "EVENTS"]].sort_index()
    assert len(left) == len(right), (len(left), len(right))
    assert (left.index == right.index).all()
    assert np.allclose(left["VALUE"], right["VALUE"]) and (left["EVENTS"] == right["EVENTS"]).all()


def timed(work: Callable[[], object]) -> tuple[float, float]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    del result
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved pairs (median)")
    args = parser.parse_args()
    started = time.perf_counter()
    frame, items, recs, attribution = build(args.events)
    n = len(frame)
    print(f"{n:,} events, {len(recs):,} recommendation ids, built in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    same(ours(frame, items, recs, attribution), naive(frame, items, recs, attribution))
    print("attribution_report and the naive groupby give the same rows (checked)")
    runs: dict[str, list[tuple[float, float]]] = {"attribution_report": [], "naive groupby": []}
    order = [("attribution_report", ours), ("naive groupby", naive)]
    for i in range(args.repeat):
        for name, work in order if i % 2 == 0 else order[::-1]:
            runs[name].append(timed(lambda work=work: work(frame, items, recs, attribution)))
    medians = {}
    for name, samples in runs.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        each = ", ".join(f"{s[0]:.2f}/{s[1]:.2f}" for s in samples)
        medians[name] = (wall, cpu)
        print(f"{name:<20} median {wall:6.2f} s wall, {cpu:6.2f} s CPU, "
              f"{n / wall / 1e6:6.2f} M events/s wall, {n / cpu / 1e6:6.2f} M events/s CPU "
              f"(runs wall/CPU s: {each})")  # fmt: skip
    wall_ratio = medians["naive groupby"][0] / medians["attribution_report"][0]
    cpu_ratio = medians["naive groupby"][1] / medians["attribution_report"][1]
    print(f"ratio naive / attribution_report: {wall_ratio:.2f}x wall, {cpu_ratio:.2f}x CPU "
          "(same work, same rows, medians)")  # fmt: skip


if __name__ == "__main__":
    main()
