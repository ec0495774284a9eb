"""Soak: a minute of streaming on every transport, through idle timeouts and a restart.

Each transport (boto3, aiohttp, crt, and fast, which picks crt when it is installed) streams
for about 60 s with ``personalize-sim stream`` against its own ``personalize-sim serve
--idle-timeout 1`` (real subprocesses), on a schedule with a slow stretch (every pooled
connection sits idle past the timeout and the emulator closes it); about halfway, the
emulator is stopped (SIGTERM) and started again on the same port and database. Every run must
exit 0 with its summary, and the store must equal the ledger: every input event stored
exactly once, the emulator's own counters (its exit lines, summed over both runs) agreeing
with the stream's (a request counted twice by the emulator is one whose answer was lost in
the restart: its events are the duplicates it counted, and nothing else is).

The four run at once (they mostly wait), so the suite takes about as long as one. Run it
alone with ``python -m pytest -m soak tests/cli/test_soak.py``.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from personalize_sim.tracker._process import read_line
from personalize_sim.tracker._server import fetch_stats

from ..ports import reserved_port
from ..streaming.conftest import make_requests
from .test_stream import last_json, write_requests

pytestmark = [pytest.mark.slow, pytest.mark.soak, pytest.mark.timeout(600)]

SERVE = [sys.executable, "-m", "personalize_sim.cli", "serve"]
STREAM = [sys.executable, "-m", "personalize_sim.cli", "stream"]
TRANSPORTS = ("boto3", "aiohttp", "crt", "fast")
#: 40 requests/s, 2 s at 0.5/s (every idle connection closed by the emulator), 40/s again
STEPS = [(40, 20), (0.5, 4), (40, 36)]
REQUESTS = int(sum(rate * seconds for rate, seconds in STEPS))
EVENTS_PER_REQUEST = 3
#: the emulator restarts once it has received this many requests (after the slow stretch)
RESTART_AFTER = int(0.45 * REQUESTS)
#: "stopped; N PutEvents requests, M events stored in DB, D duplicates, T throttled"
EXIT_LINE = re.compile(
    r"stopped; (\d+) PutEvents requests, (\d+) events stored in .*, (\d+) duplicates"
)


@dataclass
class Soak:
    """What one transport's run left behind."""

    transport: str
    stream: subprocess.CompletedProcess | None = None
    emulator_exits: list[str] = field(default_factory=list)  # each run's exit line
    stored: list[str] = field(default_factory=list)  # event ids in the store
    problems: list[str] = field(default_factory=list)


def start_serve(folder: Path, port: int, run: int) -> tuple[subprocess.Popen, str]:
    stderr = open(folder / f"serve-{run}.err", "wb")  # noqa: SIM115 (closed by the caller)
    process = subprocess.Popen(
        [*SERVE, "--port", str(port), "--db", str(folder / "events.db"), "--max-tps", "0",
         "--idle-timeout", "1"],
        stdout=subprocess.PIPE, stderr=stderr,
    )  # fmt: skip
    stderr.close()
    line = read_line(process, 60)
    if not line.startswith("listening on "):
        process.kill()
        process.wait()
        raise AssertionError(f"serve run {run} did not start: {line!r}")
    return process, line.split()[-1]


def stop_serve(process: subprocess.Popen, folder: Path, run: int) -> str:
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    text = (folder / f"serve-{run}.err").read_text(errors="replace")
    exits = [line for line in text.splitlines() if line.startswith("stopped; ")]
    assert process.returncode == 0 and len(exits) == 1, (run, process.returncode, text)
    return exits[0]


