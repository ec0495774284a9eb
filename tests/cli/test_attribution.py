"""``personalize-sim attribution`` as a user runs it: files in, S3-style CSV out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from personalize_sim.cli import main

pytestmark = pytest.mark.timeout(120)


def write_inputs(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    events = pd.DataFrame(
        {
            "EVENT_TYPE": ["Purchase", "Purchase", "Purchase", "View"],
            "ITEM_ID": ["a", "b", "a", "a"],
            "TIMESTAMP": [1768816800, 1768816900, 1768817700, 1768816800],  # epoch s (bulk CSV)
            "RECOMMENDATION_ID": ["r1", None, "r1", None],
            "EVENT_ATTRIBUTION_SOURCE": [None, "banner", None, None],
        }
    )
    paths = (tmp_path / "events.csv", tmp_path / "metrics.json", tmp_path / "items.csv")
    events.to_csv(paths[0], index=False)
    paths[1].write_text(
        json.dumps(
            {
                "name": "shop",
                "metrics": [
                    {"eventType": "Purchase", "metricName": "revenue",
                     "expression": "SUM(Items.PRICE)"}
                ],
            }
        )
    )  # fmt: skip
    pd.DataFrame({"ITEM_ID": ["a", "b"], "PRICE": [10.0, 4.0]}).to_csv(paths[2], index=False)
    recs = tmp_path / "recommenders.json"
    recs.write_text(json.dumps({"r1": "arn:aws:personalize:us-east-1:1:recommender/top"}))
    return (*paths, recs)


def test_writes_the_s3_csv_and_prints_a_summary(tmp_path, capsys):
    events, metrics, items, recs = write_inputs(tmp_path)
    out = tmp_path / "out"
    argv = [str(events), "--metrics", str(metrics), "--items", str(items),
            "--recommenders", str(recs), "--now", "2026-01-20T00:00:00Z",
            "--out", str(out)]  # fmt: skip
    assert main(["attribution", *argv]) == 0
    printed = capsys.readouterr().out
    assert "banner" in printed and "revenue" in printed
    (csv,) = out.glob("AggregatedAttributionMetrics - INCREMENTAL - *.csv")
    assert csv.name.endswith(" - 1768867200.csv")
    rows = pd.read_csv(csv)
    assert rows.columns.tolist() == [
        "METRIC_NAME", "EVENT_TYPE", "VALUE", "MATH_FUNCTION",
        "EVENT_ATTRIBUTION_SOURCE", "TIMESTAMP",
    ]  # fmt: skip
    columns = ["EVENT_ATTRIBUTION_SOURCE", "VALUE", "TIMESTAMP"]
    got = sorted(rows[columns].itertuples(index=False, name=None))
    arn = "arn:aws:personalize:us-east-1:1:recommender/top"
    assert got == [(arn, 10.0, 1768816800), (arn, 10.0, 1768817700), ("banner", 4.0, 1768816800)]


def test_bad_metrics_file_is_a_clear_error_and_exit_code_2(tmp_path):
    events, metrics, _, _ = write_inputs(tmp_path)
    metrics.write_text(json.dumps({"metrics": [{"eventType": "Purchase", "metricName": "x",
                                                "expression": "AVG(Items.PRICE)"}]}))  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "personalize_sim.cli", "attribution", str(events),
         "--metrics", str(metrics), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "SAMPLECOUNT() or SUM" in result.stderr
