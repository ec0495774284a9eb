"""Streaming speed and pacing accuracy against the local tracker emulator in its own process.

Part 1, throughput on one client core (each mode for ``--seconds``; PutEvents of 10 events):
  (a) a naive loop calling boto3 ``put_events`` (default client), the baseline;
  (b) ``stream()`` with our boto3 target (boto3 retries off, 16 threads);
  (c) ``stream()`` with the fast transport (orjson body, botocore SigV4, aiohttp).
Then (a') and (d): the naive loop and the fast transport against a bare ASGI app on uvicorn
(no validation, no store), which shows the client's own ceiling when the server is not the
limit. Reported: requests/s, events/s, client CPU per request (process CPU of all threads /
requests) and the ratio to (a), measured in the same run.

Part 2, pacing accuracy of the fast transport at 200 and 1,000 requests/s over 11 s: the rate
of first sends in the 10 s window after the first second, and the coefficient of variation of
sends per 100 ms (Locust measured about 1.5; an even stream is near 0).

Part 4, four senders in one run, interleaved over ``--sender-rounds`` rounds (each sender's
turn rotates; each turn sends about ``--seconds`` worth of 10-event requests to the emulator):
the naive boto3 loop, ``stream()`` with the boto3 target, the fast transport (aiohttp) and the
native transport (awscrt); client CPU per request (process CPU of all threads, the CRT's I/O
thread included), median and range over the rounds, and ratios of the medians. Then the
pacing accuracy of the native transport at 1,000 and 3,000 requests/s, as in part 2.

Part 3 (``--compare-with TREE``): the stream modes (b), (c) and (d), the native transport,
before and after a change,
in one run: each round runs both in fresh processes, this tree's interpreter and
``TREE/.venv/bin/python`` (a checkout of the old code with its own venv) taking turns against
one emulator; reported: median requests/s and CPU ms per request of each, and their ratios.

``--pin`` pins the client to CPU 0 and the emulator to CPU 1 (on a shared, busy host an
unpinned run is fairer: a pinned core may be the one another tenant is using).

    .venv/bin/python benchmarks/stream.py            # about a minute
    .venv/bin/python benchmarks/stream.py --quick --seconds 0.3 --pace-seconds 2   # a smoke run
    .venv/bin/python benchmarks/stream.py --compare-with /work/before --rounds 5

Memory over a long run (peak RSS and its slope over 10M requests, before vs after on the
same work) is ``benchmarks/stream_memory.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def make_requests(n: int, tracking_id: str, tag: str) -> list[dict]:
    """``n`` requests of 10 events (about 1.3 KB each), unique event ids per ``tag``."""
    return [
        {
            "trackingId": tracking_id,
            "userId": f"u{i % 1000}",
            "sessionId": f"s{i % 1000}",
            "eventList": [
                {
                    "eventId": f"{tag}-{i}-{j}",
                    "eventType": "View",
                    "sentAt": 1_700_000_000 + i + j / 100,
                    "itemId": f"item-{(i * 7 + j) % 5000}",
                    "properties": json.dumps({"discount": "Yes" if j % 3 else "No"}),
                }
                for j in range(10)
            ],
        }
        for i in range(n)
    ]


def naive_loop(client, requests: list[dict], seconds: float) -> tuple[int, float, float]:
    calls, cpu0, t0 = 0, time.process_time(), time.perf_counter()
    for request in itertools.cycle(requests):
        client.put_events(**request)
        calls += 1
        if calls % 20 == 0 and time.perf_counter() - t0 >= seconds:
            break
    return calls, time.perf_counter() - t0, time.process_time() - cpu0


def through_stream(requests: list[dict], target, *, max_in_flight: int) -> tuple[int, float, float]:
    from personalize_sim import stream
    from personalize_sim.streaming import Pacing

    cpu0 = time.process_time()
    handle = stream(
        requests,
        rate=1_000_000,  # as fast as the client can go: a throughput test, not a paced one
        target=target,
        pacing=Pacing(max_in_flight=max_in_flight, max_lag=1e9),
        wait=True,
    )
    cpu = time.process_time() - cpu0
    s = handle.summary
    assert s.complete, s
    log = handle.log
    duration = float(log["finished"].max() - log["sent"].min())
    return s.delivered_requests, duration, cpu


def pacing(
    endpoint_url: str, tracking_id: str, rate: float, seconds: float, tag: str, kind: str = "fast"
) -> dict:
    from personalize_sim import stream
    from personalize_sim.streaming import CrtTarget, FastTarget, Pacing

    requests = make_requests(int(rate * seconds), tracking_id, tag)
    if kind == "crt":  # room for 3,000/s at up to 80 ms each (Little's law: 240 in flight)
        target: object = CrtTarget(endpoint_url=endpoint_url, connections=256)
        handle = stream(requests, rate=rate, target=target, pacing=Pacing(max_in_flight=256),
                        wait=True)  # fmt: skip
    else:
        handle = stream(requests, rate=rate, target=FastTarget(endpoint_url=endpoint_url),
                        wait=True)  # fmt: skip
    s = handle.summary
    log = handle.log
    sent = np.sort(log.loc[log["attempt"] == 1, "sent"].to_numpy())
    end = max(seconds, 2.0)  # the first second warms up; the window is the rest of the run
    window = (sent >= 1.0) & (sent < end)
    achieved = window.sum() / (end - 1.0)
    bins = np.histogram(sent[window], bins=np.arange(1.0, end + 1e-9, 0.1))[0]
    return {
        "rate": rate,
        "achieved_10s": achieved,
        "error_pct": 100 * (achieved - rate) / rate,
        "cv_100ms": float(bins.std() / bins.mean()),
        "missed": s.missed_sends,
        "complete": s.complete,
        "lag_p99_ms": float(np.percentile((log["sent"] - log["scheduled"]) * 1000, 99)),
        "intended_p50_ms": s.latency_intended.p50,
        "intended_p99_ms": s.latency_intended.p99,
        "service_p50_ms": s.latency_service.p50,
        "service_p99_ms": s.latency_service.p99,
    }


BARE_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
"""


