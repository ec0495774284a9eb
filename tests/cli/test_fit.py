"""``personalize-sim fit LOG --out config.yaml`` and ``personalize-sim realism REAL SYN``."""

from __future__ import annotations

import pandas as pd

from personalize_sim import SimulationConfig, fit, simulate
from personalize_sim.cli import main


def _log(tmp_path):
    frame = simulate("retail", users=300, days=7, rng=3, start="2026-01-05")
    frame = frame.assign(USER_ID=frame["true_user_id"])
    # the bulk-import layout: epoch seconds, no ground truth
    csv = frame[["USER_ID", "ITEM_ID", "EVENT_TYPE", "EVENT_VALUE", "SESSION_ID"]].assign(
        TIMESTAMP=frame["TIMESTAMP"].astype("int64") // 10**6
    )
    path = tmp_path / "interactions.csv"
    csv.to_csv(path, index=False)
    return csv, path


def test_fit_writes_the_config_fit_returns(tmp_path, capsys):
    csv, path = _log(tmp_path)
    out = tmp_path / "fitted.yaml"
    assert main(["fit", str(path), "--out", str(out), "--timezone", "America/New_York"]) == 0
    written = SimulationConfig.from_yaml(out)
    assert written == fit(pd.read_csv(path), timezone="America/New_York")
    printed = capsys.readouterr().out
    assert f"fitted {len(csv)} events: {csv['USER_ID'].nunique()} users" in printed
    assert "note: sessions: SESSION_ID" in printed and f"wrote {out}" in printed


def test_realism_prints_the_report_and_exits_by_its_verdict(tmp_path, capsys):
    _, path = _log(tmp_path)
    figure = tmp_path / "realism.png"
    assert main(["realism", str(path), str(path), "--figure", str(figure)]) == 0
    printed = capsys.readouterr().out
    assert "sessions_per_user" in printed and "hourly_profile" in printed
    assert figure.stat().st_size > 10_000
    shifted = pd.read_csv(path).assign(TIMESTAMP=lambda f: f["TIMESTAMP"] + 6 * 3600)
    other = tmp_path / "shifted.parquet"
    shifted.to_parquet(other)
    assert main(["realism", str(path), str(other), "--timezone", "America/New_York"]) == 1
    assert "outside tolerance: hourly_profile" in capsys.readouterr().err


def test_bad_logs_exit_2_with_the_reason(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["fit", str(missing), "--out", str(tmp_path / "x.yaml")]) == 2
    assert f"LOG {missing}: no such file or folder" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"USER_ID": ["a"], "TIMESTAMP": [1]}).to_csv(bad, index=False)
    assert main(["fit", str(bad), "--out", str(tmp_path / "x.yaml")]) == 2
    assert f"LOG {bad}: no ITEM_ID column (it has USER_ID, TIMESTAMP)" in capsys.readouterr().err
