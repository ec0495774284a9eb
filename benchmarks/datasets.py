"""Rows/s of every converter of a dataset group beside to_put_events, in one run.

    .venv/bin/python benchmarks/datasets.py [--rows N] [--repeat K]

Each converter turns N rows of its own dataset (simulated rows repeated with fresh ids)
into requests, K times; the table gives the median wall time, its range, the CPU time
of the median run, rows/s, and each converter's speed as a share of to_put_events'.
The inverses (from_put_events, from_put_records, from_put_action_interactions) are timed
the same way on the requests. The record converters
check every record against botocore's model one by one (``limits.check_request``), so
they are expected to be slower per row than to_put_events, which validates column-wise;
records are rarer (a catalogue, a population) than events.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import pandas as pd

from personalize_sim import payloads, to_put_events
from personalize_sim.simulation import simulate_datasets

GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/shop"


def repeated(frame: pd.DataFrame, n: int, key: str) -> pd.DataFrame:
    """``frame``'s rows repeated up to ``n``, each copy with ids of its own."""
    copies = -(-n // len(frame))
    out = pd.concat([frame] * copies, ignore_index=True).head(n)
    copy = (pd.Series(range(len(out))) // len(frame)).astype(str)
    out[key] = out[key].astype(str) + "-" + copy
    return out


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float, float, float]:
    """(median wall, min wall, max wall, CPU of the runs' median) in seconds."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    walls = sorted(w for w, _ in runs)
    median = statistics.median(walls)
    cpu = statistics.median(c for _, c in runs)
    return median, walls[0], walls[-1], cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    group = simulate_datasets("retail", users=5_000, days=7, rng=0)
    n = args.rows
    frames = {
        "events": (repeated(group.interactions, n, "SESSION_ID"), None),
        "items": (repeated(group.items, n, "ITEM_ID"), GROUP),
        "users": (repeated(group.users, n, "USER_ID"), GROUP),
        "actions": (
            repeated(group.actions, n, "ACTION_ID"),
            GROUP,
        ),
        "action_interactions": (repeated(group.action_interactions, n, "SESSION_ID"), None),
    }
    to_put: dict[str, Callable[[pd.DataFrame, str], list]] = {
        "events": lambda f, _: to_put_events(f, "tracking-id"),
        "items": payloads.to_put_items,
        "users": payloads.to_put_users,
        "actions": payloads.to_put_actions,
        "action_interactions": lambda f, _: payloads.to_put_action_interactions(f, "tracking-id"),
    }
    from_put = {
        "events": payloads.from_put_events,
        "items": payloads.from_put_records,
        "users": payloads.from_put_records,
        "actions": payloads.from_put_records,
        "action_interactions": payloads.from_put_action_interactions,
    }
    for name, (frame, arn) in frames.items():  # warm up: botocore's model, Arrow kernels
        to_put[name](frame.head(100), arn)  # type: ignore[arg-type]
    print(f"{n:,} rows each, median of {args.repeat} runs (wall range), CPU of the median run")
    print(f"{'converter':<36}{'wall s':>8}{'range':>14}{'cpu s':>8}{'rows/s':>12}{'ratio':>8}")
    base: dict[str, float] = {}
    for direction in ("to", "from"):
        for name, (frame, arn) in frames.items():
            requests = to_put[name](frame, arn)  # type: ignore[arg-type]
            if direction == "to":
                label = "to_put_events" if name == "events" else f"to_put_{name}"
                work: Callable[[], object] = lambda f=frame, a=arn, c=to_put[name]: c(f, a)  # noqa: E731
            else:
                label = "from_put_events" if name == "events" else f"from_put_records ({name})"
                if name == "action_interactions":
                    label = "from_put_action_interactions"
                work = lambda r=requests, c=from_put[name]: c(r)  # noqa: E731
            median, low, high, cpu = timed(work, args.repeat)
            rate = len(frame) / median
            base.setdefault(direction, rate)  # events come first: the yardstick
            print(f"{label:<36}{median:8.2f}{f'{low:.2f}-{high:.2f}':>14}{cpu:8.2f}"
                  f"{rate:12,.0f}{rate / base[direction]:8.2f}")  # fmt: skip
    print("ratio: rows/s over to_put_events' (from_put_events' for the inverses)")


if __name__ == "__main__":
    main()
