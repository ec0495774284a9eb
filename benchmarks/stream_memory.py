"""Memory and speed of a long stream: ``iter_simulate`` → ``stream()`` → an in-memory target.

Part 1, the long run: one child process streams ``--requests`` PutEvents requests (default
10,000,000) built from ``iter_simulate`` (the retail preset in segments of
``--segment-events`` events, each segment a fresh seed, so the simulation's own memory does
not grow) to a ``MemoryTarget`` that counts requests instead of keeping them, as fast as the
client can go. It samples its RSS four times a second and reports the peak RSS (target:
<= 500 MB), the RSS slope over the second half of the run (MB per million requests; flat is
0), requests/s and CPU per request, and how many attempt records the log holds at the end.

Part 2, before and after on the same work: ``--compare-requests`` requests, ``--rounds``
interleaved runs of each variant (each in a fresh child process, order alternating),
medians. The baseline is ``--before DIR`` (a checkout of the code before the spill,
imported with ``PYTHONPATH=DIR``) or, without it, this tree with ``max_records=1000`` (a
bounded window in memory, nothing spilled): the ratio then is the cost of spilling.

    .venv/bin/python benchmarks/stream_memory.py                      # ~10-15 min
    .venv/bin/python benchmarks/stream_memory.py --before /work/before --requests 2000000
    .venv/bin/python benchmarks/stream_memory.py --quick              # seconds
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

NOW = "2026-11-26T00:00:00+00:00"


def requests_from_simulation(n: int, segment_events: int) -> Iterator[dict]:
    """Exactly ``n`` PutEvents requests from consecutive simulations of ~``segment_events``."""
    import datetime as dt
    import math

    from personalize_sim import SimulationConfig
    from personalize_sim.payloads import to_put_events
    from personalize_sim.simulation import iter_simulate

    config = SimulationConfig.preset("retail")
    per_user = config.expected_events_per_day() / config.population.users * config.time.days
    per_user *= 1 - config.population.new_user_share / 2
    config = config.replace(users=math.ceil(segment_events / per_user))
    now = dt.datetime.fromisoformat(NOW)
    made, seed = 0, 0
    while True:
        for frame in iter_simulate(config, rng=seed, now=now, chunk_events=50_000):
            requests, _ = to_put_events(frame, "bench-tracker", errors="collect")
            for request in requests:
                if made == n:
                    return
                made += 1
                yield request
        seed += 1


def child(n: int, segment_events: int, window: bool) -> dict:
    """One run in this process: stream ``n`` requests, sampling RSS; the numbers as a dict."""
    from personalize_sim import stream
    from personalize_sim.streaming import MemoryTarget, Pacing
    from personalize_sim.streaming._transports import OK

    class CountingTarget(MemoryTarget):
        """A MemoryTarget that counts requests instead of keeping them (else it grows)."""

        sent = 0

        async def send(self, prepared):  # type: ignore[no-untyped-def]
            self.sent += 1
            return OK

    target = CountingTarget()
    page = os.sysconf("SC_PAGE_SIZE")
    samples: list[tuple[int, float]] = []
    done = threading.Event()

    def sample() -> None:
        with open("/proc/self/statm") as statm:
            while not done.wait(0.25):
                statm.seek(0)
                samples.append((target.sent, int(statm.read().split()[1]) * page / 2**20))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    handle = stream(
        requests_from_simulation(n, segment_events),
        rate=1e9,  # as fast as the client goes: a throughput run, not a paced one
        target=target,
        pacing=Pacing(max_in_flight=64, max_lag=1e9),
        max_records=1000 if window else None,
        wait=True,
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done.set()
    sampler.join()
    s = handle.summary
    assert s.complete and s.delivered_requests == n == target.sent, s
    half = [(x, y) for x, y in samples if x >= n / 2]
    slope = _slope(half) * 1e6 if len(half) >= 3 else float("nan")
    kept = handle.delivery_log
    return {
        "requests": n,
        "events": s.delivered_events,
        "wall": wall,
        "cpu": cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "slope_mb_per_m": slope,
        "records": getattr(kept, "kept", len(kept.records)),
    }


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of y over x."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0


def run_child(n: int, segment_events: int, *, window: bool = False, tree: str | None = None):
    cmd = [sys.executable, __file__, "--child", str(n), "--segment-events", str(segment_events)]
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([*cmd, *(["--window"] if window else [])], env=env,
                         capture_output=True, text=True, check=False)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000_000, help="long run (part 1)")
    parser.add_argument("--compare-requests", type=int, default=200_000, help="part 2")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per variant")
    parser.add_argument("--segment-events", type=int, default=250_000)
    parser.add_argument("--before", metavar="DIR", help="a checkout of the code before")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--window", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.segment_events, args.window)))
        return 0
    if args.quick:
        args.requests, args.compare_requests, args.rounds = 20_000, 5_000, 1
        args.segment_events = 40_000
    seg = args.segment_events
    print(f"load average before: {os.getloadavg()}")

    variants = {"after": {}, "before": {"tree": args.before} if args.before else {"window": True}}
    base = f"before ({args.before})" if args.before else "window (max_records=1000)"
    runs: dict[str, list[dict]] = {"after": [], "before": []}
    for i in range(args.rounds):
        order = ["before", "after"] if i % 2 == 0 else ["after", "before"]
        for name in order:
            runs[name].append(run_child(args.compare_requests, seg, **variants[name]))
    print(f"\npart 2: {args.compare_requests:,} requests, median of {args.rounds} interleaved")
    print(f"{'variant':34} {'req/s':>8} {'CPU us/req':>10} {'peak MB':>8} {'records':>8}")
    med = {}
    for name, label in (("before", base), ("after", "after (spill to Arrow)")):
        rate = statistics.median(r["requests"] / r["wall"] for r in runs[name])
        per = statistics.median(r["cpu"] / r["requests"] for r in runs[name])
        peak = statistics.median(r["peak_mb"] for r in runs[name])
        med[name] = (rate, per)
        records = runs[name][-1]["records"]
        print(f"{label:34} {rate:8.0f} {per * 1e6:10.1f} {peak:8.0f} {records:8,}")
    rates = [a["requests"] / a["wall"] / (b["requests"] / b["wall"])
             for a, b in zip(runs["after"], runs["before"], strict=True)]  # fmt: skip
    cpus = [a["cpu"] / a["requests"] / (b["cpu"] / b["requests"])
            for a, b in zip(runs["after"], runs["before"], strict=True)]  # fmt: skip
    print(f"ratio after/before: req/s x{med['after'][0] / med['before'][0]:.3f} "
          f"(per round median x{statistics.median(rates):.3f}, {min(rates):.3f}-{max(rates):.3f}),"
          f" CPU per request x{med['after'][1] / med['before'][1]:.3f} (per round median "
          f"x{statistics.median(cpus):.3f}, {min(cpus):.3f}-{max(cpus):.3f})")  # fmt: skip

    r = run_child(args.requests, seg)
    print(f"\npart 1: {r['requests']:,} requests ({r['events']:,} events) from iter_simulate")
    print(f"  {r['requests'] / r['wall']:,.0f} requests/s, {r['cpu'] / r['requests'] * 1e6:.1f} "
          f"CPU us/request, {r['wall']:.0f} s; log keeps {r['records']:,} records")  # fmt: skip
    print(f"  peak RSS {r['peak_mb']:,.0f} MB (target <= 500 MB); RSS slope over the second "
          f"half {r['slope_mb_per_m']:+.2f} MB per million requests")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
