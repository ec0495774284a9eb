"""``stream`` reads every format ``generate`` writes: each round trip puts the same events
on the wire as the simulated frame itself would (a dry run compares the request bodies)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from personalize_sim import simulate, to_put_events
from personalize_sim.cli import main

pytestmark = pytest.mark.timeout(120)

ARGS = ["--preset", "retail", "--users", "120", "--days", "1", "--seed", "9"]


def sent(path) -> list[dict]:
    """The events of a dry run, flattened, in send order."""
    lines = path.read_text().splitlines()
    return [event for line in lines for event in json.loads(line)["eventList"]]


def dry_run(tmp_path, source) -> list[dict]:
    out = tmp_path / "dry.jsonl"
    code = main(["stream", str(source), "--dry-run", str(out), "--rate", "100000",
                 "--no-progress"])  # fmt: skip
    assert code == 0
    return sent(out)


@pytest.fixture(scope="module")
def expected() -> list[dict]:
    frame = simulate("retail", users=120, days=1, rng=9)
    return [e for r in to_put_events(frame, "dry-run") for e in r["eventList"]]


@pytest.mark.parametrize("out", ["events.parquet", "events.jsonl", "events.json", "parts"])
def test_generate_then_stream_sends_the_simulated_events(tmp_path, out, expected):
    assert main(["generate", *ARGS, "--out", str(tmp_path / out)]) == 0
    events = dry_run(tmp_path, tmp_path / out)
    key = lambda e: e["eventId"]  # noqa: E731
    assert sorted(events, key=key) == sorted(expected, key=key)


def test_generate_bulk_csv_then_stream_sends_every_row_with_found_sessions(tmp_path, capsys):
    csv = tmp_path / "events.csv"
    assert main(["generate", *ARGS, "--anonymous", "session", "--out", str(csv)]) == 0
    rows = pd.read_csv(csv)
    events = dry_run(tmp_path, csv)
    assert len(events) == len(rows) > 0
    assert sorted(e["itemId"] for e in events) == sorted(rows["ITEM_ID"])
    assert sorted(int(e["sentAt"]) for e in events) == sorted(rows["TIMESTAMP"])
    assert "no SESSION_ID in the input" in capsys.readouterr().err


def test_sessions_found_in_a_bulk_csv_split_a_user_at_thirty_quiet_minutes(tmp_path):
    csv = tmp_path / "bulk.csv"
    csv.write_text(
        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n"
        "u1,i1,1700000000,View\nu1,i2,1700001799,View\nu1,i3,1700003600,View\n"
        "u2,i4,1700000000,View\n"
    )
    out = tmp_path / "dry.jsonl"
    assert main(["stream", str(csv), "--dry-run", str(out), "--no-progress"]) == 0
    sessions = {e["itemId"]: json.loads(line)["sessionId"] for line in out.read_text().splitlines()
                for e in json.loads(line)["eventList"]}  # fmt: skip
    assert sessions == {"i1": "u1-1", "i2": "u1-1", "i3": "u1-2", "i4": "u2-1"}
