"""LocalTracker in its own process: lifecycle, read-back, no acknowledged event lost to SIGKILL."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from personalize_sim import LocalTracker
from personalize_sim.errors import ConfigTypeError, EmulatorError
from personalize_sim.tracker import TrackerConfig, TrackerState

from .conftest import event, request


def test_process_tracker_serves_boto3_and_stops_cleanly(tmp_path):
    db = tmp_path / "events.db"
    tracker = LocalTracker(tracking_ids=["tid-a", "tid-b"], max_tps=0, db_path=db)
    assert tracker.state == "new"
    with tracker as t:
        assert t.use_process and t.process is not None and t.process.poll() is None
        assert t.endpoint_url.startswith("http://127.0.0.1:")
        assert t.tracking_id == "tid-a"
        t.client().put_events(**request([event(0), event(1)], trackingId="tid-b"))
        assert t.stats()["accepted_events"] == 2
    assert tracker.state == "closed"
    assert tracker.process.returncode == 0  # EOF on its stdin: flushed and exited 0
    assert tracker.stats()["accepted_events"] == 2  # the last counters survive the process
    assert tracker.events()["EVENT_ID"].tolist() == ["e-0", "e-1"]
    assert db.exists()
    with pytest.raises(RuntimeError, match="cannot start a LocalTracker that is closed"):
        tracker.start()


def test_temporary_store_outlives_the_with_block_but_not_the_object():
    with LocalTracker(process=False, max_tps=0) as tracker:
        tracker.client().put_events(**request(trackingId=tracker.tracking_id))
    path = tracker.db_path
    assert len(tracker.events()) == 1
    del tracker
    assert not path.exists()


def test_misuse_is_refused_clearly():
    tracker = LocalTracker(process=False)
    with pytest.raises(RuntimeError, match="before client"):
        tracker.client()
    with pytest.raises(RuntimeError, match="has not run yet"):
        tracker.stats()
    with pytest.raises(RuntimeError, match="process=True"):
        tracker.kill()
    with pytest.raises(ValueError, match="throttle_status"):
        LocalTracker(throttle_status=500)
    assert "new" in repr(tracker)


def test_a_process_that_cannot_start_says_why(tmp_path):
    taken = LocalTracker(process=False)
    with taken:
        port = int(taken.endpoint_url.rsplit(":", 1)[1])
        with pytest.raises(EmulatorError, match="did not start"):
            LocalTracker(port=port).start()


def test_sigkill_during_a_stream_loses_no_acknowledged_event(tmp_path):
    tracker = LocalTracker(max_tps=0, db_path=tmp_path / "crash.db").start()
    acked: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    enough = threading.Event()

    def sender(worker: int) -> None:
        client = tracker.client(
            retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=5
        )
        for n in range(100_000):
            ids = [f"w{worker}-r{n}-e{i}" for i in range(10)]
            kwargs = request(
                [event(i, eventId=eid) for i, eid in enumerate(ids)], sessionId=f"s{worker}-{n}"
            )
            try:
                client.put_events(**kwargs)
            except (BotoCoreError, ClientError) as exc:  # the emulator is gone
                failures.append(exc)
                return
            with lock:
                acked.extend(ids)
                if len(acked) >= 3000:
                    enough.set()

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    try:
        assert enough.wait(timeout=120), "the stream never got going"
        tracker.kill()  # SIGKILL while all four senders are mid-stream
    finally:
        for thread in threads:
            thread.join(timeout=60)
        tracker.close()
    assert tracker.process.returncode == -9
    assert len(failures) == 4  # every sender saw the emulator die under it
    with sqlite3.connect(tracker.db_path) as db:
        stored = {row[0] for row in db.execute("SELECT event_id FROM events")}
    with lock:
        missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged events are not in the store"
    assert len(stored) >= len(acked) >= 3000
    assert set(tracker.events()["EVENT_ID"]) == stored  # and the frame reader copes after a crash
    with pytest.raises(EmulatorError, match="died before it was asked"):
        tracker.stats()


def test_in_thread_tracker_needs_no_process():
    with LocalTracker(process=False, max_tps=0) as tracker:
        assert tracker.process is None
        client: Any = tracker.client()
        client.put_events(**request(trackingId=tracker.tracking_id))
        assert tracker.stats()["PutEventsRequests"] == 1


def test_the_emulator_process_dies_with_its_parent(tmp_path):
    """A notebook kernel killed hard must not leave an emulator holding its port."""
    code = (
        "from personalize_sim import LocalTracker; import sys; "
        f"t = LocalTracker(db_path={str(tmp_path / 'o.db')!r}).start(); "
        "print(t.process.pid, flush=True); sys.stdin.read()"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.kill()  # SIGKILL: the parent runs no cleanup at all
        parent.wait()
        deadline = time.monotonic() + 30
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        parent.stdin.close()
        parent.stdout.close()
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_a_single_tracking_id_string_is_one_id_and_the_html_repr_shows_counters():
    with LocalTracker(process=False, tracking_ids="abc", max_tps=0) as tracker:
        assert tracker.config.tracking_ids == ("abc",)
        tracker.client().put_events(**request(trackingId="abc"))
        html = tracker._repr_html_()
    assert "running" in html and "<td style='text-align:left'>1</td>" in html
    assert "closed" in tracker._repr_html_()


@pytest.mark.parametrize("process", [False, True])
def test_an_unusable_store_path_fails_the_start_at_once(tmp_path, process):
    tracker = LocalTracker(process=process, db_path=tmp_path / "missing" / "dir" / "e.db")
    with pytest.raises(EmulatorError, match="did not start") as info:
        tracker.start()
    assert "unable to open database file" in str(info.value)
    assert tracker.state == "closed"


def test_options_are_tracker_config_fields_and_an_unknown_one_is_named():
    assert LocalTracker(process=False, max_tps=100, rng=0).config == TrackerConfig(
        max_tps=100, rng=0
    )
    with pytest.raises(ConfigTypeError) as info:
        LocalTracker(max_tsp=100)
    assert info.value.field == "max_tsp"
    assert "an option of TrackerConfig: tracking_ids, max_tps," in str(info.value)
    base = TrackerConfig(tracking_ids=("a",), rng=1)
    assert LocalTracker(base, process=False).config is base
    assert LocalTracker(base, rng=2).config == dataclasses.replace(base, rng=2)
    with pytest.raises(ConfigTypeError, match="config: got"):
        LocalTracker({"max_tps": 1})


def test_state_is_an_enum_shown_in_repr():
    tracker = LocalTracker(process=False, max_tps=0)
    assert tracker.state is TrackerState.NEW and tracker.state == "new"
    assert repr(tracker).startswith("<LocalTracker new - (thread) db=")
    with tracker:
        assert tracker.state is TrackerState.RUNNING
        assert repr(tracker).startswith(f"<LocalTracker running {tracker.endpoint_url} (thread)")
    assert tracker.state is TrackerState.CLOSED and tracker.state == "closed"
    assert repr(tracker).startswith("<LocalTracker closed ")
