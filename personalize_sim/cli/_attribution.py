"""``personalize-sim attribution``: what metric attribution would report for an events file.

Writes the S3-style CSV (``AggregatedAttributionMetrics - INCREMENTAL - <now>.csv``),
the tidy report and the CloudWatch datapoints into ``--out``, and prints a summary:
per metric and source the value, then what was not counted and why.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._failures import UsageError
from ._inputs import events_path, read_frame

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", help="events: .parquet, .csv, .json or .jsonl")
    parser.add_argument(
        "--metrics",
        required=True,
        metavar="FILE",
        help="JSON as CreateMetricAttribution takes it: {name, metrics: [{eventType, "
        "metricName, expression}]}",
    )
    parser.add_argument("--items", metavar="FILE", help="items dataset (ITEM_ID + columns)")
    parser.add_argument(
        "--recommenders",
        metavar="FILE",
        help="RECOMMENDATION_ID -> recommender: CSV/Parquet with RECOMMENDATION_ID and "
        "RECOMMENDER_ARN columns, or a JSON object",
    )
    parser.add_argument(
        "--created-at", metavar="TIME", help="when the attribution was created (ISO 8601)"
    )
    parser.add_argument(
        "--now", metavar="TIME", help="when the report is made (ISO 8601; default: now)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for the CSVs")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from personalize_sim.attribution import MetricAttribution, attribution_report

    created = _time(args.created_at, "--created-at")
    attribution = MetricAttribution.from_json(Path(args.metrics), created_at=created)
    events = _read(args.input, "INPUT")
    items = None if args.items is None else _read(args.items, "--items")
    recommenders = None if args.recommenders is None else _recommenders(args.recommenders)
    report = attribution_report(
        events, attribution, items=items, recommenders=recommenders,
        now=_time(args.now, "--now"),
    )  # fmt: skip
    out = Path(args.out)
    path = report.write_s3(out)
    report.table.to_csv(out / "report.csv", index=False)
    report.cloudwatch().to_csv(out / "cloudwatch.csv", index=False)
    print(_summary(report))
    print(f"wrote {path}, report.csv and cloudwatch.csv to {out}/")
    return 0


def _time(text: str | None, option: str) -> Any:
    import datetime as dt

    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: got {text!r}; an ISO 8601 time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _read(name: str, what: str) -> Any:
    """A frame whose TIMESTAMPs are datetimes (bulk-import CSVs carry epoch seconds)."""
    import pandas as pd

    frame = read_frame(name, what)
    if "TIMESTAMP" in frame.columns:
        stamps = frame["TIMESTAMP"]
        if stamps.dtype.kind in "iuf":
            frame["TIMESTAMP"] = pd.to_datetime(stamps, unit="s", utc=True)
        elif not isinstance(stamps.dtype, pd.DatetimeTZDtype):
            frame["TIMESTAMP"] = pd.to_datetime(stamps, utc=True, format="ISO8601")
    return frame


def _recommenders(name: str) -> Any:
    import json
    from pathlib import Path

    path = Path(name)
    if path.suffix.lower() == ".json":
        return json.loads(events_path(name, "--recommenders").read_text(encoding="utf-8"))
    return _read(name, "--recommenders")


def _summary(report: Any) -> str:
    totals = report.totals()
    lines = [f"{'metric':<16} {'source':<60} {'value':>14} {'events':>8}"]
    lines += [
        f"{r.METRIC_NAME:<16} {r.SOURCE:<60} {r.VALUE:>14.2f} {r.EVENTS:>8}"
        for r in totals.itertuples(index=False)
    ]
    lines += ["", report.counts.to_string(index=False)]
    return "\n".join(lines)
