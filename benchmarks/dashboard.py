"""What a live Dashboard costs the stream it watches, and what one update costs.

    .venv/bin/python benchmarks/dashboard.py [--requests N] [--repeat K]

Streams N one-event requests to an in-memory target as fast as the sender goes (rate far above
what it can reach), without and with a Dashboard attached (its updater thread running at 4
updates/s and redrawing the chart every second), and prints requests/s for both and their
ratio (best of K runs each; the dashboard's final update, after the stream, is timed apart).
Then times one live numbers update, the exact summary (read once at the end) and one chart
redraw on the finished log. Target: the dashboard costs the stream under 15% (ratio >= 0.85).
"""

from __future__ import annotations

import argparse
import json
import time

from personalize_sim.clock import VirtualClock
from personalize_sim.streaming import MemoryTarget, open_stream
from personalize_sim.widgets import Dashboard


def make_requests(n: int) -> list[dict]:
    return [
        {
            "trackingId": "bench",
            "sessionId": f"s{i % 500}",
            "eventList": [{"eventId": f"e{i}", "eventType": "View", "sentAt": 1_700_000_000 + i}],
        }
        for i in range(n)
    ]


def run(requests: list[dict], *, dashboard: bool) -> tuple[float, float, Dashboard | None]:
    """(requests/s of the stream, seconds of the dashboard's final update, the dashboard)."""
    handle = open_stream(requests, rate=10_000_000, target=MemoryTarget())
    dash = Dashboard(handle) if dashboard else None
    started = time.perf_counter()
    handle.start()
    summary = handle.wait()
    elapsed = time.perf_counter() - started
    assert summary.delivered_requests == len(requests), summary
    final = 0.0
    if dash is not None:
        started = time.perf_counter()
        dash.wait()
        final = time.perf_counter() - started
        assert dash.state["counters"]["delivered"] == len(requests)
    return len(requests) / elapsed, final, dash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    requests = make_requests(args.requests)
    run(requests[:1000], dashboard=True)  # warm up imports (matplotlib, pandas)

    bare = max(run(requests, dashboard=False)[0] for _ in range(args.repeat))
    watched_runs = [run(requests, dashboard=True) for _ in range(args.repeat)]
    watched, final, dash = max(watched_runs, key=lambda r: r[0])
    assert dash is not None

    # one update of each kind on the finished log, driven by a virtual clock
    handle = dash.handle
    probe = Dashboard(handle, clock=VirtualClock(), start=False)
    probe._final = False  # time running-state updates on the full log
    t0 = time.perf_counter()
    for _ in range(20):
        probe._show_numbers(handle.live_summary())
    numbers_ms = (time.perf_counter() - t0) / 20 * 1000
    t0 = time.perf_counter()
    for _ in range(5):
        handle.summary  # noqa: B018 - what a numbers update would cost with the exact summary
    summary_ms = (time.perf_counter() - t0) / 5 * 1000
    t0 = time.perf_counter()
    probe._charted = -1
    probe._show_chart(handle.live_summary())
    chart_ms = (time.perf_counter() - t0) * 1000

    result = {
        "requests": args.requests,
        "bare_requests_per_s": round(bare),
        "with_dashboard_requests_per_s": round(watched),
        "ratio_with_over_bare": round(watched / bare, 3),
        "final_update_after_the_stream_ms": round(final * 1000, 1),
        "dashboard_updates_during_best_run": dash.updates,
        "charts_during_best_run": dash.charts,
        "numbers_update_ms": round(numbers_ms, 2),
        "exact_summary_ms (read once, at the end)": round(summary_ms, 1),
        f"chart_redraw_ms_for_{len(handle.log)}_records": round(chart_ms, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
