"""``personalize-sim generate``: preset or config file in, Parquet or CSV out."""

from __future__ import annotations

import json

import pandas as pd

from personalize_sim import SimulationConfig, simulate
from personalize_sim.cli import main
from personalize_sim.simulation import catalog_items

from .conftest import cli

START = "2026-03-02T00:00:00+00:00"


def test_generate_a_preset_to_parquet_equals_simulate(tmp_path, capsys):
    out = tmp_path / "retail.parquet"
    code = main(
        ["generate", "--preset", "retail", "--users", "300", "--days", "1", "--seed", "4",
         "--start", START, "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    written = pd.read_parquet(out)
    expected = simulate("retail", users=300, days=1, start=START, rng=4)
    assert len(written) == len(expected) > 0
    assert written["SESSION_ID"].tolist() == expected["SESSION_ID"].tolist()
    captured = capsys.readouterr()
    assert f"wrote {len(expected):,} events" in captured.out
    assert "simulating retail" in captured.err  # the progress bar


def test_generate_from_a_config_file_to_parts_and_csv(tmp_path):
    config = SimulationConfig.preset("video-on-demand").replace(users=200, days=1, start=START)
    path = tmp_path / "vod.yaml"
    config.to_yaml(path)
    parts = tmp_path / "parts"
    assert (
        main(["generate", "--config", str(path), "--chunk-events", "50", "--out", str(parts)]) == 0
    )
    files = sorted(parts.glob("part-*.parquet"))
    assert len(files) >= 2
    assert len(pd.read_parquet(parts)) == len(simulate(config))
    csv = tmp_path / "vod.csv"
    assert main(["generate", "--config", str(path), "--out", str(csv)]) == 0
    header = csv.read_text().splitlines()[0]
    assert "USER_ID" in header and "ITEM_ID" in header
    assert (tmp_path / "vod.schema.json").exists()


def test_generate_reports_a_bad_config(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("exposure: {slate_size: 26}\n")
    assert main(["generate", "--config", str(path), "--out", str(tmp_path / "x.parquet")]) == 2
    assert "exposure.slate_size" in capsys.readouterr().err
    assert main(["generate", "--preset", "nope", "--out", str(tmp_path / "x.parquet")]) == 2
    assert not (tmp_path / "x.parquet").exists()


def test_generate_into_a_folder_holding_parts_is_refused_unless_told_to_overwrite(tmp_path):
    parts, dry = tmp_path / "parts", tmp_path / "dry.jsonl"
    first = ["generate", "--preset", "retail", "--users", "300", "--days", "1", "--seed", "1"]
    second = ["generate", "--preset", "retail", "--users", "150", "--days", "1", "--seed", "2"]
    assert cli(*first, "--chunk-events", "100", "--out", str(parts)).returncode == 0
    before = sorted(p.name for p in parts.iterdir())
    refused = cli(*second, "--chunk-events", "300", "--out", str(parts))
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert f"--out: got '{parts}'; an empty or new folder" in line and "--overwrite" in line
    assert sorted(p.name for p in parts.iterdir()) == before  # nothing touched
    replaced = cli(*second, "--chunk-events", "300", "--out", str(parts), "--overwrite")
    expected = len(simulate("retail", users=150, days=1, rng=2))
    assert replaced.returncode == 0 and f"wrote {expected:,} events in " in replaced.stdout
    assert cli("stream", str(parts), "--dry-run", str(dry), "--rate", "100000").returncode == 0
    sent = sum(len(json.loads(line)["eventList"]) for line in dry.read_text().splitlines())
    assert sent == expected  # the new run's events, and only them


def test_stream_refuses_a_folder_part_its_manifest_does_not_list(tmp_path, capsys):
    parts = tmp_path / "parts"
    assert main(["generate", "--preset", "retail", "--users", "100", "--days", "1",
                 "--out", str(parts)]) == 0  # fmt: skip
    simulate("retail", users=50, days=1, rng=5).to_parquet(parts / "other.parquet")
    capsys.readouterr()
    assert main(["stream", str(parts), "--dry-run", str(tmp_path / "d.jsonl")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "other.parquet is not among the parts its _manifest.json lists" in line
    assert not (tmp_path / "d.jsonl").exists()  # nothing was sent


def test_a_folder_without_a_manifest_must_hold_parts_of_one_kind(tmp_path, capsys):
    parts = tmp_path / "parts"
    parts.mkdir()
    simulate("retail", users=50, days=1, rng=5).to_parquet(parts / "part-00000.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(parts / "stray.parquet")
    assert main(["stream", str(parts), "--dry-run", str(tmp_path / "d.jsonl")]) == 2
    assert "other columns than part-00000.parquet" in capsys.readouterr().err


def test_generate_items_writes_the_simulated_catalog_and_counts_with_separators(tmp_path, capsys):
    out, items = tmp_path / "events.parquet", tmp_path / "items.csv"
    argv = ["generate", "--preset", "retail", "--users", "2000", "--days", "1", "--seed", "4",
            "--out", str(out), "--items", str(items)]  # fmt: skip
    assert main(argv) == 0
    expected = catalog_items(SimulationConfig.preset("retail").replace(users=2000, days=1, rng=4))
    pd.testing.assert_frame_equal(pd.read_csv(items), expected, check_dtype=False)
    printed = capsys.readouterr().out
    n = len(pd.read_parquet(out))
    assert n >= 1000 and f"wrote {n:,} events to {out}" in printed
    assert f"wrote {len(expected):,} items to {items}" in printed
