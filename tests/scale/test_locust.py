"""Locust with worker processes against the local tracker: what Locust counts is what the
tracker stored, once; a worker killed mid-run is reported and its share accounted for.

Locust runs in its own processes (importing it lets gevent patch a process), exactly as a
user runs ``examples/locustfile.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from personalize_sim import LocalTracker, simulate, to_put_events
from personalize_sim.simulation import iter_simulate, write_parquet

from ..ports import reserved_port

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "examples" / "locustfile.py"


def simulated_parts(folder: Path, users: int, days: int, chunk_events: int) -> Path:
    """A Parquet directory of several files (row groups to share between workers)."""
    chunks = iter_simulate("retail", users=users, days=days, rng=5, start="2026-01-05",
                           chunk_events=chunk_events, arrow=True)  # fmt: skip
    write_parquet(chunks, folder)
    return folder


@pytest.fixture(scope="module")
def events_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough for a run of several seconds."""
    return simulated_parts(tmp_path_factory.mktemp("events"), 2000, 2, 400)


@pytest.fixture(scope="module")
def small_events_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few row groups, sent whole in a few seconds."""
    return simulated_parts(tmp_path_factory.mktemp("small_events"), 300, 1, 60)


def locust_command(tracker: LocalTracker, events: Path, out: Path, *extra: str) -> list[str]:
    port = str(reserved_port())  # the master's, and its forked workers' (not Locust's 5557)
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", tracker.endpoint_url, "--tracking-id", tracker.tracking_id,
        "--events", str(events), "--ledger", str(out / "ledger.json"),
        "--csv", str(out / "stats"), "--only-summary", "--stop-timeout", "5",
        "--master-bind-port", port, "--master-port", port, *extra,
    ]  # fmt: skip


def locust_counts(out: Path, stderr: str = "") -> tuple[int, int]:
    stats = pd.read_csv(out / "stats_stats.csv").set_index("Name")
    assert "PutEvents" in stats.index, stderr[-3000:]
    return int(stats.loc["PutEvents", "Request Count"]), int(
        stats.loc["PutEvents", "Failure Count"]
    )


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_two_worker_processes_send_the_whole_source_once_and_the_test_ends(
    small_events_dir, tmp_path
):
    """The run ends when both shares are sent (not at -t): every count is in, whatever the
    load (Locust alone waits half a second for its workers' last reports)."""
    source = pd.read_parquet(small_events_dir)
    with LocalTracker() as tracker:
        command = locust_command(
            tracker, small_events_dir, tmp_path,
            "--processes", "2", "-u", "40", "-r", "40", "-t", "120s",
        )  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=150)
        assert done.returncode == 0, done.stderr[-3000:]
        stored = tracker.events()
        stats = tracker.stats()
    assert "every share is sent; the test ends" in done.stderr
    requests, failures = locust_counts(tmp_path, done.stderr)
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert failures == 0
    # Locust's request count is the tracker's, and every event is stored exactly once
    assert stats["PutEventsRequests"] == requests > 0
    assert stats["duplicates"] == 0 and stored["EVENT_ID"].is_unique
    sent_ids = {
        e["eventId"] for r in to_put_events(source, tracker.tracking_id) for e in r["eventList"]
    }
    assert set(stored["EVENT_ID"]) == sent_ids
    # both workers sent, from disjoint shares that together are the whole source
    shares = ledger["shares"]
    assert [s["index"] for s in shares] == [0, 1]
    assert all(s["delivered_events"] > 0 and not s["lost"] for s in shares)
    assert sum(s["input_events"] for s in shares) == len(source) == len(stored)
    assert ledger["balanced"] and not ledger["failures"]
    assert ledger["delivered_events"] == len(source) and ledger["unsent_events"] == 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_worker_killed_mid_run_is_reported_and_its_share_accounted_for(events_dir, tmp_path):
    import psutil

    with LocalTracker() as tracker:
        command = locust_command(
            tracker, events_dir, tmp_path, "--processes", "2", "-u", "20", "-r", "20", "-t", "8s"
        )
        master = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 30
            while tracker.stats()["accepted_events"] < 100 and time.monotonic() < deadline:
                time.sleep(0.05)
            workers = psutil.Process(master.pid).children()
            assert len(workers) == 2
            os.kill(workers[0].pid, signal.SIGKILL)
            _, err = master.communicate(timeout=90)
        finally:
            master.kill()
        stored = tracker.events()
        stats = tracker.stats()
    assert "failed to send heartbeat, setting state to missing" in err  # Locust reports it
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    lost = [s for s in ledger["shares"] if s["lost"]]
    kept = [s for s in ledger["shares"] if not s["lost"]]
    assert len(lost) == 1 and len(kept) == 1, ledger
    assert f"worker {lost[0]['index']} " in ledger["failures"][0]
    assert f"{lost[0]['unsent_events']:,} events are unsent" in err
    # every event of both shares is delivered, dead-lettered or explicitly unsent
    assert ledger["balanced"] and lost[0]["unsent_events"] > 0 and kept[0]["delivered_events"] > 0
    assert ledger["input_events"] == sum(s["input_events"] for s in ledger["shares"])
    # what the dead worker did after its last report is stored but counted unsent, never lost:
    # stored events lie between the ledger's delivered and delivered + the dead share's unsent
    assert stats["duplicates"] == 0 and stored["EVENT_ID"].is_unique
    delivered = ledger["delivered_events"]
    assert delivered <= len(stored) <= delivered + lost[0]["unsent_events"]


