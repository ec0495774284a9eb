"""The same work on two checkouts in one run: has a change made the core paths slower?

    .venv/bin/python benchmarks/before_after.py --baseline ../before [--rounds 7]

``--baseline`` is a checkout of the old code with its own ``.venv`` (``git worktree add
../before <commit>``, then ``python3 -m venv ../before/.venv && ../before/.venv/bin/pip
install -e ../before``). Each round runs every measurement once per checkout, each in a
fresh process, the order alternating between rounds, so both see the same background load.
Only calls whose names and meaning are the same in both versions are timed:

* ``simulate``: ``simulate("retail", users=…, days=…, rng=0)``, events/s;
* ``to_put_events``: an events frame of the retail preset to PutEvents requests, events/s;
* ``validate_events``: the same frame's validation report, events/s.

Printed per measurement: the median and range of events/s (wall) and of CPU µs per event for
each checkout, and the ratio of the medians (new / old: above 1 is faster in wall, below 1 is
cheaper in CPU). The streaming and emulator paths have their own before/after modes:
``benchmarks/stream.py --compare-with TREE`` and ``benchmarks/tracker.py --baseline TREE``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: the child's code: one measurement, printed as JSON (the same text runs on both versions)
CHILD = """
import json, resource, sys, time
import personalize_sim as ps
what, users = sys.argv[1], int(sys.argv[2])
frame = ps.simulate("retail", users=users, days=7, rng=0) if what != "simulate" else None
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
run = {
    "simulate": lambda: ps.simulate("retail", users=users, days=7, rng=0),
    "to_put_events": lambda: ps.to_put_events(frame, "tracking-id"),
    "validate_events": lambda: ps.validate_events(frame),
}[what]
run()  # warm: imports, botocore's model, caches
n = len(frame) if frame is not None else len(run())
wall, used = time.perf_counter(), cpu()
run()
wall, used = time.perf_counter() - wall, cpu() - used
print(json.dumps({"events": n, "wall": wall, "cpu": used}))
"""

MEASUREMENTS = ("simulate", "to_put_events", "validate_events")


def measure(python: str, what: str, users: int) -> dict[str, float]:
    out = subprocess.run(
        [python, "-c", CHILD, what, str(users)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="a checkout of the old code (.venv)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--users", type=int, default=20_000, help="retail users over 7 days")
    args = parser.parse_args()
    old = Path(args.baseline) / ".venv" / "bin" / "python"
    if not old.is_file():
        parser.error(f"{old} does not exist: give the old checkout a venv (see --help)")
    pythons = {"old": str(old), "new": sys.executable}
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for r in range(args.rounds):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for what in MEASUREMENTS:
            for side in order:
                results.setdefault((what, side), []).append(
                    measure(pythons[side], what, args.users)
                )
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print(f"{args.rounds} interleaved rounds, retail preset, {args.users:,} users, 7 days")
    print(f"{'measurement':16} {'side':4} {'events/s median (range)':>34} {'CPU µs/event':>26}")
    for what in MEASUREMENTS:
        medians = {}
        for side in ("old", "new"):
            runs = results[(what, side)]
            rates = [x["events"] / x["wall"] for x in runs]
            cpus = [1e6 * x["cpu"] / x["events"] for x in runs]
            medians[side] = (statistics.median(rates), statistics.median(cpus))
            spread = f"({min(rates):,.0f}–{max(rates):,.0f})"
            print(
                f"{what:16} {side:4} {medians[side][0]:>14,.0f} {spread}"
                f" {medians[side][1]:>10.3f} ({min(cpus):.3f}–{max(cpus):.3f})"
            )
        wall_ratio = medians["new"][0] / medians["old"][0]
        cpu_ratio = medians["new"][1] / medians["old"][1]
        print(f"{what:16} new/old: events/s {wall_ratio:.3f}x, CPU per event {cpu_ratio:.3f}x")


if __name__ == "__main__":
    main()
