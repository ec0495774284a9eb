"""Benchmark: requests/s of the local tracker emulator vs a bare ASGI app, same run.

First, validation alone, in this process: the generated fast validator
(``tracker._validator.Validator``, written with ``exec``) against the plain
``limits.check_request`` on the same 10-event bodies the load sends, interleaved,
median of the runs, wall and CPU µs per request.

Then end to end. The emulator runs in its own process (``personalize-sim serve
--max-tps 0``, so nothing is throttled: full validation, group commit to SQLite,
200 after commit); a second emulator process is the same but validates with the
plain ``limits.check_request`` only (``--variant plain-validator``; with
``--gc-freeze-phase`` a third one calls ``gc.freeze()`` once started up, as the
emulator did before it was measured not to pay). A load
process keeps ``--connections`` keep-alive HTTP/1.1 connections busy with valid,
SigV4-signed 10-event PutEvents requests whose event ids never repeat, so every
event is stored. The load is a bare asyncio
HTTP/1.1 client (cheaper per request than aiohttp, so the client is less of a
ceiling); its SigV4 signer is checked against botocore's before each phase.
The same load then hits a bare ASGI app on the same uvicorn settings that
answers 200 to everything. Phases alternate (tracker, plain, bare, then plain, bare,
tracker, …: the order rotates each round) so all see the same background load;
printed: each round, the medians, the ratios of rates, and server CPU time per
request (steadier on a shared host).

    .venv/bin/python benchmarks/tracker.py [--seconds 5] [--rounds 3] [--connections 16]
                                           [--verify-signature] [--pin] [--gc-freeze-phase]
                                           [--baseline ../before]

``--baseline CHECKOUT`` adds a phase running ``personalize-sim serve`` from another checkout
with its own ``.venv`` (``git worktree add ../before main`` and a venv there), interleaved
with the others: the before/after comparison of a change in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ACCESS_KEY, SECRET_KEY, REGION, SERVICE = "testing", "testing", "us-east-1", "personalize"


# ---------------------------------------------------------------------------------------------
# the bare app


async def bare_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """ASGI app answering 200 with an empty body to every request, after reading it."""
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def serve_bare() -> None:
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        bare_app,
        loop="auto",  # as the emulator: uvloop and httptools when installed
        http="auto",
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    server = uvicorn.Server(config)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])


# ---------------------------------------------------------------------------------------------
# the emulator with one clever piece taken out, for the same-run comparison


def serve_variant(variant: str, db: str, verify_signature: bool) -> None:
    """``personalize-sim serve --max-tps 0`` with the plain validator, or with gc.freeze()."""
    import functools
    import gc

    from personalize_sim import limits
    from personalize_sim.tracker import TrackerConfig, _emulator, _validator
    from personalize_sim.tracker.internal import serve

    if variant == "plain-validator":

        def plain(op: str, service: str = limits.SERVICE_NAME) -> Any:
            return functools.partial(_validator.check_plain, op, service=service)

        _emulator.Validator = plain  # type: ignore[assignment,misc]
    elif variant == "gc-freeze":
        import uvicorn  # noqa: F401  # what startup loads: uvicorn and botocore's model

        for operation in _emulator.OPERATIONS:
            limits.operation_limits(operation)
        gc.freeze()  # out of the collector's reach
    config = TrackerConfig(max_tps=0, verify_signature=verify_signature)
    raise SystemExit(serve(config, db_path=db))


def bench_validation(rounds: int = 5, requests: int = 2000) -> None:
    """Validation of the load's bodies: generated fast check vs plain check_request."""
    import orjson

    from personalize_sim.tracker._validator import Validator, check_plain

    bodies = [make_body(n, "validate") for n in range(requests)]
    decoded = [(orjson.loads(b), len(b)) for b in bodies]
    fast = Validator("PutEvents")
    ways = {
        "generated (exec)": lambda r, n: fast(r, n),
        "plain check_request": lambda r, n: check_plain("PutEvents", r, n),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, validate in ways.items():  # interleaved: fast, plain, fast, plain …
            wall, cpu = time.perf_counter(), time.process_time()
            for request, size in decoded:
                if validate(request, size):
                    raise SystemExit(f"{name}: a valid body was refused")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            times[name].append((1e6 * wall / requests, 1e6 * cpu / requests))
    print(f"validation of {requests} 10-event PutEvents bodies, {rounds} interleaved runs each:")
    for name, runs in times.items():
        walls, cpus = zip(*runs, strict=True)
        print(
            f"  {name:20s} {statistics.median(walls):6.1f} us/request wall "
            f"(range {min(walls):.1f}-{max(walls):.1f}), {statistics.median(cpus):6.1f} CPU"
        )
    (fast_wall, _), (plain_wall, _) = (
        (statistics.median(w for w, _ in r), None) for r in times.values()
    )
    print(f"  plain / generated: {plain_wall / fast_wall:.1f}x the time")


# ---------------------------------------------------------------------------------------------
# the load: raw HTTP/1.1 over asyncio streams, SigV4 computed per request


class Signer:
    """SigV4 for POST /events with a precomputed signing key; checked against botocore once."""

    def __init__(self, host: str, amz_date: str) -> None:
        self.host, self.amz_date = host, amz_date
        day = amz_date[:8]
        key = ("AWS4" + SECRET_KEY).encode()
        for part in (day, REGION, SERVICE, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self.key = key
        self.scope = f"{day}/{REGION}/{SERVICE}/aws4_request"

    def headers(self, body: bytes) -> dict[str, str]:
        canonical = (
            "POST\n/events\n\n"
            f"content-type:application/json\nhost:{self.host}\nx-amz-date:{self.amz_date}\n\n"
            "content-type;host;x-amz-date\n" + hashlib.sha256(body).hexdigest()
        )
        to_sign = (
            f"AWS4-HMAC-SHA256\n{self.amz_date}\n{self.scope}\n"
            + hashlib.sha256(canonical.encode()).hexdigest()
        )
        signature = hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json",
            "Host": self.host,
            "X-Amz-Date": self.amz_date,
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{self.scope}, "
                f"SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
            ),
        }