SHAPED = """
from personalize_sim.scale.locust import PutEventsUser, ScheduleShape, SimulationSource
from personalize_sim.streaming import steps


class Live(PutEventsUser):
    source = SimulationSource("retail", users=300, days=1, rng=9, start="2026-01-05")
    rate_per_user = 2.0


class Steps(ScheduleShape):
    schedule = steps([(4, 1.5), (12, 1.5)])
    rate_per_user = 2.0
    duration = 3.5
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_schedule_as_shape_drives_users_sending_a_live_simulation(tmp_path):
    """One process (no workers): a steps schedule sets the user count; the simulated
    events are sent in the simulation's order, the ledger counts them."""
    locustfile = tmp_path / "shaped.py"
    locustfile.write_text(SHAPED)
    with LocalTracker() as tracker:
        command = [
            sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "--host", tracker.endpoint_url, "--tracking-id", tracker.tracking_id,
            "--ledger", str(tmp_path / "ledger.json"), "--csv", str(tmp_path / "stats"),
            "--csv-full-history", "--only-summary", "--stop-timeout", "5",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stderr[-3000:]
        stored = tracker.events()
    history = pd.read_csv(tmp_path / "stats_stats_history.csv")
    assert set(history["User Count"]) <= {0, 2, 6} and 6 in set(history["User Count"])
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert ledger["delivered_events"] == len(stored) > 0 and ledger["balanced"]
    expected = simulate("retail", users=300, days=1, rng=9, start="2026-01-05")
    requests = to_put_events(expected, tracker.tracking_id)
    first = [e["eventId"] for r in requests for e in r["eventList"]][: len(stored)]
    assert set(stored["EVENT_ID"]) == set(first)  # the simulation's events, from its start


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_master_and_workers_as_separate_commands_each_read_their_own_events(events_dir, tmp_path):
    """As across machines: the master has no --events, each worker its own path (the
    master's forwarded options must not blank it)."""
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    port = reserved_port()
    with LocalTracker() as tracker:
        master = subprocess.Popen(
            [*base, "--master", "--headless", "--expect-workers", "2", "-u", "10", "-r", "10",
             "-t", "5s", "--stop-timeout", "5", "--master-bind-port", str(port), "--host",
             tracker.endpoint_url, "--tracking-id", tracker.tracking_id,
             "--ledger", str(tmp_path / "ledger.json"), "--only-summary"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        worker = [*base, "--worker", "--master-port", str(port), "--events", str(events_dir)]
        workers = [
            subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]
        try:
            master.communicate(timeout=90)
            for worker in workers:
                worker.wait(timeout=30)
        finally:
            for process in [master, *workers]:
                process.kill()
        stored = tracker.events()
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert [s["index"] for s in ledger["shares"]] == [0, 1]
    assert all(s["delivered_events"] > 0 for s in ledger["shares"])
    assert len(stored) == ledger["delivered_events"] and stored["EVENT_ID"].is_unique


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_a_worker_that_joins_after_the_start_takes_no_share_and_crashes_nothing(
    events_dir, tmp_path
):
    """Locust numbers every worker it hears from (0, 1, 2…) and gives a late one users too.
    Shares follow the workers the master listed at the start, so a third worker joining a
    test shared by two sends nothing and says why (its share "2 of 2" used to crash every one
    of its users with a ConfigError)."""
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    port = reserved_port()
    master_log = tmp_path / "master.log"
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    processes: list[subprocess.Popen] = []
    files: list = []

    def to(path: Path):  # a log file, closed at the end
        files.append(path.open("w"))
        return files[-1]

    with LocalTracker() as tracker:
        processes.append(subprocess.Popen(
            [*base, "--master", "--headless", "--expect-workers", "2", "-u", "10", "-r", "10",
             "-t", "8s", "--stop-timeout", "5", "--master-bind-port", str(port), "--host",
             tracker.endpoint_url, "--tracking-id", tracker.tracking_id,
             "--ledger", str(tmp_path / "ledger.json"), "--only-summary", "--loglevel", "DEBUG"],
            stdout=subprocess.DEVNULL, stderr=to(master_log),
        ))  # fmt: skip
        worker = [*base, "--worker", "--master-port", str(port), "--events", str(events_dir)]

        def start_worker(log: Path) -> None:
            processes.append(subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=to(log)))

        try:
            start_worker(logs[0])
            start_worker(logs[1])
            wait_for(lambda: "Sending spawn" in master_log.read_text())  # the test started
            start_worker(logs[2])
            wait_for(lambda: "2) reported as ready" in master_log.read_text())
            for process in processes:
                process.wait(timeout=100)
        finally:
            for process in processes:
                process.kill()
                process.wait()
            for file in files:
                file.close()
        stored = tracker.events()
    text = [log.read_text() for log in logs]
    for log in text:
        assert "ConfigError" not in log and "Traceback" not in log, log[-3000:]
    assert "joined after the test started" in text[2], text[2][-2000:]
    assert "no source" not in "".join(text)  # the late worker kept its own --events
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert [s["index"] for s in ledger["shares"]] == [0, 1], master_log.read_text()[-2000:]
    assert sum(s["input_events"] for s in ledger["shares"]) == len(pd.read_parquet(events_dir))
    assert len(stored) == ledger["delivered_events"] > 0 and stored["EVENT_ID"].is_unique


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


THROTTLED = """
from personalize_sim.scale.locust import PutEventsUser


class Eager(PutEventsUser):
    rate_per_user = 10.0
    max_attempts = 2
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_throttled_requests_are_retried_failed_in_locust_and_never_stored_twice(
    small_events_dir, tmp_path
):
    """Over the tracker's quota: Locust counts the throttled attempts as failures, what it
    counts as successes is exactly what the tracker accepted, and requests that ran out of
    attempts are dead letters in the ledger, not stored. (One worker process: a lone Locust
    process, without workers, was seen to leave attempts made during --stop-timeout out of
    its final statistics: 177 of 261.) The run ends when the share is sent, not at -t: on a
    busy machine reading the share took most of a 3 s run, too few requests to be throttled."""
    locustfile = tmp_path / "eager.py"
    locustfile.write_text(THROTTLED)
    with LocalTracker(max_tps=15) as tracker:
        command = [
            sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "--processes", "1", "-u", "6", "-r", "6", "-t", "100s", "--stop-timeout", "5",
            "--host", tracker.endpoint_url,
            "--tracking-id", tracker.tracking_id, "--events", str(small_events_dir),
            "--ledger", str(tmp_path / "ledger.json"), "--csv", str(tmp_path / "stats"),
            "--only-summary",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=90)
        stored = tracker.events()
        stats = tracker.stats()
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: Locust saw failures
    assert "every share is sent; the test ends" in done.stderr
    requests, failures = locust_counts(tmp_path)
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert failures > 0 and stats["throttled"] == failures, (stats, done.stderr[-2500:])
    assert stats["PutEventsRequests"] == requests
    accepted = (
        stats["PutEventsRequests"] - stats["PutEvents4xxErrors"] - stats["PutEvents5xxErrors"]
    )
    assert accepted == requests - failures
    assert len(stored) == ledger["delivered_events"] and stats["duplicates"] == 0
    assert ledger["dead_letter_events"] > 0 and ledger["balanced"]


SLOW_TO_STOP = """
import gevent
from personalize_sim.scale.locust import PutEventsUser


class SlowToStop(PutEventsUser):
    rate_per_user = 5.0

    def _attempt(self, prepared):
        code = super()._attempt(prepared)
        gevent.sleep(1.5)  # as a slow answer would: the user is mid-task when the test stops
        return code
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_counts_of_users_still_working_at_run_time_are_in_the_ledger_and_statistics(
    events_dir, tmp_path
):
    """At -t, a worker waits for its users' tasks (up to --stop-timeout) before its last
    reports; Locust's master waits half a second for them. On a busy machine (as in CI) the
    last counts arrived after the master had gone: the ledger said 75 delivered for 98
    stored, and Locust counted 0 failures. The master now waits for each worker's last word."""
    locustfile = tmp_path / "slow.py"
    locustfile.write_text(SLOW_TO_STOP)
    with LocalTracker() as tracker:
        command = locust_command(
            tracker, events_dir, tmp_path, "--processes", "2", "-u", "8", "-r", "8", "-t", "3s"
        )
        command[command.index(str(LOCUSTFILE))] = str(locustfile)
        done = subprocess.run(command, capture_output=True, text=True, timeout=90)
        stored = tracker.events()
        stats = tracker.stats()
    assert done.returncode == 0, done.stderr[-3000:]
    requests, failures = locust_counts(tmp_path, done.stderr)
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert failures == 0 and stats["PutEventsRequests"] == requests > 0
    assert [s["index"] for s in ledger["shares"]] == [0, 1]
    assert not any(s["lost"] for s in ledger["shares"]) and not ledger["failures"], ledger
    assert ledger["delivered_events"] == len(stored) > 0 and ledger["balanced"]
