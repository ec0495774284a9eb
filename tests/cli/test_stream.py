"""``personalize-sim stream`` end to end, including a SIGKILL in the middle and a resume."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from personalize_sim.cli import main
from personalize_sim.tracker import LocalTracker

from ..streaming.conftest import make_requests

pytestmark = pytest.mark.timeout(120)


def events_frame(n=20):
    return pd.DataFrame(
        {
            "USER_ID": [f"u{i % 4}" for i in range(n)],
            "SESSION_ID": [f"s{i % 4}" for i in range(n)],
            "ITEM_ID": [f"i{i}" for i in range(n)],
            "EVENT_TYPE": ["View"] * n,
            "TIMESTAMP": pd.date_range("2024-01-01", periods=n, freq="s", tz="UTC"),
        }
    )


def write_requests(path, requests):
    with open(path, "w") as f:
        for r in requests:
            f.write(json.dumps(r) + "\n")


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def test_dry_run_of_an_events_file_then_replaying_the_bodies(tmp_path, capsys):
    src = tmp_path / "events.parquet"
    events_frame().to_parquet(src)
    out = tmp_path / "dry.jsonl"
    code = main(["stream", str(src), "--dry-run", str(out), "--rate", "1000", "--no-progress"])
    assert code == 0
    bodies = [json.loads(line) for line in out.read_text().splitlines()]
    assert sum(len(b["eventList"]) for b in bodies) == 20
    assert last_json(capsys.readouterr().out)["complete"] is True
    with LocalTracker(max_tps=None, process=False) as tracker:
        code = main(["stream", str(out), "--endpoint-url", tracker.endpoint_url, "--rate", "500",
                     "--transport", "fast", "--no-progress"])  # fmt: skip
        stored = tracker.events()
    assert code == 0
    assert sorted(stored["ITEM_ID"]) == sorted(f"i{i}" for i in range(20))


def test_invalid_rows_exit_2_and_send_nothing_unless_skipped(tmp_path, capsys):
    frame = events_frame(8)
    frame.loc[3, "EVENT_TYPE"] = None
    src = tmp_path / "events.parquet"
    frame.to_parquet(src)
    with LocalTracker(max_tps=None, process=False) as tracker:
        args = ["stream", str(src), "--endpoint-url", tracker.endpoint_url, "--tracking-id",
                tracker.tracking_id, "--rate", "500", "--no-progress"]  # fmt: skip
        assert main(args) == 2
        assert "row 3" in capsys.readouterr().err
        assert tracker.events().empty
        assert main([*args, "--skip-invalid"]) == 1  # sent the rest, but not every event
        assert len(tracker.events()) == 7
    assert last_json(capsys.readouterr().out)["rejected_rows"] == 1


def test_sigkill_then_resume_from_the_checkpoint_stores_every_event_once(tmp_path):
    requests = make_requests(400, events=2)
    src = tmp_path / "requests.jsonl"
    write_requests(src, requests)
    checkpoint = tmp_path / "stream.checkpoint"
    with LocalTracker(max_tps=None, process=False) as tracker:
        cmd = [sys.executable, "-m", "personalize_sim.cli", "stream", str(src), "--endpoint-url",
               tracker.endpoint_url, "--checkpoint", str(checkpoint), "--no-progress"]  # fmt: skip
        proc = subprocess.Popen([*cmd, "--rate", "100"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=os.environ)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                checkpoint.exists() and len(checkpoint.read_bytes().splitlines()) >= 61
            ):  # header + 60
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        done_before = len(checkpoint.read_bytes().splitlines()) - 1  # after the header
        assert 60 <= done_before < 400
        stored_before = tracker.stats()["accepted_events"]
        resumed = subprocess.run([*cmd, "--rate", "1000"], capture_output=True, text=True,
                                 env=os.environ, check=False)  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        summary = last_json(resumed.stdout)
        stored = tracker.events()
        stats = tracker.stats()
    assert summary["resumed_requests"] == done_before
    assert summary["delivered_requests"] == 400 - done_before
    ids = list(stored["EVENT_ID"])
    assert sorted(ids) == sorted(e["eventId"] for r in requests for e in r["eventList"])
    # only what was in flight at the kill (delivered, not yet checkpointed) was sent again
    assert stored_before >= 2 * done_before
    assert stats["duplicates"] == stored_before - 2 * done_before
    assert stats["duplicates"] <= 2 * 64


@pytest.mark.parametrize("transport", ["boto3", "fast"])
def test_local_runs_its_own_emulator_without_any_aws_credentials(tmp_path, monkeypatch, capsys,
                                                                 transport):  # fmt: skip
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    src = tmp_path / "events.csv"
    events_frame(30).to_csv(src, index=False)
    code = main(["stream", str(src), "--local", "--rate", "200", "--transport", transport,
                 "--no-progress", "--log", str(tmp_path / "log.csv")])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "30 events stored, 0 duplicates" in captured.err
    assert last_json(captured.out)["delivered_events"] == 30
    log = pd.read_csv(tmp_path / "log.csv")
    assert list(log.columns[:4]) == ["request_id", "attempt", "worker", "events"]
    assert log["events"].sum() == 30


def test_the_readme_streams_the_sample_in_data_to_a_local_tracker(capsys):
    """The README's stream example works as written, on the sample events shipped in data/."""
    root = Path(__file__).resolve().parents[2]
    (line,) = re.findall(
        r"personalize-sim (stream data/\S+ --local[^\n]*)", (root / "README.md").read_text()
    )
    args = line.split()
    args[1] = str(root / args[1])
    rows = (root / args[1]).read_text().splitlines()
    assert main([*args, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert f"{len(rows)} events stored, 0 duplicates" in captured.err
    summary = last_json(captured.out)
    assert summary["delivered_events"] == len(rows) and summary["balanced"]


@pytest.mark.parametrize(
    ("flags", "target"),
    [
        (["--rate", "20", "--ramp", "200", "5"], "20 → 200 over 5 s, then 200 requests/s"),
        (["--steps", "100:10,500:30,1000:60"], "100 for 10 s, 500 for 30 s, then 1000 requests/s"),
        (["--rate", "50", "--poisson"], "Poisson arrivals at 50 requests/s"),
        (["--replay", "144"], "the input's own timing, 144× faster"),
        (["--rate", "300", "--per", "events"], "300 events/s"),
    ],
)
def test_the_report_states_the_schedule_that_ran(tmp_path, capsys, flags, target):
    """``--ramp 200 5`` from --rate 20 used to report "target: 20 requests/s"."""
    src = tmp_path / "events.parquet"
    events_frame().to_parquet(src)
    code = main(["stream", str(src), "--dry-run", str(tmp_path / "dry.jsonl"), *flags,
                 "--no-progress"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"(target: {target})" in captured.err
    assert last_json(captured.out)["settings"]["schedule"] == target


def test_the_json_summary_on_stdout_has_every_key_the_readme_names(tmp_path, capsys):
    src = tmp_path / "events.parquet"
    events_frame().to_parquet(src)
    code = main(["stream", str(src), "--dry-run", str(tmp_path / "d.jsonl"), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1  # stdout is the JSON line alone, for scripts
    summary = json.loads(out)
    page = Path(__file__).resolve().parents[2] / "docs" / "reference" / "cli" / "stream.md"
    readme = page.read_text()
    paragraph = readme.split("On stdout `stream` prints one line of JSON")[1].split("\n\n")[0]
    named = set(re.findall(r"`([\w.]+)`", paragraph.split("goes to stderr")[0]))
    named -= {"DeliverySummary.to_dict"}
    nested = {"count", "mean", "p50", "p90", "p99", "p99.9", "max"}
    assert named - nested <= set(summary), named - nested - set(summary)
    assert nested == set(summary["latency_intended_ms"])
    assert summary["delivered_events"] == 20 and summary["complete"] is True
