"""The benchmark scripts still run against today's API (tiny sizes: a smoke test, not a timing).

Two of them had broken on an API change and only a full benchmark run found it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

ROOT = BENCHMARKS.parent

TINY = {
    # this checkout as its own baseline: the comparison runs, whatever its numbers
    "before_after.py": (["--baseline", str(ROOT), "--rounds", "1", "--users", "300"],
                        "new/old: events/s"),
    "payloads.py": (["--events", "20000", "--repeat", "1", "--naive-events", "2000",
                     "--compare-runs", "1"], "validate_events"),
    "simulate.py": (["--events", "20000", "--chunked-events", "40000",
                     "--baseline-events", "2000", "--clever-events", "20000"], "faster (CPU) than"),
    "tracker.py": (["--seconds", "0.3", "--rounds", "1"], "ratio tracker / bare"),
    "stream.py": (["--quick", "--seconds", "0.3", "--pace-seconds", "2"],
                  "c stream, fast transport"),
    "stream_memory.py": (["--quick"], "RSS slope over the second half"),
    "dashboard.py": (["--requests", "300", "--repeat", "1"], "ratio_with_over_bare"),
    "plot_memory.py": (["--requests", "3000", "--baseline-requests", "2000", "--repeat", "1"],
                       "within the 500 MB target"),
    "attribution.py": (["--events", "100000", "--repeat", "1"], "ratio naive / attribution_report"),
    "fit.py": (["--events", "50000", "--naive-events", "5000", "--repeat", "1"],
               "the naive loop's time"),
    "closed_loop.py": (["--users", "30", "--days", "1", "--repeat", "1", "--open-events", "3000",
                        "--filter-items", "2000", "--filter-requests", "30"],
                       "filtered / unfiltered emulator CPU"),
    "scale.py": (["--quick"], "scaling 1 -> 2"),
    "datasets.py": (["--rows", "2000", "--repeat", "1"], "from_put_action_interactions"),
    "runtime.py": (["--items", "2000", "--users", "2000", "--events", "6000", "--seconds", "0.3",
                    "--rounds", "1"], "ratio PutEvents p99 loaded / alone"),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("script", sorted(TINY))
def test_the_benchmark_runs(script):
    args, expected = TINY[script]
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True, text=True, timeout=170,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert expected in out.stdout, out.stdout[-3000:]


def test_every_benchmark_has_a_smoke_run():
    assert sorted(p.name for p in BENCHMARKS.glob("*.py")) == sorted(TINY)
