"""The report and its views: a tidy table, the S3 CSV layout, the CloudWatch metrics.

S3 (Developer Guide ``metric-attribution-results.md``): columns
``METRIC_NAME,EVENT_TYPE,VALUE,MATH_FUNCTION,EVENT_ATTRIBUTION_SOURCE,TIMESTAMP``, metric
name and event type upper-cased, the function lower-case, the value a float, one file
``AggregatedAttributionMetrics - ImportMethod - Timestamp.csv`` per publish.
CloudWatch (the AWS sample notebook): namespace ``AWS/Personalize``, the metric name
upper-cased, dimension ``EventAttributionSource`` upper-cased, so sources that differ
only in case become one series there, while S3 keeps them apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._checks import instance
from ._metrics import MetricAttribution

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["S3_COLUMNS", "AttributionReport"]

S3_COLUMNS = (
    "METRIC_NAME",
    "EVENT_TYPE",
    "VALUE",
    "MATH_FUNCTION",
    "EVENT_ATTRIBUTION_SOURCE",
    "TIMESTAMP",
)
NAMESPACE = "AWS/Personalize"


@dataclass(frozen=True, eq=False)
class AttributionReport:
    """What metric attribution reports for a set of events, with what it left out.

    ``table`` is tidy, for plotting: ``WINDOW`` (UTC start of the 15-minute window),
    ``METRIC_NAME``, ``EVENT_TYPE``, ``SOURCE``, ``VALUE``, ``MATH_FUNCTION``, ``EVENTS``.
    ``counts`` has one row per metric: events of its type, how many were ``counted``,
    and how many were not and why (``before_creation``, ``older_than_14_days``,
    ``after_now``, ``missing_value``), and of those counted how many went to
    SOURCE_NAME_UNDEFINED (``undefined_source``), of which ``unmapped_recommendation_id``
    carried an id no recommender issued.
    """

    table: pd.DataFrame
    counts: pd.DataFrame
    attribution: MetricAttribution
    now: dt.datetime

    def totals(self) -> pd.DataFrame:
        """Per metric and source over all windows: ``VALUE`` and ``EVENTS``."""
        keys = ["METRIC_NAME", "SOURCE"]
        out = self.table.groupby(keys, sort=True)[["VALUE", "EVENTS"]].sum()
        return out.reset_index()

    def total(self, metric: str, source: str | None = None) -> float:
        """One metric's value over all windows, for one source or all of them."""
        rows = self.table[self.table["METRIC_NAME"] == metric]
        if source is not None:
            rows = rows[rows["SOURCE"] == source]
        return float(rows["VALUE"].sum())

    def s3(self) -> pd.DataFrame:
        """The rows of the S3 report, in its column layout."""
        import pandas as pd

        f = self.table
        return pd.DataFrame(
            {
                "METRIC_NAME": f["METRIC_NAME"].str.upper(),
                "EVENT_TYPE": f["EVENT_TYPE"].str.upper(),
                "VALUE": f["VALUE"].astype(float),
                "MATH_FUNCTION": f["MATH_FUNCTION"],
                "EVENT_ATTRIBUTION_SOURCE": f["SOURCE"],
                "TIMESTAMP": pd.DatetimeIndex(f["WINDOW"]).as_unit("s").asi8,
            }
        )

    def s3_filename(self, import_method: str = "INCREMENTAL") -> str:
        """``AggregatedAttributionMetrics - <import method> - <epoch seconds>.csv``."""
        return f"AggregatedAttributionMetrics - {import_method} - {int(self.now.timestamp())}.csv"

    def write_s3(self, directory: str | Path, *, import_method: str = "INCREMENTAL") -> Path:
        """Write the S3 report CSV into ``directory``; returns its path."""
        instance(directory, "directory", (str, Path), "a directory path")
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.s3_filename(import_method)
        self.s3().to_csv(path, index=False)
        return path

    def cloudwatch(self) -> pd.DataFrame:
        """The CloudWatch datapoints: ``Namespace, MetricName, EventAttributionSource,
        DatasetGroupArn, Timestamp, Period, Sum`` (sources merged by upper case)."""
        f = self.table.assign(
            MetricName=self.table["METRIC_NAME"].str.upper(),
            EventAttributionSource=self.table["SOURCE"].str.upper(),
        )
        out = f.groupby(["MetricName", "EventAttributionSource", "WINDOW"], sort=True)
        points = out["VALUE"].sum().reset_index().rename(columns={"VALUE": "Sum"})
        points = points.rename(columns={"WINDOW": "Timestamp"})
        points.insert(0, "Namespace", NAMESPACE)
        points.insert(3, "DatasetGroupArn", self.attribution.dataset_group_arn)
        points.insert(5, "Period", 900)
        return points

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the attribution, ``now``, totals and counts."""
        return {
            "attribution": self.attribution.to_json(),
            "now": self.now.isoformat(),
            "totals": self.totals().to_dict(orient="records"),
            "counts": self.counts.to_dict(orient="records"),
        }

    def __repr__(self) -> str:
        metrics = ", ".join(m.metric_name for m in self.attribution.metrics)
        return (
            f"<AttributionReport {metrics}: {len(self.table)} rows, "
            f"{self.table['SOURCE'].nunique()} sources, now={self.now.isoformat()}>"
        )
