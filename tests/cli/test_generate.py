"""``personalize-sim generate``: preset or config file in, Parquet or CSV out."""

from __future__ import annotations

import pandas as pd

from personalize_sim import SimulationConfig, simulate
from personalize_sim.cli import main

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
    assert f"wrote {len(expected)} events" in captured.out
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
