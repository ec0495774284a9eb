"""Peak memory of plotting a long run's delivery log: from its Arrow spill vs from a frame.

    .venv/bin/python benchmarks/plot_memory.py                    # 10M requests: ~6 min
    .venv/bin/python benchmarks/plot_memory.py --requests 1000000 --baseline-requests 300000

Each variant runs in a fresh child process, which first fills a ``DeliveryLog`` with the
attempt records of a run at 1,000 requests/s (1 % throttled once, then delivered; latencies
of a few ms), as the sender does (so it spills to its temporary Arrow file), then draws
``plots.delivery`` and renders it to PNG ``--repeat`` times, sampling its RSS every 20 ms.

* **spilled**: ``plots.delivery(handle)`` (here the ``DeliveryLog``): reads the spill a batch
  of columns at a time. Target: peak RSS <= 500 MB for 10M requests.
* **frame**: ``plots.delivery(handle.log)``: builds the whole frame first (the only way
  before), at ``--baseline-requests`` (default 2M: the frame of 10M takes several GB).

Printed per variant: RSS before plotting, peak RSS while plotting (median and range over the
repeats), wall and CPU seconds of one plot (median and range); then the ratio of the frame's
peak growth to the spill's at the same size, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def fill(n: int):
    """A DeliveryLog holding the records of ``n`` requests sent at 1,000/s."""
    from personalize_sim.streaming import Attempt
    from personalize_sim.streaming.internal import DeliveryLog

    log = DeliveryLog()
    add = log.add
    for i in range(n):
        t = i / 1000
        latency = 0.002 + (i % 7) * 0.0005
        if i % 100 == 0:  # throttled once, retried 50 ms later
            add(Attempt(f"r{i}", 1, 0, 1, t, t, t, t + latency, 400, "ThrottlingException", "",
                        "retry", False, 1000.0, 0))  # fmt: skip
            t2 = t + 0.05
            add(Attempt(f"r{i}", 2, 0, 1, t, t2, t2, t2 + latency, 200, "", "", "delivered",
                        False, 1000.0, 0))  # fmt: skip
        else:
            add(Attempt(f"r{i}", 1, 0, 1, t, t, t, t + latency, 200, "", "", "delivered", False,
                        1000.0, 0))  # fmt: skip
    return log


def child(variant: str, n: int, repeat: int) -> None:
    import io

    from personalize_sim import plots

    log = fill(n)
    plots.delivery(fill(1000)).savefig(io.BytesIO(), format="png")  # imports, caches
    before = rss_mb()
    runs = []
    for _ in range(repeat):
        peak, stop = [rss_mb()], threading.Event()

        def sample(peak=peak, stop=stop) -> None:
            while not stop.wait(0.02):
                peak.append(rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        wall, cpu = time.perf_counter(), time.process_time()
        fig = plots.delivery(log if variant == "spilled" else log.frame())
        fig.savefig(io.BytesIO(), format="png")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stop.set()
        sampler.join()
        peak.append(rss_mb())
        runs.append({"peak_mb": max(peak), "wall_s": wall, "cpu_s": cpu})
        del fig
    print(json.dumps({"variant": variant, "requests": n, "records": log.kept,
                      "rss_before_mb": before, "runs": runs}))  # fmt: skip


def run_child(variant: str, n: int, repeat: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--requests", str(n),
         "--repeat", str(repeat)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def spread(values: list[float], spec: str) -> str:
    return (f"{format(statistics.median(values), spec)} "
            f"[{format(min(values), spec)}–{format(max(values), spec)}]")  # fmt: skip


def report(result: dict) -> float:
    runs = result["runs"]
    peaks = [r["peak_mb"] for r in runs]
    print(
        f"{result['variant']:>8}: {result['requests']:>11,} requests ({result['records']:,} "
        f"records): RSS before {result['rss_before_mb']:.0f} MB, peak {spread(peaks, '.0f')} MB; "
        f"plot wall {spread([r['wall_s'] for r in runs], '.2f')} s, "
        f"CPU {spread([r['cpu_s'] for r in runs], '.2f')} s"
    )
    return statistics.median(peaks) - result["rss_before_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--baseline-requests", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=("spilled", "frame"))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests, args.repeat)
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    small = args.baseline_requests
    growth = {v: report(run_child(v, small, args.repeat)) for v in ("frame", "spilled")}
    print(f"peak growth while plotting {small:,} requests: frame {growth['frame']:.0f} MB, "
          f"spilled {growth['spilled']:.0f} MB "
          f"(ratio {growth['frame'] / max(growth['spilled'], 1):.1f}x)")  # fmt: skip
    big = run_child("spilled", args.requests, args.repeat)
    report(big)
    peak = statistics.median(r["peak_mb"] for r in big["runs"])
    verdict = "within" if peak <= 500 else "OVER"
    print(
        f"{args.requests:,} requests from the spill: peak RSS {peak:.0f} MB, {verdict} the "
        "500 MB target"
    )


if __name__ == "__main__":
    main()
