"""Benchmark: the runtime API at a million items and users, in process and over HTTP, one run.

Part 1, in this process: :class:`personalize_sim.online.OnlineModels` learns ``--events``
events over ``--items`` items and ``--users`` users (every item and every user seen at
least once: each user's first event is on an item of its own, the rest Zipf-popular), then
answers every kind at ``numResults`` 25. The baseline does the same work as the models did
before they kept their order: score every item the model holds and take the best
(``heapq.nsmallest`` over the whole model), on the very same state, interleaved with the
incremental answer, same answers checked. Printed: µs per answer, median and range over
``--rounds``, wall and CPU, the ratio scan / incremental; the learning rate; memory (RSS
growth while learning, per item + user).

Part 2, over HTTP: the same events are written to a store, ``personalize-sim serve`` starts
on it with one recommender of each kind (it relearns the store before it listens: the
time it prints), and this process keeps PutEvents at ``--rate`` requests/s (open model:
latency from the intended send time) alone, then beside ``--clients`` connections asking
for recommendations back to back (the kinds in turn), phases interleaved over ``--rounds``.
Printed: PutEvents p50/p99 alone and under load (median and range of the rounds) and their
ratio; GetRecommendations p99 per kind and recommendations/s; the server's CPU per request.

    .venv/bin/python benchmarks/runtime.py [--items 1000000] [--users 1000000]
        [--events 2000000] [--seconds 5] [--rounds 3] [--clients 8] [--rate 100] [--part 1|2]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from personalize_sim.online import OnlineModels

KINDS = ("popularity", "trending", "similar-items", "user-personalization", "random")
T0 = 1_767_225_600.0  # 2026-01-01: a week of events from here
N = 25


def make_events(items: int, users: int, events: int, seed: int = 0):
    """(user, item, at) in time order: every user and every item at least once."""
    rng = np.random.default_rng(seed)
    first = np.arange(max(items, users))
    user = np.concatenate([first % users, rng.integers(0, users, max(0, events - len(first)))])
    popular = np.minimum(rng.zipf(1.2, len(user)) - 1, items - 1)
    item = np.concatenate([first % items, popular[len(first) :]])
    at = T0 + np.sort(rng.uniform(0, 7 * 86400, len(user)))
    return [(f"u{u}", f"i{i}", float(t)) for u, i, t in zip(user, item, at, strict=True)]


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def scan(models: OnlineModels, kind: str, user: str, item: str) -> list[str]:
    """The pre-change answer: score every item held, keep the best (ties by id)."""

    def best(scores: dict[str, float], n: int, exclude: set) -> list[str]:
        top = heapq.nsmallest(n + len(exclude), scores.items(), key=lambda p: (-p[1], p[0]))
        return [i for i, _ in top if i not in exclude][:n]

    if kind == "random":
        return random.Random(0).sample(list(models.catalog), N)
    if kind in ("popularity", "trending"):
        return best(models.scores(kind), N, set())
    if kind == "similar-items":
        return best(models.scores(kind, item_id=item), N, {item})
    seen = set(models.recent.get(user, ()))
    chosen = best(models.scores(kind, user_id=user), N, seen)
    return chosen + best(models.scores("trending"), N - len(chosen), seen | set(chosen))


def in_process(args: argparse.Namespace, events: list) -> None:
    before = rss()
    models = OnlineModels(max_items=max(args.items, 1), max_users=max(args.users, 1), rng=0)
    start, cpu = time.perf_counter(), time.process_time()
    for user, item, at in events:
        models.observe(user, item, at)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    grown = rss() - before
    print(f"part 1: OnlineModels at {len(models.counts):,} items, {len(models.recent):,} users "
          f"({len(events):,} events)")  # fmt: skip
    per = grown / (len(models.counts) + len(models.recent))
    print(
        f"  learning: {wall:.1f} s wall, {cpu:.1f} s CPU ({1e6 * cpu / len(events):.1f} µs CPU "
        f"per event); memory: +{grown / 2**20:,.0f} MiB RSS, {per:,.0f} bytes per item + user"
    )
    rng = random.Random(1)
    users, items = [e[0] for e in events], [e[1] for e in events]
    print("  answer at numResults 25, µs: median [range] of rounds, wall | CPU")
    for kind in KINDS:
        times: dict[str, list[tuple[float, float]]] = {"incremental": [], "scan": []}
        answers: dict[str, list[list[str]]] = {"incremental": [], "scan": []}
        for r in range(args.rounds):
            user, item = rng.choice(users), rng.choice(items)
            for name in ("incremental", "scan") if r % 2 == 0 else ("scan", "incremental"):
                start, cpu = time.perf_counter(), time.process_time()
                if name == "scan":
                    got = scan(models, kind, user, item)
                else:
                    got = [i for i, _ in models.recommend(kind, user_id=user, item_id=item, n=N)]
                times[name].append((time.perf_counter() - start, time.process_time() - cpu))
                answers[name].append(got)
        if kind != "random":  # the same answers, or the comparison means nothing
            assert answers["incremental"] == answers["scan"], kind
        inc, full = (_median_range([w for w, _ in times[k]]) for k in ("incremental", "scan"))
        cpu_inc = statistics.median(c for _, c in times["incremental"])
        cpu_full = statistics.median(c for _, c in times["scan"])
        print(f"  {kind:21} incremental {inc[0] * 1e6:9,.0f} [{inc[1] * 1e6:,.0f}–"
              f"{inc[2] * 1e6:,.0f}] | {cpu_inc * 1e6:,.0f}   scan {full[0] * 1e6:11,.0f} "
              f"[{full[1] * 1e6:,.0f}–{full[2] * 1e6:,.0f}] | {cpu_full * 1e6:,.0f}   "
              f"ratio scan/incremental {_ratio(full[0] / inc[0])}")  # fmt: skip
    largest(args, models, users, items, rng)


def largest(args: argparse.Namespace, models: OnlineModels, users: list, items: list,
            rng: random.Random) -> None:  # fmt: skip
    """The largest answers the API allows: numResults 500, a ranking of 500 items."""
    cpu: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        user, item = rng.choice(users), rng.choice(items)
        ranked = rng.sample(items, 500)
        for kind in KINDS:
            start = time.process_time()
            models.recommend(kind, user_id=user, item_id=item, n=500)
            cpu.setdefault(f"{kind} numResults 500", []).append(time.process_time() - start)
            start = time.process_time()
            models.rank(kind, user, ranked)
            cpu.setdefault(f"{kind} ranking 500", []).append(time.process_time() - start)
    slowest = max(cpu, key=lambda k: statistics.median(cpu[k]))
    worst = statistics.median(cpu[slowest])
    print(
        f"  the largest answers (numResults 500, a ranking of 500 items), every kind: at most "
        f"{worst * 1e3:.2f} ms CPU (median of rounds; the slowest: {slowest})"
    )


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.2f}x"


def _median_range(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


# -- over HTTP ---------------------------------------------------------------------------------


def write_store(path: Path, events: list) -> None:
    from personalize_sim.tracker._store import Store  # the emulator's own writer

    store = Store(path)
    rows = [("t", user, "s", f"e{n}", "click", None, item, None, at, None, None, None, at)
            for n, (user, item, at) in enumerate(events)]  # fmt: skip
    for at in range(0, len(rows), 100_000):
        store.write([("events", rows[at : at + 100_000])])
    store.close()


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, path: str, body: bytes) -> int:
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
        self.writer.write(head + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) != b"\r\n":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await self.reader.readexactly(length)
        return status


async def connect(port: int) -> Connection:
    return Connection(*await asyncio.open_connection("127.0.0.1", port))


async def phase(port: int, args: argparse.Namespace, clients: int, round_: int) -> dict:
    """PutEvents at the rate for the phase's seconds, beside ``clients`` recommendation loops."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(8):
        pool.put_nowait(await connect(port))
    recs = [await connect(port) for _ in range(clients)]
    put_latency: list[float] = []
    rec_latency: dict[str, list[float]] = {kind: [] for kind in KINDS}
    stop = asyncio.Event()
    rng = random.Random(round_)

    async def put(n: int, due: float) -> None:
        conn = await pool.get()
        event = {"eventId": f"r{round_}-{clients}-{n}", "eventType": "click",
                 "itemId": f"i{rng.randrange(args.items)}", "sentAt": time.time()}  # fmt: skip
        body = json.dumps({"trackingId": "t", "userId": f"u{rng.randrange(args.users)}",
                           "sessionId": "s", "eventList": [event]}).encode()  # fmt: skip
        assert await conn.post("/events", body) == 200
        put_latency.append(time.perf_counter() - due)
        pool.put_nowait(conn)

    async def ask(conn: Connection, offset: int) -> None:
        k = offset
        while not stop.is_set():
            kind = KINDS[k % len(KINDS)]
            k += 1
            request = {"recommenderArn": ARNS[kind], "numResults": N,
                       "userId": f"u{rng.randrange(args.users)}"}  # fmt: skip
            if kind == "similar-items":
                request["itemId"] = f"i{rng.randrange(args.items)}"
            start = time.perf_counter()
            assert await conn.post("/recommendations", json.dumps(request).encode()) == 200
            rec_latency[kind].append(time.perf_counter() - start)

    askers = [asyncio.ensure_future(ask(conn, n)) for n, conn in enumerate(recs)]
    await asyncio.sleep(0.2)  # the askers at their pace before the measured sends
    cpu = server_cpu(PID)
    start = time.perf_counter()
    sends = []
    for n in range(int(args.seconds * args.rate)):
        due = start + n / args.rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        sends.append(asyncio.ensure_future(put(n, due)))
    await asyncio.gather(*sends)
    wall = time.perf_counter() - start
    stop.set()
    await asyncio.gather(*askers)
    cpu = server_cpu(PID) - cpu
    asked = sum(map(len, rec_latency.values()))
    for conn in [*recs, *[pool.get_nowait() for _ in range(pool.qsize())]]:
        conn.writer.close()
    return {"put": put_latency, "recs": rec_latency, "wall": wall, "cpu": cpu,
            "requests": len(put_latency) + asked, "asked_per_s": asked / wall}  # fmt: skip


