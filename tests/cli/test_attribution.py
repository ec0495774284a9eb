"""``personalize-sim attribution`` as a user runs it: files in, S3-style CSV out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from personalize_sim.cli import main
from personalize_sim.simulation import ArmConfig

from .conftest import cli

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


#: one arm credited by an explicit source, one through the ids its recommender issued
ARMS = [
    {"name": "popular", "recommender": "popular", "attribution_source": "most-popular"},
    {"name": "mine", "recommender": "personalized"},
]
METRICS = {
    "name": "shop",
    "metrics": [
        {"eventType": "View", "metricName": "views", "expression": "SAMPLECOUNT()"},
        {"eventType": "Purchase", "metricName": "revenue", "expression": "SUM(Items.PRICE)"},
    ],
}
MINE = "arn:aws:personalize:us-east-1:000000000000:recommender/mine"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """What a newcomer has after ``generate --items``: events, items, a metrics file."""
    from personalize_sim import SimulationConfig

    folder = tmp_path_factory.mktemp("generated")
    config = SimulationConfig.preset("retail").replace(users=300, days=2, start="2026-01-05")
    config.replace(exposure__arms=tuple(ArmConfig(**arm) for arm in ARMS)).to_yaml(
        folder / "shop.yaml"
    )
    (folder / "metrics.json").write_text(json.dumps(METRICS))
    done = cli("generate", "--config", str(folder / "shop.yaml"), "--seed", "3", "--out",
               str(folder / "events.parquet"), "--items", str(folder / "items.csv"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder


def test_attribution_of_generates_own_output_credits_each_recommender_with_no_mapping(
    generated, tmp_path
):
    out = tmp_path / "report"
    done = cli("attribution", str(generated / "events.parquet"), "--metrics",
               str(generated / "metrics.json"), "--items", str(generated / "items.csv"),
               "--now", "2026-01-07T00:00:00Z", "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (csv,) = out.glob("AggregatedAttributionMetrics - INCREMENTAL - *.csv")
    rows = pd.read_csv(csv)
    assert {"most-popular", MINE} <= set(rows["EVENT_ATTRIBUTION_SOURCE"])
    frame = pd.read_parquet(generated / "events.parquet")
    views = frame[(frame["EVENT_TYPE"] == "View") & (frame["arm"] == "mine")]
    credited = rows[(rows["METRIC_NAME"] == "VIEWS") & (rows["EVENT_ATTRIBUTION_SOURCE"] == MINE)]
    assert credited["VALUE"].sum() == views["RECOMMENDATION_ID"].notna().sum() > 0
    revenue = rows[rows["METRIC_NAME"] == "REVENUE"]["VALUE"]
    assert len(revenue) and np.isfinite(revenue).all()


def test_a_report_with_nothing_in_its_windows_says_why_in_one_line_and_exits_2(generated, tmp_path):
    out = tmp_path / "report"
    base = [str(generated / "events.parquet"), "--metrics", str(generated / "metrics.json"),
            "--items", str(generated / "items.csv"), "--out", str(out)]  # fmt: skip
    done = cli("attribution", *base)  # --now: the current time, long after the window
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("personalize-sim attribution: nothing to report: ")
    assert "are 14 days or older at --now" in line and "(the default: the current time)" in line
    last = pd.read_parquet(generated / "events.parquet")["TIMESTAMP"].max().ceil("s")
    assert f"the events end at {last:%Y-%m-%dT%H:%M:%S}Z: pass --now after that" in line
    assert "--created-at" in line and not out.exists()
    late = cli("attribution", *base, "--now", "2026-01-07T00:00:00Z",
               "--created-at", "2026-01-07T00:00:00Z")  # fmt: skip
    assert late.returncode == 2 and "are before --created-at" in late.stderr


def test_an_infinite_price_is_refused_never_written(generated, tmp_path):
    items = pd.read_csv(generated / "items.csv")
    items.loc[:, "PRICE"] = float("inf")
    items.to_csv(tmp_path / "items.csv", index=False)
    out = tmp_path / "report"
    done = cli("attribution", str(generated / "events.parquet"), "--metrics",
               str(generated / "metrics.json"), "--items", str(tmp_path / "items.csv"),
               "--now", "2026-01-07T00:00:00Z", "--out", str(out))  # fmt: skip
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert "items.PRICE row 0: got inf; a finite number" in line and not out.exists()


def test_attribution_of_a_plain_generate_run_never_crashes(tmp_path):
    # the most natural first try: generate, then attribution on what it wrote
    events, metrics = tmp_path / "events.parquet", tmp_path / "metrics.json"
    assert cli("generate", "--preset", "retail", "--users", "200", "--days", "1",
               "--seed", "1", "--out", str(events)).returncode == 0  # fmt: skip
    metrics.write_text(json.dumps({"metrics": [METRICS["metrics"][0]]}))
    done = cli("attribution", str(events), "--metrics", str(metrics),
               "--now", "2026-01-06T00:00:00Z", "--out", str(tmp_path / "report"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "most-popular" in done.stdout and "recommended-for-you" in done.stdout


def test_the_docs_attribution_sequence_runs_as_pasted(tmp_path):
    page = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "metric-attribution.md"
    readme = page.read_text()
    (block,) = [b for b in re.findall(r"^```\n(.*?)^```$", readme, flags=re.S | re.M)
                if "personalize-sim attribution" in b]  # fmt: skip
    lines = block.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["personalize-sim", "generate"], ["echo", "'{\"name\":"], ["personalize-sim", "attribution"]
    ]  # fmt: skip
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    for line in lines:  # each as a newcomer's shell runs it
        done = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "PATH": path}, check=False)  # fmt: skip
        assert done.returncode == 0, (line, done.stderr)
    (csv,) = (tmp_path / "report").glob("AggregatedAttributionMetrics - INCREMENTAL - *.csv")
    rows = pd.read_csv(csv)
    assert {"VIEWS", "REVENUE"} == set(rows["METRIC_NAME"]) and (rows["VALUE"] > 0).all()