def soak(transport: str, folder: Path, source: Path) -> Soak:
    """Stream ``source`` on ``transport``, restarting the emulator once on the way."""
    result = Soak(transport)
    folder.mkdir()
    port = reserved_port()  # the emulator comes back on it
    serve, url = start_serve(folder, port, 1)
    steps = ",".join(f"{rate:g}:{seconds:g}" for rate, seconds in STEPS)
    stream = subprocess.Popen(
        [*STREAM, str(source), "--endpoint-url", url, "--transport", transport,
         "--steps", steps, "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        while fetch_stats(url)["PutEventsRequests"] < RESTART_AFTER:
            if stream.poll() is not None:
                result.problems.append("the stream ended before the restart")
                break
            time.sleep(0.2)
        result.emulator_exits.append(stop_serve(serve, folder, 1))
        serve, again = start_serve(folder, port, 2)  # the same port and database
        assert again == url, (again, url)
        out, err = stream.communicate(timeout=300)
        result.stream = subprocess.CompletedProcess(stream.args, stream.returncode, out, err)
        result.emulator_exits.append(stop_serve(serve, folder, 2))
    finally:
        for process in (stream, serve):
            if process.poll() is None:
                process.kill()
                process.communicate()
    with sqlite3.connect(folder / "events.db") as db:
        result.stored = [row[0] for row in db.execute("SELECT event_id FROM events")]
    return result


def check(result: Soak, event_ids: list[str]) -> list[str]:
    """What is wrong with one transport's run (nothing, when the store equals the ledger)."""
    problems = list(result.problems)
    run = result.stream
    if run is None:
        return [*problems, "the stream did not finish"]
    if run.returncode != 0:
        return [*problems, f"exit {run.returncode}: {run.stderr[-3000:]}"]
    if "done: " not in run.stderr or "Traceback" in run.stderr:
        problems.append(f"no summary, or a traceback: {run.stderr[-3000:]}")
    summary = last_json(run.stdout)
    if not (summary["complete"] and summary["balanced"]):
        problems.append(f"ledger: {json.dumps(summary)[:600]}")
    if summary["delivered_events"] != len(event_ids) or summary["dead_letter_events"]:
        problems.append(f"delivered {summary['delivered_events']} of {len(event_ids)} events")
    if sorted(result.stored) != event_ids:  # each input event stored exactly once
        extra = len(result.stored) - len(set(result.stored))
        problems.append(f"store: {len(result.stored)} rows ({extra} repeated) for "
                        f"{len(event_ids)} events")  # fmt: skip
    counters = [EXIT_LINE.match(line) for line in result.emulator_exits]
    if not all(counters) or len(counters) != 2:
        return [*problems, f"emulator exit lines: {result.emulator_exits}"]
    received, accepted, duplicates = (
        sum(int(m.group(i)) for m in counters if m) for i in (1, 2, 3)
    )
    if accepted != len(result.stored):
        problems.append(f"the emulator counted {accepted} events stored, the store has "
                        f"{len(result.stored)}")  # fmt: skip
    # a request the emulator received twice had its first answer lost in the restart
    lost_answers = received - summary["delivered_requests"]
    if lost_answers < 0 or duplicates != EVENTS_PER_REQUEST * lost_answers:
        problems.append(f"the emulator received {received} requests and counted {duplicates} "
                        f"duplicate events; the stream delivered "
                        f"{summary['delivered_requests']} requests")  # fmt: skip
    if summary["connection_errors"] == 0:
        problems.append("no connection error: did the restart happen mid-run?")
    return problems


def test_every_transport_streams_a_minute_through_idle_timeouts_and_a_restart(tmp_path):
    requests = make_requests(REQUESTS, events=EVENTS_PER_REQUEST)
    source = tmp_path / "requests.jsonl"
    write_requests(source, requests)
    event_ids = sorted(e["eventId"] for r in requests for e in r["eventList"])
    with ThreadPoolExecutor(len(TRANSPORTS)) as pool:
        results = list(pool.map(lambda t: soak(t, tmp_path / t, source), TRANSPORTS))
    problems = {r.transport: check(r, event_ids) for r in results}
    assert not any(problems.values()), json.dumps(problems, indent=2)
