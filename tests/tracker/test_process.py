"""The emulator process: its whole config arrives on stdin; secrets never in argv or env."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from personalize_sim._aws import boto3_client
from personalize_sim.tracker import LocalTracker, TrackerConfig
from personalize_sim.tracker._process import READY, read_line, start_process

from .conftest import event, request


def test_the_key_pair_reaches_the_process_through_its_stdin_only():
    secret = "proc-s3cret-value"
    with LocalTracker(
        verify_signature=True, access_key_id="AKIDPROC", secret_access_key=secret, max_tps=0
    ) as tracker:
        pid = tracker.process.pid
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert cmdline[1:3] == [b"-m", b"personalize_sim.tracker"]
        assert secret.encode() not in b" ".join(cmdline) + environ
        assert b"AKIDPROC" not in b" ".join(cmdline) + environ
        tracker.client().put_events(**request(trackingId=tracker.tracking_id))
        wrong = boto3_client(
            region="us-east-1",
            endpoint_url=tracker.endpoint_url,
            keys=("AKIDPROC", "wrong"),
            retries={"total_max_attempts": 1},
        )
        with pytest.raises(ClientError) as info:
            wrong.put_events(**request())
        assert info.value.response["Error"]["Code"] == "InvalidSignatureException"
        assert tracker.stats()["accepted_events"] == 1


def test_the_whole_config_reaches_the_process():
    config = TrackerConfig(
        tracking_ids=("known",), error_rate=1.0, error_statuses=(503,), rng=4, max_tps=0
    )
    with LocalTracker(config) as tracker:
        client = tracker.client(retries={"total_max_attempts": 1})
        codes = set()
        for _ in range(5):
            with pytest.raises(ClientError) as info:
                client.put_events(**request([event(0)], trackingId="known"))
            codes.add(info.value.response["ResponseMetadata"]["HTTPStatusCode"])
        stats = tracker.stats()
    assert codes == {503}  # error_statuses was never a flag: argv could not carry it
    assert (stats["PutEventsRequests"], stats["PutEvents5xxErrors"]) == (5, 5)


def test_end_of_file_on_stdin_stops_the_process_after_flushing(tmp_path):
    process, url = start_process(
        TrackerConfig(max_tps=0),
        db_path=tmp_path / "e.db",
        host="127.0.0.1",
        port=0,
        log_path=tmp_path / "log",
        timeout=30,
    )
    try:
        assert url.startswith("http://127.0.0.1:")
        client = boto3_client(region="us-east-1", endpoint_url=url, keys=("testing", "testing"))
        client.put_events(**request([event(i) for i in range(3)]))
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    assert b"3 events stored" in (tmp_path / "log").read_bytes()


def test_a_process_with_no_config_says_so_and_exits_2():
    result = subprocess.run(
        [sys.executable, "-m", "personalize_sim.tracker"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"no configuration on stdin" in result.stderr


def test_read_line_gives_the_first_line_or_nothing_at_timeout():
    code = f"import sys, time; print({READY!r} + 'x', flush=True); time.sleep(60)"
    talker = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    silent = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.PIPE
    )
    try:
        assert read_line(talker, 30) == READY + "x"
        assert read_line(silent, 0.2) == ""
    finally:
        for process in (talker, silent):
            process.kill()
            process.wait()
            process.stdout.close()