def botocore_headers(url: str, body: bytes, amz_date: str) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        "POST", url + "/events", data=body, headers={"Content-Type": "application/json"}
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), SERVICE, REGION)
    request.headers["X-Amz-Date"] = amz_date
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    return {"signature": signature}


def make_body(n: int, run: str) -> bytes:
    """Request ``n``: 10 valid events of one session, unique event ids."""
    events = [
        {
            "eventId": f"{run}-{n}-{i}",
            "eventType": "click" if i % 3 else "view",
            "eventValue": 1.0 + i,
            "itemId": f"item-{(n * 7 + i) % 5000}",
            "properties": '{"discount":"Yes","device":"mobile"}',
            "sentAt": 1_704_164_645.678901 + n + i / 100,
            "recommendationId": f"rec-{n % 1000}",
            "impression": [f"item-{(n + j) % 5000}" for j in range(5)],
            "metricAttribution": {"eventAttributionSource": "SOURCE_A"},
        }
        for i in range(10)
    ]
    request = {
        "trackingId": "bench",
        "userId": f"user-{n % 997}",
        "sessionId": f"s-{n}",
        "eventList": events,
    }
    return json.dumps(request, separators=(",", ":")).encode()


async def load(url: str, seconds: float, connections: int, run: str) -> dict[str, float]:
    host = url.removeprefix("http://")
    hostname, port = host.rsplit(":", 1)
    amz_date = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    signer = Signer(host, amz_date)
    sample = make_body(0, run)
    ours = signer.headers(sample)["Authorization"].rsplit("Signature=", 1)[1]
    assert ours == botocore_headers(url, sample, amz_date)["signature"], (
        "signer disagrees with botocore"
    )
    counter = iter(range(10**9))
    done = {"ok": 0, "bad": 0}
    deadline = time.perf_counter() + seconds

    def request_bytes() -> bytes:
        body = make_body(next(counter), run)
        head = "".join(f"{k}: {v}\r\n" for k, v in signer.headers(body).items())
        return f"POST /events HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(hostname, int(port))
        while time.perf_counter() < deadline:
            writer.write(request_bytes())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            done["ok" if head.startswith(b"HTTP/1.1 200") else "bad"] += 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time()
    return {"ok": done["ok"], "bad": done["bad"], "seconds": elapsed, "client_cpu_s": cpu}


def run_load(args: argparse.Namespace) -> None:
    try:
        import uvloop
    except ImportError:  # the fast extra is not installed: asyncio's own loop
        run = asyncio.run
    else:
        run = uvloop.run
    _pin(0)
    result = run(load(args.load, args.seconds, args.connections, args.run))
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------


def _pin(cpu: int) -> None:
    if (
        os.environ.get("BENCH_PIN")
        and hasattr(os, "sched_setaffinity")
        and (os.cpu_count() or 1) > 1
    ):
        os.sched_setaffinity(0, {cpu})


