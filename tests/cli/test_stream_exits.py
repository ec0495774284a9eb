"""``personalize-sim stream`` keeps the record on every exit: SIGTERM, bad outputs, pipes.

Each test runs the command as a user would (a subprocess, or ``main``) against a real
emulator, and synchronises on what it can observe (the tracker's request counter, a line
on stderr), never on a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from personalize_sim.cli import main
from personalize_sim.tracker import LocalTracker
from personalize_sim.tracker._server import fetch_stats

from ..streaming.conftest import make_requests
from .test_stream import events_frame, last_json, write_requests

pytestmark = pytest.mark.timeout(120)

CLI = [sys.executable, "-m", "personalize_sim.cli", "stream"]


def wait_for(predicate, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# -- the checkpoint ---------------------------------------------------------------------------


def _crlf(tmp_path, src, url):
    checkpoint = tmp_path / "cp"
    args = ["stream", str(src), "--endpoint-url", url, "--checkpoint", str(checkpoint)]
    assert main([*args, "--rate", "1000", "--no-progress"]) == 0
    checkpoint.write_bytes(checkpoint.read_bytes().replace(b"\n", b"\r\n"))
    return checkpoint, "CRLF"


def _garbage(tmp_path, src, url):
    checkpoint = tmp_path / "cp"
    checkpoint.write_bytes(bytes(range(256)) * 4)
    return checkpoint, "not UTF-8"


def _another_input(tmp_path, src, url):
    other = tmp_path / "other.jsonl"
    write_requests(other, make_requests(7, events=2))
    checkpoint = tmp_path / "cp"
    args = ["stream", str(other), "--endpoint-url", url, "--checkpoint", str(checkpoint)]
    assert main([*args, "--rate", "1000", "--no-progress"]) == 0
    return checkpoint, "another input"


def _the_input(tmp_path, src, url):
    return src, "is the input file"


def _edited_count(count):
    def edit(tmp_path, src, url):
        checkpoint, _ = _crlf(tmp_path, src, url)  # a real one, then its header edited
        header, rest = checkpoint.read_bytes().replace(b"\r\n", b"\n").split(b"\n", 1)
        fields = json.loads(header)
        fields["requests"] = count
        checkpoint.write_bytes(json.dumps(fields).encode() + b"\n" + rest)
        return checkpoint, "the file was edited"

    edit.__name__ = f"_requests_{count}"
    return edit


@pytest.mark.parametrize(
    "case", [_the_input, _crlf, _garbage, _another_input, _edited_count(-5), _edited_count(7)]
)
def test_a_bad_checkpoint_is_refused_before_anything_is_sent_or_written(tmp_path, capsys, case):
    src = tmp_path / "requests.jsonl"
    write_requests(src, make_requests(12, events=2))
    with LocalTracker(max_tps=None, process=False) as tracker:
        url = tracker.endpoint_url
        checkpoint, expected = case(tmp_path, src, url)
        input_before, checkpoint_before = src.read_bytes(), checkpoint.read_bytes()
        sent_before = tracker.stats()["PutEventsRequests"]
        capsys.readouterr()
        code = main(["stream", str(src), "--endpoint-url", url, "--checkpoint", str(checkpoint),
                     "--rate", "1000", "--no-progress"])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2, err
        assert tracker.stats()["PutEventsRequests"] == sent_before  # nothing sent
    assert expected in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("personalize-sim stream: ")
    assert src.read_bytes() == input_before  # the input is byte-for-byte unchanged
    assert checkpoint.read_bytes() == checkpoint_before


def test_the_events_file_as_its_own_checkpoint_is_refused_and_left_intact(tmp_path, capsys):
    src = tmp_path / "ev.csv"
    events_frame(10).to_csv(src, index=False)
    before = src.read_bytes()
    code = main(["stream", str(src), "--dry-run", str(tmp_path / "out.jsonl"),
                 "--checkpoint", str(src), "--no-progress"])  # fmt: skip
    assert code == 2
    assert "--checkpoint" in capsys.readouterr().err
    assert src.read_bytes() == before
    assert not (tmp_path / "out.jsonl").exists()


# -- SIGTERM ------------------------------------------------------------------------------------


def test_sigterm_prints_the_summary_and_a_resume_stores_every_event_once(tmp_path):
    requests = make_requests(400, events=2)
    src = tmp_path / "requests.jsonl"
    write_requests(src, requests)
    checkpoint = tmp_path / "stream.checkpoint"
    with LocalTracker(max_tps=None, process=False) as tracker:
        cmd = [*CLI, str(src), "--endpoint-url", tracker.endpoint_url,
               "--checkpoint", str(checkpoint), "--no-progress"]  # fmt: skip
        proc = subprocess.Popen([*cmd, "--rate", "100"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=os.environ)  # fmt: skip
        wait_for(lambda: tracker.stats()["PutEventsRequests"] >= 40, "40 requests")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, err  # as for Ctrl-C: not every event was delivered
        assert "terminated: stopping" in err
        assert "stopped: " in err  # the summary, for people
        first = last_json(out)
        assert first["state"] == "stopped" and first["balanced"]
        done = len(checkpoint.read_bytes().splitlines()) - 1  # after the header
        # every request that went out was answered, counted and checkpointed before the exit
        assert done == first["delivered_requests"] >= 40
        assert first["pending_requests"] == 400 - done
        resumed = subprocess.run([*cmd, "--rate", "1000"], capture_output=True, text=True,
                                 env=os.environ, check=False)  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        second = last_json(resumed.stdout)
        stored = tracker.events()
        stats = tracker.stats()
    assert second["resumed_requests"] == done
    assert second["delivered_requests"] == 400 - done
    ids = list(stored["EVENT_ID"])
    assert sorted(ids) == sorted(e["eventId"] for r in requests for e in r["eventList"])
    assert stats["duplicates"] == 0  # a graceful stop leaves nothing to send twice


def test_sigterm_of_a_local_stream_removes_its_temporary_tracker_folder(tmp_path):
    src = tmp_path / "events.csv"
    events_frame(400).to_csv(src, index=False)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen([*CLI, str(src), "--local", "--rate", "50", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)  # fmt: skip
    line = proc.stderr.readline()
    assert line.startswith("local tracker at "), line
    url = line.split()[-1]
    wait_for(lambda: fetch_stats(url)["PutEventsRequests"] >= 5, "5 requests")
    assert list(scratch.glob("personalize-sim-tracker-*"))  # the folder exists while it runs
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "stopped: " in err and "events stored" in err
    assert last_json(out)["state"] == "stopped"
    assert list(scratch.iterdir()) == []


# -- output paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "name", "message"),
    [
        ("--log", "nodir/x.parquet", "--log nodir/x.parquet: no such folder nodir/"),
        ("--checkpoint", "nodir/cp", "--checkpoint nodir/cp: no such folder nodir/"),
        ("--log", ".", "--log . is a folder"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_any_send(
    tmp_path, monkeypatch, capsys, flag, name, message
):
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "requests.jsonl"
    write_requests(src, make_requests(20))
    with LocalTracker(max_tps=None, process=False) as tracker:
        code = main(["stream", str(src), "--endpoint-url", tracker.endpoint_url, flag, name,
                     "--rate", "1000", "--no-progress"])  # fmt: skip
        assert tracker.stats()["PutEventsRequests"] == 0
    assert code == 2
    assert message in capsys.readouterr().err


def test_dry_run_into_a_pipe_works(tmp_path):
    src = tmp_path / "events.csv"
    events_frame(20).to_csv(src, index=False)
    cmd = [*CLI, str(src), "--dry-run", "/dev/stdout", "--rate", "1000", "--no-progress"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    *bodies, summary = out.stdout.strip().splitlines()
    assert sum(len(json.loads(b)["eventList"]) for b in bodies) == 20
    assert json.loads(summary)["delivered_events"] == 20


def test_dry_run_and_log_into_fifos(tmp_path):
    src = tmp_path / "events.csv"
    events_frame(20).to_csv(src, index=False)
    fifos = [tmp_path / "bodies", tmp_path / "log"]
    for fifo in fifos:
        os.mkfifo(fifo)
    proc = subprocess.Popen([*CLI, str(src), "--dry-run", str(fifos[0]), "--log", str(fifos[1]),
                             "--rate", "1000", "--no-progress"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    with open(fifos[0]) as bodies:
        lines = bodies.read().splitlines()
    with open(fifos[1]) as log:
        rows = log.read().splitlines()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert sum(len(json.loads(b)["eventList"]) for b in lines) == 20
    assert rows[0].startswith("request_id,attempt") and len(rows) == 1 + len(lines)


def test_the_summary_comes_first_and_a_failed_log_write_says_where(tmp_path, capsys):
    src = tmp_path / "events.csv"
    events_frame(20).to_csv(src, index=False)
    code = main(["stream", str(src), "--dry-run", str(tmp_path / "out.jsonl"), "--log",
                 "/dev/full", "--rate", "1000", "--no-progress"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert last_json(captured.out)["delivered_events"] == 20  # the summary was not lost
    assert "the delivery log could not be written to /dev/full" in captured.err
    assert captured.err.index("done: ") < captured.err.index("could not be written")


# -- worker processes -------------------------------------------------------------------------

MAX_PROCESSES = 2 * len(os.sched_getaffinity(0))  # two per CPU, as open_stream allows


def test_more_processes_than_the_limit_are_refused_naming_the_flag(tmp_path, capsys):
    """--processes 1000 once spawned 847 workers and 20 GB before it was killed."""
    src = tmp_path / "requests.jsonl"
    write_requests(src, make_requests(20))
    out = tmp_path / "dry.jsonl"
    code = main(["stream", str(src), "--dry-run", str(out), "--processes",
                 str(MAX_PROCESSES + 1), "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"personalize-sim stream: --processes: got {MAX_PROCESSES + 1}; ")
    assert f"at most {MAX_PROCESSES}" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # refused before anything was written


def spawned_workers(pid: int) -> list[int]:
    """The multiprocessing workers ``pid`` has spawned (not its resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads a process's state from /proc (Linux only)"
)
@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_a_stop_while_workers_start_sends_nothing_and_prints_the_summary(tmp_path, how):
    """SIGTERM to the command, or Ctrl-C in a terminal (SIGINT to its whole process group,
    the workers too): the workers that started are stopped before they send anything."""
    requests = make_requests(400)
    src = tmp_path / "requests.jsonl"
    write_requests(src, requests)
    checkpoint = tmp_path / "stream.checkpoint"
    with LocalTracker(max_tps=None, process=False) as tracker:
        proc = subprocess.Popen(
            [*CLI, str(src), "--endpoint-url", tracker.endpoint_url, "--rate", "400",
             "--processes", str(MAX_PROCESSES), "--checkpoint", str(checkpoint), "--no-progress"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: spawned_workers(proc.pid), "the first worker process")
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=90)
        sent = tracker.stats()["PutEventsRequests"]
    assert proc.returncode == 1, err
    why = "terminated" if how == "SIGTERM" else "interrupted"
    assert f"{why}: stopping" in err and "stopped: " in err and "Traceback" not in err
    summary = last_json(out)
    assert summary["state"] == "stopped" and summary["balanced"]
    assert summary["pending_requests"] == 400 and summary["attempts"] == 0
    assert sent == 0  # stopped before any worker started sending
    assert len(checkpoint.read_bytes().splitlines()) == 1  # the header: nothing was delivered


