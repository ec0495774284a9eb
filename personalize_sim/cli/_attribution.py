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
from ._outputs import output_folder

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

    created, now = _time(args.created_at, "--created-at"), _time(args.now, "--now")
    out = output_folder("--out", args.out)
    attribution = MetricAttribution.from_json(Path(args.metrics), created_at=created)
    events = read_frame(args.input, "INPUT", needs=("EVENT_TYPE", "TIMESTAMP"))
    items = None if args.items is None else read_frame(args.items, "--items", needs=("ITEM_ID",))
    recommenders = None if args.recommenders is None else _recommenders(args.recommenders)
    report = attribution_report(
        events, attribution, items=items, recommenders=recommenders, now=now
    )  # fmt: skip
    if report.table.empty:
        raise UsageError(_nothing_reported(report, events, now_given=now is not None))
    path = report.write_s3(out)
    report.table.to_csv(out / "report.csv", index=False)
    report.cloudwatch().to_csv(out / "cloudwatch.csv", index=False)
    print(_summary(report))
    print(f"wrote {path}, report.csv and cloudwatch.csv to {out}/")
    return 0


def _nothing_reported(report: Any, events: Any, *, now_given: bool) -> str:
    """Why no event was counted, in one line, with the flag that would change it."""
    # per event type: the time filters count an event once, however many metrics it feeds
    counts = report.counts.drop_duplicates("EVENT_TYPE").sum(numeric_only=True)
    now = report.now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    reasons = [
        (counts["older_than_14_days"], f"are 14 days or older at --now {now}"
         + ("" if now_given else " (the default: the current time)")),
        (counts["before_creation"], "are before --created-at"),
        (counts["after_now"], f"are after --now {now}"),
        (counts["missing_value"], "have no value (an item not in --items?)"),
    ]  # fmt: skip
    why = "; ".join(f"{int(n):,} {reason}" for n, reason in reasons if n)
    last = events["TIMESTAMP"].max().ceil("s").isoformat().replace("+00:00", "Z")
    return (
        f"nothing to report: of {int(counts['events']):,} events of the metrics' types, {why}; "
        f"the events end at {last}: pass --now after that (and --created-at before the first)"
    )


def _time(text: str | None, option: str) -> Any:
    import datetime as dt

    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: got {text!r}; an ISO 8601 time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _recommenders(name: str) -> Any:
    """A JSON object RECOMMENDATION_ID -> ARN, or a table (or events) with both columns."""
    import json

    path = events_path(name, "--recommenders")
    if path.suffix.lower() != ".json":
        return read_frame(path, "--recommenders", needs=("RECOMMENDATION_ID",))
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:  # not JSON, or not UTF-8
        reason = " ".join(str(e).split())
        raise UsageError(f"--recommenders {path}: not a JSON object ({reason})") from None
    if not isinstance(mapping, dict):
        raise UsageError(f"--recommenders {path}: a JSON object RECOMMENDATION_ID -> recommender "
                         f"ARN (got a JSON {type(mapping).__name__})")  # fmt: skip
    return mapping


def _summary(report: Any) -> str:
    totals = report.totals()
    lines = [f"{'metric':<16} {'source':<60} {'value':>14} {'events':>8}"]
    lines += [
        f"{r.METRIC_NAME:<16} {r.SOURCE:<60} {r.VALUE:>14.2f} {r.EVENTS:>8}"
        for r in totals.itertuples(index=False)
    ]
    lines += ["", report.counts.to_string(index=False)]
    return "\n".join(lines)
