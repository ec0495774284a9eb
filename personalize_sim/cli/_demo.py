"""``personalize-sim demo``: the README's first command, the whole pipeline in one go.

It starts the local tracker emulator in its own process, simulates a day of a small shop
(the ``retail`` preset with 2,000 users), turns the events into PutEvents requests, streams
them with an unmodified boto3 client at a fixed rate for about ``--seconds`` with a terminal
progress bar, prints the delivery summary, cross-checks that the tracker stored exactly the
events delivered (same count, same event ids), and saves the delivery plots as a PNG.
No AWS account and no network: everything talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personalize_sim.streaming import DeliverySummary

__all__ = ["add_arguments", "run"]

#: the small shop: the retail preset's behaviour, scaled down to one day of 2,000 users
SHOP_USERS = 2_000
SHOP_DAYS = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="about how long to stream (default 20)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="requests per second (default: the day's requests spread over --seconds); "
        "at most rate × seconds requests are sent",
    )
    parser.add_argument(
        "--out", metavar="DIR", default="personalize-sim-demo", help="where the PNG goes"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulation (default 7)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.seconds) and args.seconds > 0):
        print(f"personalize-sim demo: --seconds must be > 0, got {args.seconds}", file=sys.stderr)
        return 2
    if args.rate is not None and not (math.isfinite(args.rate) and args.rate > 0):
        print(f"personalize-sim demo: --rate must be > 0, got {args.rate}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"personalize-sim demo: cannot create --out {out}: {e}", file=sys.stderr)
        return 2
    return _demo(args.seconds, args.rate, out, args.seed, progress=not args.no_progress)


def _demo(seconds: float, rate: float | None, out: Path, seed: int, *, progress: bool) -> int:
    from personalize_sim import plots, simulate, stream, to_put_events
    from personalize_sim.tracker import LocalTracker

    from ._report import describe
    from ._report import progress as show_progress

    print("personalize-sim demo: simulate a small shop, stream it to a local tracker, check it")
    with LocalTracker(process=True, rng=seed) as tracker:
        print(f"1. local tracker emulator running in its own process at {tracker.endpoint_url}")

        started = time.perf_counter()
        frame = simulate("retail", users=SHOP_USERS, days=SHOP_DAYS, rng=seed)
        print(
            f"2. simulated {SHOP_DAYS} day of a shop with {SHOP_USERS:,} users: {len(frame):,} "
            f"events in {frame['SESSION_ID'].nunique():,} sessions "
            f"({time.perf_counter() - started:.1f} s)"
        )

        requests = to_put_events(frame, tracker.tracking_id)
        if rate is None:
            rate = max(len(requests) / seconds, 1.0)
        keep = min(len(requests), max(1, math.floor(rate * seconds)))
        requests = requests[:keep]
        events = sum(len(r["eventList"]) for r in requests)
        print(
            f"3. streaming {keep:,} PutEvents requests ({events:,} events) at {rate:.4g} "
            f"requests/s with boto3 (about {keep / rate:.0f} s)"
        )
        handle = stream(
            requests,
            rate=rate,
            target=tracker.client(retries={"total_max_attempts": 1}),  # the stream retries
            wait=False,
        )
        sys.stdout.flush()  # the bar goes to stderr: keep the lines above it
        try:
            show_progress(handle, enabled=progress, desc="   delivering")
        except KeyboardInterrupt:
            print("stopping: finishing the requests on the wire…", file=sys.stderr)
            handle.stop()
        summary = handle.wait()
        print("\n".join(["4. delivery summary", *(f"   {line}" for line in describe(summary))]))

        stored = tracker.events()
        ok = _cross_check(requests, summary, stored, tracker.stats())

    log = handle.log
    png = out / "delivery.png"
    if len(log):
        plots.delivery(log, unit=summary.unit).savefig(png, dpi=100)
        print(f"5. delivery plots (rate, latency, errors) saved to {png}")
    print("done." if ok else "the cross-check FAILED: see above.")
    return 0 if ok and summary.complete else 1


def _cross_check(
    requests: list[dict[str, Any]], summary: DeliverySummary, stored: Any, stats: dict[str, Any]
) -> bool:
    """Did the tracker store exactly the events the stream says it delivered?"""
    sent_ids = {e["eventId"] for r in requests for e in r["eventList"]}
    stored_ids = set(stored["EVENT_ID"].astype(str))
    delivered = summary.delivered_events
    same_count = len(stored) == delivered
    # each stored event was sent, none twice, and a complete stream left none out
    same_ids = (
        len(stored_ids) == len(stored)
        and stored_ids <= sent_ids
        and (stored_ids == sent_ids or not summary.complete)
    )
    print(
        f"   cross-check: the tracker stored {len(stored):,} events, the stream delivered "
        f"{delivered:,}: {'match' if same_count else 'MISMATCH'}; event ids "
        f"{'match' if same_ids else 'DIFFER'} ({stats.get('duplicates', 0)} duplicates "
        f"ignored, {stats.get('PutEvents4xxErrors', 0)} requests refused)"
    )
    return same_count and same_ids