# -- a full disk --------------------------------------------------------------------------------


def test_a_dry_run_that_fills_the_disk_stops_in_one_line_with_whole_lines_only(tmp_path):
    """The file may grow to 20,000 bytes (RLIMIT_FSIZE in the child: the write that crosses
    it is cut short, the next fails with EFBIG, as on a full disk). It used to print a
    traceback per request, count the cut-off line as delivered and the rest as dead letters."""
    import resource

    limit = 20_000
    requests = make_requests(300, events=2)
    src = tmp_path / "requests.jsonl"
    write_requests(src, requests)
    out = tmp_path / "dry.jsonl"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    run = subprocess.run(
        [*CLI, str(src), "--dry-run", str(out), "--rate", "2000", "--no-progress"],
        capture_output=True, text=True, timeout=60, preexec_fn=small_files, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    [line] = [x for x in run.stderr.splitlines() if x.startswith("personalize-sim stream:")]
    assert str(out) in line and "File too large" in line, line
    written = out.read_bytes()
    assert 0 < len(written) <= limit and written.endswith(b"\n")
    bodies = [json.loads(x) for x in written.splitlines()]  # every line whole
    summary = last_json(run.stdout)
    assert summary["delivered_requests"] == len(bodies) < 300  # the ledger is the file
    assert summary["dead_letter_requests"] == 0 and summary["balanced"]
    assert summary["pending_requests"] == 300 - len(bodies)
    assert bodies == requests[: len(bodies)]  # in order, none skipped


def test_a_checkpoint_that_fills_the_disk_stops_the_run_and_a_resume_completes_it(tmp_path):
    import resource

    requests = make_requests(300)
    src = tmp_path / "requests.jsonl"
    write_requests(src, requests)
    checkpoint = tmp_path / "stream.checkpoint"

    def small_files() -> None:  # the header and about 80 ids
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000, resource.RLIM_INFINITY))

    with LocalTracker(max_tps=None, process=False) as tracker:
        cmd = [*CLI, str(src), "--endpoint-url", tracker.endpoint_url, "--checkpoint",
               str(checkpoint), "--rate", "1000", "--no-progress"]  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                             preexec_fn=small_files, check=False)  # fmt: skip
        stored = len(tracker.events())
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        [line] = [x for x in run.stderr.splitlines() if x.startswith("personalize-sim stream:")]
        assert f"writing the checkpoint {checkpoint} failed: File too large" in line
        first = last_json(run.stdout)
        assert first["delivered_requests"] == stored < 300 and first["balanced"]
        resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert resumed.returncode == 0, resumed.stderr
        ids = sorted(tracker.events()["EVENT_ID"])
    assert ids == sorted(r["eventList"][0]["eventId"] for r in requests)  # each once