def _start(argv: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, preexec_fn=lambda: _pin(1))
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, line.split()[-1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (0.0 where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase(argv: list[str], args: argparse.Namespace, run: str) -> dict[str, float]:
    server, url = _start(argv)
    try:
        load_argv = [sys.executable, __file__, "--load", url, "--seconds", str(args.seconds)]
        load_argv += ["--connections", str(args.connections), "--run", run]
        cpu0 = _cpu_seconds(server.pid)
        out = subprocess.run(load_argv, capture_output=True, check=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        result["server_cpu_s"] = _cpu_seconds(server.pid) - cpu0
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of phases (default 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--verify-signature", action="store_true")
    parser.add_argument(
        "--pin", action="store_true", help="pin the server to CPU 1 and the load to CPU 0"
    )
    parser.add_argument(
        "--gc-freeze-phase", action="store_true", help="also run the emulator with gc.freeze()"
    )
    parser.add_argument(
        "--baseline",
        metavar="CHECKOUT",
        help="also run `personalize-sim serve` of another checkout (with its own .venv), "
        "e.g. the tree before a change: printed as baseline / tracker",
    )
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--run", default="run", help=argparse.SUPPRESS)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        return serve_bare()
    if args.variant:
        return serve_variant(args.variant, args.db, args.verify_signature)
    if args.load:
        return run_load(args)
    if args.pin:
        os.environ["BENCH_PIN"] = "1"  # read by the server and load processes we start

    bench_validation()
    print(
        f"load: {args.connections} keep-alive connections, signed 10-event PutEvents; "
        f"{args.rounds} rounds of {args.seconds:g} s per server, interleaved; "
        f"cpus={os.cpu_count()}; load average {os.getloadavg()[0]:.2f}"
    )
    rows = run_rounds(args)
    report(rows, args)


def _servers(args: argparse.Namespace) -> dict[str, list[str] | None]:
    """argv of each phase's server (``--db`` is added); None for the bare app."""
    sign = ["--verify-signature"] if args.verify_signature else []
    serve = [sys.executable, "-m", "personalize_sim.cli", "serve", "--max-tps", "0", *sign]
    servers: dict[str, list[str] | None] = {"tracker": serve}
    if args.baseline:  # the same command from another checkout, e.g. the code before a change
        python = str(Path(args.baseline) / ".venv" / "bin" / "python")
        servers["baseline"] = [
            python,
            "-m",
            "personalize_sim.cli",
            "serve",
            "--max-tps",
            "0",
            *sign,
        ]
    variant = [sys.executable, __file__, *sign, "--variant"]
    servers["plain validator"] = [*variant, "plain-validator"]
    if args.gc_freeze_phase:
        servers["gc.freeze"] = [*variant, "gc-freeze"]
    servers["bare"] = None
    return servers


def run_rounds(args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    """Every phase once per round, the order rotated each round; (requests/s, server
    CPU-us/request) each."""
    servers = _servers(args)
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            line = []
            phases = list(enumerate(servers.items()))
            shift = r % len(phases)  # each server takes every place in the order in turn
            for i, (name, argv) in phases[shift:] + phases[:shift]:
                if argv is None:
                    got = phase([sys.executable, __file__, "--bare-server"], args, "b")
                    rows[name].append(_rates(got))
                    line.append(f"{name} {rows[name][-1][0]:6.0f} req/s ({rows[name][-1][1]:4.0f})")
                    continue
                db = Path(tmp) / f"bench{r}-{i}.db"
                got = phase([*argv, "--db", str(db)], args, run=f"r{r}p{i}")
                with sqlite3.connect(db) as con:
                    stored = con.execute("SELECT count(*) FROM events").fetchone()[0]
                if got["bad"] or stored < 10 * got["ok"]:
                    raise SystemExit(f"{name}: {got['bad']} answers not 200, {stored} stored")
                rows[name].append(_rates(got))
                line.append(f"{name} {rows[name][-1][0]:6.0f} req/s ({rows[name][-1][1]:4.0f})")
            print(f"  round {r + 1}: " + "; ".join(line) + "   (server CPU-us/request)")
    return rows


def report(rows: dict[str, list[tuple[float, float]]], args: argparse.Namespace) -> None:
    medians = {
        name: tuple(statistics.median(x) for x in zip(*runs, strict=True))
        for name, runs in rows.items()
    }
    note = " with SigV4 verification" if args.verify_signature else ""
    for name, (rate, cpu) in medians.items():
        runs = [r for r, _ in rows[name]]
        print(
            f"{name + note if name == 'tracker' else name:>22s} (median): {rate:6.0f} requests/s "
            f"(range {min(runs):.0f}-{max(runs):.0f}), {cpu:.0f} server CPU-us/request"
        )
    t_rate, t_cpu = medians["tracker"]
    b_rate, b_cpu = medians["bare"]
    print(
        f"ratio tracker / bare: {t_rate / b_rate:.2f} by rate, {b_cpu / t_cpu:.2f} by server CPU "
        "per request   (targets: >= 3000 requests/s, >= 0.50)"
    )
    # each variant against the tracker as shipped: above 1 the variant is the better one
    for name in medians.keys() - {"tracker", "bare"}:
        rate, cpu = medians[name]
        print(
            f"{name} / tracker: {rate / t_rate:.2f} by rate, {t_cpu / cpu:.2f} by server CPU "
            "per request (> 1: the variant is faster)"
        )


def _rates(result: dict[str, float]) -> tuple[float, float]:
    cpu_us = 1e6 * result["server_cpu_s"] / max(result["ok"], 1)
    return result["ok"] / result["seconds"], cpu_us


if __name__ == "__main__":
    main()
