"""Every way a first command line goes wrong ends in one short message and an exit code
(2: usage, settings, input; nothing was done), never a traceback; ``--debug`` shows it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from personalize_sim.cli import main

pytestmark = pytest.mark.timeout(120)

EVENTS = str(Path(__file__).resolve().parents[2] / "data" / "sample-events.jsonl")
SIM = ["--preset", "retail", "--users", "20", "--days", "1"]


def fails(capsys, argv: list[str], code: int = 2) -> str:
    """Run ``personalize-sim argv``; return its stderr, checked to be a short message."""
    assert main(argv) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, err
    assert lines[0].startswith(f"personalize-sim {argv[0]}: "), err
    assert "Traceback" not in err
    return err


def test_serve_on_a_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = fails(capsys, ["serve", "--port", str(port)])
    assert f"127.0.0.1:{port}" in err and "pick another --port" in err


def test_generate_with_a_missing_config(capsys):
    assert "missing.yaml: No such file or directory" in fails(
        capsys, ["generate", "--config", "missing.yaml", "--out", "x.parquet"]
    )


def test_generate_with_a_binary_config(capsys, tmp_path):
    config = tmp_path / "shop.yaml"
    config.write_bytes(bytes(range(128, 256)))
    err = fails(capsys, ["generate", "--config", str(config), "--out", str(tmp_path / "x.parquet")])
    assert f"--config: got '{config}'; a YAML file in UTF-8 (not byte 0x80 at offset 0)" in err


@pytest.mark.parametrize(
    ("out", "says"),
    [("/proc/nope/x.csv", "--out /proc/nope/x.csv: no such folder /proc/nope/ (create it first)"),
     ("/dev/null/parts", "--out /dev/null/parts: not writable (/dev/null is not a folder you can"),
     ("events.txt", "--out: got 'events.txt'; a path ending in .parquet, .jsonl, .json, .csv, "
                    "or a folder")],
)  # fmt: skip
def test_generate_refuses_an_output_it_cannot_write_before_simulating(capsys, out, says):
    err = fails(capsys, ["generate", *SIM, "--out", out])
    assert err.startswith(f"personalize-sim generate: {says}"), err


@pytest.mark.parametrize(
    ("flags", "says"),
    [(["--max-attempts", "0"], "--max-attempts: got 0; "),
     (["--retry-deadline", "-1"], "--retry-deadline: got -1"),
     (["--replay", "0"], "--replay: got 0"),
     (["--max-in-flight", "0"], "--max-in-flight: got 0")],
)  # fmt: skip
def test_stream_names_the_flag_of_a_bad_setting(capsys, tmp_path, flags, says):
    dry = tmp_path / "dry.jsonl"
    err = fails(capsys, ["stream", EVENTS, "--dry-run", str(dry), *flags])
    assert says in err
    assert not dry.exists() or dry.read_text() == ""  # nothing was sent


def test_stream_of_a_missing_file_and_of_an_unknown_format(capsys, tmp_path):
    err = fails(capsys, ["stream", "nope.parquet", "--dry-run", str(tmp_path / "d.jsonl")])
    assert "INPUT nope.parquet: no such file or folder" in err
    other = tmp_path / "events.txt"
    other.write_text("x")
    err = fails(capsys, ["stream", str(other), "--dry-run", str(tmp_path / "d.jsonl")])
    assert "use a .parquet, .csv, .tsv, .json, .jsonl, .ndjson file or a folder of parts" in err


def test_stream_names_the_line_of_a_bad_jsonl_file(capsys, tmp_path):
    bad = tmp_path / "events.jsonl"
    bad.write_text(
        '{"USER_ID": "u", "SESSION_ID": "s", "ITEM_ID": "i", "EVENT_TYPE": "View", '
        '"TIMESTAMP": "2026-01-01T00:00:00Z"}\n\n{"USER_ID": "u",\n'
    )
    err = fails(capsys, ["stream", str(bad), "--dry-run", str(tmp_path / "d.jsonl")])
    assert f"{bad} line 3: got " in err and "one JSON object per line" in err


def test_stream_of_an_events_file_needs_a_tracking_id(capsys):
    err = fails(capsys, ["stream", EVENTS, "--endpoint-url", "http://127.0.0.1:9"])
    assert "--tracking-id: got None; the event tracker's id" in err


def test_invalid_rows_are_named_in_one_line_in_command_line_terms(capsys, tmp_path):
    bad = tmp_path / "events.jsonl"
    rows = [
        f'{{"USER_ID": "u", "SESSION_ID": "s", "ITEM_ID": "i", "EVENT_TYPE": "{"x" * 300}", '
        f'"TIMESTAMP": "2026-01-01T00:00:0{i}Z"}}'
        for i in range(7)
    ]
    bad.write_text("\n".join(rows) + "\n")
    err = fails(capsys, ["stream", str(bad), "--dry-run", str(tmp_path / "d.jsonl")])
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"personalize-sim stream: 7 invalid rows in INPUT {bad}, nothing was ")
    assert err.count("row ") == 3 and err.count("EVENT_TYPE: too_long (limit: length <= 256)") == 3
    assert "; … and 4 more; fix them, or pass --skip-invalid to send the valid rows" in err
    assert ".problems" not in err and "Traceback" not in err


def test_debug_shows_the_traceback():
    from personalize_sim.errors import ConfigError

    with pytest.raises(ConfigError, match="max_attempts"):
        main(["stream", EVENTS, "--dry-run", "/dev/null", "--max-attempts", "0", "--debug"])


def test_the_summary_mentions_a_checkpoint_only_when_there_is_one(capsys, tmp_path):
    assert main(["stream", EVENTS, "--dry-run", str(tmp_path / "d.jsonl"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "checkpoint" not in err
    assert "(target: 100 requests/s)" in err


def test_replay_says_the_target_is_the_inputs_own_timing(capsys, tmp_path):
    code = main(["stream", EVENTS, "--dry-run", str(tmp_path / "d.jsonl"), "--replay", "1e9",
                 "--no-progress"])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "(target: the input's own timing, 1e+09× faster)" in err and "None" not in err


def test_the_progress_bar_ends_on_the_final_count(capsys, tmp_path):
    assert main(["stream", EVENTS, "--dry-run", str(tmp_path / "d.jsonl"), "--rate", "400"]) == 0
    frames = capsys.readouterr().err.replace("\r", "\n").splitlines()
    bars = [f for f in frames if "ev/s" in f or "ev]" in f]
    total = len(Path(EVENTS).read_text().splitlines())
    assert bars and f"{total}/{total}" in bars[-1], bars[-3:]


def test_bad_settings_are_refused_before_a_local_tracker_starts(capsys):
    err = fails(capsys, ["stream", EVENTS, "--local", "--retry-deadline", "-1"])
    assert "--retry-deadline: got -1" in err and "local tracker at" not in err