def server_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


ARNS: dict[str, str] = {}
PID = 0


def over_http(args: argparse.Namespace, events: list) -> None:
    global PID
    folder = Path(tempfile.mkdtemp(prefix="runtime-bench-"))
    db = folder / "events.db"
    write_store(db, events)
    specs = [f"{kind.replace('-', '_')}={kind}" for kind in KINDS]
    ARNS.update({kind: f"arn:aws:personalize:us-east-1:000000000000:recommender/"
                 f"{kind.replace('-', '_')}" for kind in KINDS})  # fmt: skip
    command = [sys.executable, "-m", "personalize_sim.cli", "serve", "--db", str(db), "--max-tps",
               "0", "--seed", "0"] + [a for s in specs for a in ("--recommender", s)]  # fmt: skip
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    PID = server.pid
    try:
        url = server.stdout.readline().split()[-1]  # type: ignore[union-attr]
        ready = time.perf_counter() - started
        lines = [server.stdout.readline().strip() for _ in range(1 + len(KINDS) + 1)]  # type: ignore[union-attr]
        print(f"part 2: personalize-sim serve on that store: listening after {ready:.1f} s; "
              f"{lines[-1]}; RSS {rss_of(PID) / 2**20:,.0f} MiB")  # fmt: skip
        port = int(url.rsplit(":", 1)[1])
        results: dict[str, list[dict]] = {"alone": [], "loaded": []}
        for r in range(args.rounds):
            order = ("alone", "loaded") if r % 2 == 0 else ("loaded", "alone")
            for name in order:
                clients = 0 if name == "alone" else args.clients
                results[name].append(asyncio.run(phase(port, args, clients, r)))
        report(args, results)
        from personalize_sim.tracker._server import fetch_stats

        stats = fetch_stats(url)
        put, runtime = stats["latency"], stats["runtime_latency"]
        print(f"  server side, arrival to reply, all phases: PutEvents p50 {put['p50']:.2f} "
              f"p99 {put['p99']:.2f} ms; runtime answers p50 {runtime['p50']:.2f} "
              f"p99 {runtime['p99']:.2f} ms")  # fmt: skip
        print(f"  load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        server.terminate()
        server.communicate(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def rss_of(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def report(args: argparse.Namespace, results: dict[str, list[dict]]) -> None:
    def stat(name: str, q: float) -> tuple[float, float, float]:
        return _median_range([percentile(r["put"], q) * 1e3 for r in results[name]])

    print(f"  PutEvents at {args.rate:g}/s, ms from the intended send time: median [range] "
          f"of {args.rounds} rounds")  # fmt: skip
    for name, label in (("alone", "alone"), ("loaded", f"with {args.clients} clients asking")):
        p50, p99 = stat(name, 0.5), stat(name, 0.99)
        cpu = statistics.median(r["cpu"] / max(r["requests"], 1) * 1e6 for r in results[name])
        print(
            f"    {label:28} p50 {p50[0]:6.2f} [{p50[1]:.2f}–{p50[2]:.2f}]  "
            f"p99 {p99[0]:6.2f} [{p99[1]:.2f}–{p99[2]:.2f}]  server CPU {cpu:,.0f} µs/request"
        )
    ratio = stat("loaded", 0.99)[0] / stat("alone", 0.99)[0]
    print(f"  ratio PutEvents p99 loaded / alone: {ratio:.2f} (target <= 2)")
    rate = _median_range([r["asked_per_s"] for r in results["loaded"]])
    print(f"  GetRecommendations at numResults 25: {rate[0]:,.0f} answers/s "
          f"[{rate[1]:,.0f}–{rate[2]:,.0f}]; ms, client side (target p99 <= 5):")  # fmt: skip
    for kind in KINDS:
        p50 = _median_range([percentile(r["recs"][kind], 0.5) * 1e3 for r in results["loaded"]])
        p99 = _median_range([percentile(r["recs"][kind], 0.99) * 1e3 for r in results["loaded"]])
        print(f"    {kind:21} p50 {p50[0]:6.2f}  p99 {p99[0]:6.2f} [{p99[1]:.2f}–{p99[2]:.2f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--part", choices=("1", "2", "both"), default="both")
    args = parser.parse_args()
    events = make_events(args.items, args.users, args.events)
    if args.part in ("1", "both"):
        in_process(args, events)
    if args.part in ("2", "both"):
        over_http(args, events)


if __name__ == "__main__":
    main()
