"""Storage failures under the emulator: 500 naming the cause, the server survives and recovers.

A real SQLite failure each time: the database file at its maximum size (SQLITE_FULL), SQLite
in read-only mode, and a real full disk (a 1 MB tmpfs in a private mount namespace).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from personalize_sim.tracker import LocalTracker

from .conftest import event, request


def _db(tracker: LocalTracker) -> sqlite3.Connection:
    """The emulator's own connection (an in-thread tracker), to make SQLite fail for real."""
    return tracker._server.app.committer.store._db


@pytest.mark.parametrize(
    ("fail", "heal", "cause"),
    [
        # the database file reaches its maximum size: SQLite's SQLITE_FULL, as on a full disk
        ("PRAGMA max_page_count={pages}", "PRAGMA max_page_count=1073741823",
         "database or disk is full"),
        ("PRAGMA query_only=ON", "PRAGMA query_only=OFF", "attempt to write a readonly database"),
    ],
)  # fmt: skip
def test_a_failing_database_is_500_naming_the_cause_and_the_server_recovers(
    tracker, client, fail, heal, cause
):
    db = _db(tracker)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(fail.format(pages=pages))
    padded = [event(i, properties=json.dumps({"pad": "x" * 900})) for i in range(10)]
    with pytest.raises(ClientError) as info:
        client.put_events(**request(padded))  # 10 KB: more pages than the file has
    error = info.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
        500,
        "InternalFailure",
    )
    assert cause in error["Error"]["Message"]
    assert "cannot rollback" not in error["Error"]["Message"]
    assert tracker.stats()["store_failures"] == 1  # the server still answers
    db.execute(heal)
    client.put_events(**request(padded))
    assert len(tracker.events()) == 10
    tracker.close()
    assert tracker.stats()["accepted_events"] == 10


@pytest.mark.slow
def test_a_full_disk_on_a_tmpfs_is_500_then_recovers_and_shuts_down_with_its_summary(tmp_path):
    """A real 1 MB tmpfs, mounted in a private mount namespace (skipped where that fails)."""
    driver = tmp_path / "driver.py"
    driver.write_text(_FULL_DISK_DRIVER)
    mount = tmp_path / "disk"
    mount.mkdir()
    script = f"mount -t tmpfs -o size=1m tmpfs {mount} && exec {sys.executable} {driver} {mount}"
    try:
        done = subprocess.run(
            ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120
        )
    except FileNotFoundError:
        pytest.skip("no unshare(1) here to mount a private tmpfs")
    if done.returncode == 77:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["full"][0] == 500 and result["full"][1] == "InternalFailure"
    assert "database or disk is full" in result["full"][2]
    assert result["stats_while_full"] is True
    assert result["after"] == 200
    fitted = result["fitted"]  # requests that still fitted in pages SQLite held
    assert fitted <= 5
    stored = 20 + 10 * fitted  # the first request, those, and the one after space returned
    assert result["stored"] == stored
    assert f"stopped; {3 + fitted} PutEvents requests, {stored} events stored" in result["log"]
    assert "1 request answered 500: the store failed" in result["log"]
    assert "the final checkpoint failed (database or disk is full)" in result["log"]
    assert "Traceback" not in result["log"]


_FULL_DISK_DRIVER = """
import json, os, sys
from personalize_sim.tracker import LocalTracker

def batch(n):
    return [{"eventId": f"{n}-{i}", "eventType": "t", "sentAt": 1700000000,
             "properties": json.dumps({"pad": "x" * 900})} for i in range(10)]

disk = sys.argv[1]
with LocalTracker(process=True, db_path=os.path.join(disk, "events.db"), max_tps=0) as tracker:
    client = tracker.client(retries={"total_max_attempts": 1})
    send = lambda n: client.put_events(trackingId="t", sessionId="s", eventList=batch(n))
    send(0)
    filler = os.path.join(disk, "filler")

    def fill():  # what is left of the disk
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\\0" * 4096)
            except OSError:
                pass

    fill()
    # pages SQLite already holds (its WAL) may take a request or two before the disk says full
    full, fitted = [200, None, None], 0
    for n in range(1, 50):
        try:
            send(n)
            fitted += 1
        except Exception as exc:
            r = exc.response
            full = [r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"],
                    r["Error"]["Message"]]
            break
    stats_while_full = tracker.stats()["store_failures"] == 1
    os.remove(filler)  # space returns
    after = send(100)["ResponseMetadata"]["HTTPStatusCode"]
    fill()  # and the disk is full again when the emulator shuts down
stored = len(tracker.events())
log = open(tracker._log_path).read()
print(json.dumps({"full": full, "stats_while_full": stats_while_full, "after": after,
                  "stored": stored, "fitted": fitted, "log": log}))
"""