def bare_server() -> tuple[subprocess.Popen, str]:
    """A bare ASGI app on uvicorn (no validation, no store) in its own process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        BARE_APP + f"import uvicorn; uvicorn.run(app, host='127.0.0.1', port={port}, loop='uvloop',"
        " http='httptools', log_level='warning', access_log=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the bare ASGI server did not start")


def one_mode(mode: str, url: str, tid: str, n: int, tag: str) -> dict[str, float]:
    """One throughput run of mode ``b`` (boto3 target), ``c`` (fast transport) or ``d`` (native
    transport), in this process (run as ``--child``, by whichever tree's interpreter is being
    measured)."""
    from personalize_sim.streaming import Boto3Target, CrtTarget, FastTarget

    requests = make_requests(n, tid, tag)
    if mode == "b":
        import boto3
        from botocore.config import Config

        config = Config(retries={"total_max_attempts": 1}, max_pool_connections=16)
        client = boto3.client("personalize-events", endpoint_url=url, config=config)
        through_stream(make_requests(50, tid, tag + "w"), Boto3Target(client, threads=16),
                       max_in_flight=16)  # warm-up  # fmt: skip
        done, dur, cpu = through_stream(requests, Boto3Target(client, threads=16), max_in_flight=16)
    else:
        make = FastTarget if mode == "c" else CrtTarget
        through_stream(make_requests(50, tid, tag + "w"), make(endpoint_url=url),
                       max_in_flight=64)  # fmt: skip
        done, dur, cpu = through_stream(requests, make(endpoint_url=url), max_in_flight=64)
    return {"requests": done, "seconds": dur, "cpu": cpu}


def compare_with(tree: str, url: str, tid: str, rounds: int, seconds: float) -> None:
    """Before (``tree``) vs after (this tree), interleaved, each run in a fresh process."""
    before_python = os.path.join(tree, ".venv", "bin", "python")
    pythons = {"after": sys.executable, "before": before_python}
    sizes = {"b": max(200, int(400 * seconds)), "c": max(500, int(2000 * seconds)),
             "d": max(500, int(2000 * seconds))}  # fmt: skip
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for r in range(rounds):
        for mode in ("b", "c", "d"):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for which in order:
                out = subprocess.run(
                    [pythons[which], __file__, "--child", mode, "--url", url, "--tid", tid,
                     "--n", str(sizes[mode]), "--tag", f"{which}-{mode}-{r}"],
                    capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__),
                )  # fmt: skip
                runs.setdefault((mode, which), []).append(json.loads(out.stdout.splitlines()[-1]))
    print()
    print(f"before ({tree}) vs after (this tree), {rounds} interleaved rounds, median:")
    print(f"{'mode':24} {'req/s before':>12} {'after':>8} {'x':>6} {'CPU ms/req before':>17}"
          f" {'after':>7} {'x':>6} {'req/s range before':>18} {'after':>11}")  # fmt: skip
    names = {"b": "b stream, boto3 target", "c": "c stream, fast transport",
             "d": "d stream, crt transport"}  # fmt: skip
    for mode, name in names.items():
        stats = {}
        for which in ("before", "after"):
            rs = runs[(mode, which)]
            rates = [x["requests"] / x["seconds"] for x in rs]
            cpus = [1000 * x["cpu"] / x["requests"] for x in rs]
            stats[which] = (float(np.median(rates)), float(np.median(cpus)), min(rates), max(rates))
        (rb, cb, lo_b, hi_b), (ra, ca, lo, hi) = stats["before"], stats["after"]
        print(f"{name:24} {rb:12.0f} {ra:8.0f} {ra / rb:6.2f} {cb:17.3f} {ca:7.3f} {ca / cb:6.2f}"
              f" {lo_b:9.0f}–{hi_b:<8.0f} {lo:5.0f}–{hi:<5.0f}")  # fmt: skip


# -- part 4: four senders in one run, interleaved rounds --------------------------------------

SENDERS = ("naive boto3 loop", "boto3 target", "fast transport", "crt transport")
#: a first guess of each sender's requests/s, to size its first turn (later turns use the last)
_GUESS = {"naive boto3 loop": 300.0, "boto3 target": 500.0, "fast transport": 2000.0,
          "crt transport": 3000.0}  # fmt: skip


def sender_turn(sender: str, tracker, requests: list[dict]) -> tuple[int, float, float]:
    """One sender sends ``requests``: (requests, wall seconds, process CPU seconds)."""
    from personalize_sim.streaming import Boto3Target, CrtTarget, FastTarget

    url = tracker.endpoint_url
    if sender == "naive boto3 loop":
        client = tracker.client()  # a plain client, as the samples build it
        cpu0, t0 = time.process_time(), time.perf_counter()
        for request in requests:
            client.put_events(**request)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        client.close()
        return len(requests), wall, cpu
    if sender == "boto3 target":
        own = tracker.client(retries={"total_max_attempts": 1}, max_pool_connections=16)
        return through_stream(requests, Boto3Target(own, threads=16), max_in_flight=16)
    target = FastTarget if sender == "fast transport" else CrtTarget
    return through_stream(requests, target(endpoint_url=url), max_in_flight=64)


def four_senders(tracker, rounds: int, seconds: float) -> dict[str, list[tuple[int, float, float]]]:
    """Each round, each sender in turn (the order rotates), after one warm-up turn each."""
    tid = tracker.tracking_id
    rate = dict(_GUESS)
    runs: dict[str, list[tuple[int, float, float]]] = {s: [] for s in SENDERS}
    for sender in SENDERS:  # warm-up: imports, first connections
        sender_turn(sender, tracker, make_requests(40, tid, f"w-{sender}"))
    for r in range(rounds):
        order = SENDERS[r % 4 :] + SENDERS[: r % 4]
        for sender in order:
            n = max(100, int(rate[sender] * seconds))
            tag = f"r{r}-{sender.split()[0]}"
            done, wall, cpu = sender_turn(sender, tracker, make_requests(n, tid, tag))
            runs[sender].append((done, wall, cpu))
            rate[sender] = done / wall
    return runs


def report_four_senders(runs: dict[str, list[tuple[int, float, float]]]) -> None:
    cpu = {s: [1000 * c / n for n, _, c in rs] for s, rs in runs.items()}
    rps = {s: [n / w for n, w, _ in rs] for s, rs in runs.items()}
    median = {s: float(np.median(v)) for s, v in cpu.items()}
    rounds = len(next(iter(runs.values())))
    print()
    print(f"four senders, {rounds} interleaved rounds, 10-event PutEvents to the emulator:")
    print(f"{'sender':18} {'CPU ms/req median':>17} {'range':>15} {'req/s median':>12}"
          f" {'x CPU vs naive':>14} {'x CPU vs fast':>13}")  # fmt: skip
    for s in SENDERS:
        lo, hi = min(cpu[s]), max(cpu[s])
        print(f"{s:18} {median[s]:17.3f} {lo:7.3f}–{hi:<7.3f} {np.median(rps[s]):12.0f}"
              f" {median['naive boto3 loop'] / median[s]:14.2f}"
              f" {median['fast transport'] / median[s]:13.2f}")  # fmt: skip
    crt = median["crt transport"]
    checks = {
        "crt ≤ 0.15 ms CPU per request": crt <= 0.15,
        "crt ≥ 10× cheaper than the naive boto3 loop": median["naive boto3 loop"] / crt >= 10,
        "crt ≥ 2× cheaper than the fast transport": median["fast transport"] / crt >= 2,
    }
    for text, met in checks.items():
        print(f"  target {text}: {'met' if met else 'MISSED'}")


def crt_pacing(url: str, tid: str, seconds: float, scale: float = 1.0) -> None:
    """The crt transport paced at 1,000 and 3,000 requests/s (256 in flight), against the
    emulator and against the bare ASGI app (the client's own accuracy when the server is not
    the limit); ``scale`` multiplies the rates."""
    proc, bare = bare_server()
    try:
        for where, endpoint in (("emulator", url), ("bare server", bare)):
            print()
            print(f"pacing, crt transport, 10 events per request, {where}, "
                  f"window 1–{seconds:g} s:")  # fmt: skip
            print(f"{'target/s':>8} {'achieved':>9} {'error %':>8} {'CV 100ms':>9} {'missed':>6}"
                  f" {'lag p99':>8} {'intended p50/p99 ms':>20}"
                  f" {'service p50/p99 ms':>19}")  # fmt: skip
            for rate in (1000.0 * scale, 3000.0 * scale):
                tag = f"crt-p{int(rate)}-{where[0]}"
                r = pacing(endpoint, tid, rate, seconds, tag, kind="crt")
                print(
                    f"{r['rate']:8.0f} {r['achieved_10s']:9.1f} {r['error_pct']:+8.3f}"
                    f" {r['cv_100ms']:9.4f} {r['missed']:6d} {r['lag_p99_ms']:8.2f}"
                    f" {r['intended_p50_ms']:9.2f}/{r['intended_p99_ms']:<9.2f}"
                    f" {r['service_p50_ms']:8.2f}/{r['service_p99_ms']:<9.2f}"
                    + ("" if r["complete"] else "  (incomplete)")
                )
    finally:
        proc.terminate()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput mode")
    parser.add_argument("--pace-seconds", type=float, default=11.0, help="per pacing run")
    parser.add_argument(
        "--pin", action="store_true", help="pin the client to CPU 0 and the emulator to CPU 1"
    )
    parser.add_argument("--compare-with", metavar="TREE", help="a checkout of the old code")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of --compare-with")
    parser.add_argument("--only-compare", action="store_true", help="skip parts 1 and 2")
    parser.add_argument("--sender-rounds", type=int, default=5, help="rounds of part 4")
    parser.add_argument("--only-senders", action="store_true", help="run part 4 alone")
    parser.add_argument(
        "--quick", action="store_true",
        help="a smoke run: one round of part 4, pacing at a tenth of the rates",
    )  # fmt: skip
    for name in ("--child", "--url", "--tid", "--tag"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    pace_scale = 0.1 if args.quick else 1.0
    if args.quick:
        args.sender_rounds = 1
    if args.child:  # one measured run, for --compare-with (any tree's interpreter)
        print(json.dumps(one_mode(args.child, args.url, args.tid, args.n, args.tag)))
        return 0

    from personalize_sim.streaming import Boto3Target, FastTarget
    from personalize_sim.tracker import LocalTracker

    with LocalTracker(max_tps=None, process=True) as tracker:
        pinned = False
        if args.pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
            os.sched_setaffinity(tracker.process.pid, {1})
            os.sched_setaffinity(0, {0})
            pinned = True
        url, tid = tracker.endpoint_url, tracker.tracking_id
        print(f"emulator {url} in its own process (pid {tracker.process.pid}); pinned: {pinned}")
        print(f"load average before: {os.getloadavg()}")

        if args.compare_with:
            compare_with(args.compare_with, url, tid, args.rounds, args.seconds)
            if args.only_compare:
                return 0

        if args.only_senders or args.sender_rounds:
            report_four_senders(four_senders(tracker, args.sender_rounds, args.seconds))
            crt_pacing(url, tid, args.pace_seconds, pace_scale)
            if args.only_senders:
                return 0

        # warm up imports and connections so no mode pays for them
        warm = make_requests(50, tid, "warm")
        naive_loop(tracker.client(), warm, 0.2)

        results = {}
        client = tracker.client()  # a plain client, as the samples build it
        n, dur, cpu = naive_loop(client, make_requests(2000, tid, "a"), args.seconds)
        results["a naive boto3 loop"] = (n, dur, cpu)
        rate_a = n / dur

        b_requests = make_requests(max(200, int(rate_a * 1.5 * args.seconds)), tid, "b")
        own = tracker.client(retries={"total_max_attempts": 1}, max_pool_connections=16)
        results["b stream, boto3 target"] = through_stream(
            b_requests, Boto3Target(own, threads=16), max_in_flight=16
        )

        c_requests = make_requests(max(500, int(rate_a * 6 * args.seconds)), tid, "c")
        results["c stream, fast transport"] = through_stream(
            c_requests, FastTarget(endpoint_url=url), max_in_flight=64
        )

        # the client's own ceiling: the same modes against a server that does nothing
        proc, bare = bare_server()
        try:
            import boto3

            bare_client = boto3.client("personalize-events", endpoint_url=bare)
            n, dur, cpu = naive_loop(bare_client, make_requests(2000, tid, "a2"), args.seconds)
            results["a' naive boto3, bare server"] = (n, dur, cpu)
            d_requests = make_requests(max(500, int(n / dur * 8 * args.seconds)), tid, "d")
            results["d fast transport, bare server"] = through_stream(
                d_requests, FastTarget(endpoint_url=bare), max_in_flight=64
            )
        finally:
            proc.terminate()
            proc.wait()

        print()
        print(f"{'mode':28} {'requests':>8} {'req/s':>8} {'events/s':>9} {'CPU ms/req':>10}"
              f" {'x req/s':>8} {'x CPU':>6}")  # fmt: skip
        base_rate = rate_a
        base_cpu = results["a naive boto3 loop"][2] / results["a naive boto3 loop"][0]
        for name, (n, dur, cpu) in results.items():
            per = cpu / n
            print(
                f"{name:28} {n:8d} {n / dur:8.0f} {10 * n / dur:9.0f} {per * 1000:10.3f}"
                f" {n / dur / base_rate:8.2f} {base_cpu / per:6.2f}"
            )

        print()
        print(f"pacing, fast transport, 10 events per request, window 1–{args.pace_seconds:g} s:")
        print(f"{'target/s':>8} {'achieved':>9} {'error %':>8} {'CV 100ms':>9} {'missed':>6}"
              f" {'lag p99':>8} {'intended p50/p99 ms':>20}"
              f" {'service p50/p99 ms':>19}")  # fmt: skip
        for rate in (200.0 * pace_scale, 1000.0 * pace_scale):
            r = pacing(url, tid, rate, args.pace_seconds, f"p{int(rate)}")
            print(
                f"{r['rate']:8.0f} {r['achieved_10s']:9.1f} {r['error_pct']:+8.3f}"
                f" {r['cv_100ms']:9.4f} {r['missed']:6d} {r['lag_p99_ms']:8.2f}"
                f" {r['intended_p50_ms']:9.2f}/{r['intended_p99_ms']:<9.2f}"
                f" {r['service_p50_ms']:8.2f}/{r['service_p99_ms']:<9.2f}"
            )
        print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
