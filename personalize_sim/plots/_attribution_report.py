"""Metric-attribution plots, from the frames of :mod:`personalize_sim.attribution`
(``report.table``, ``report.counts``, ``report.cloudwatch()``, ``effects.table``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._checks import one_of
from ._figures import _axes, _figure_of, _require

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "attributed_vs_incremental", "attribution_counts", "attribution_totals", "attribution_windows",
]  # fmt: skip

_EXCLUSIONS = ("counted", "before_creation", "older_than_14_days", "after_now", "missing_value")


def attribution_windows(
    report_frame: pd.DataFrame, *, metric: str | None = None, ax: Axes | None = None
) -> Figure:
    """One metric's value per 15-minute window, one line per source (``report.table``).

    ``metric`` defaults to the frame's first metric.
    """
    _require(
        report_frame, ("WINDOW", "METRIC_NAME", "SOURCE", "VALUE"), "an attribution report frame"
    )
    names = list(dict.fromkeys(report_frame["METRIC_NAME"]))
    metric = names[0] if metric is None else metric
    one_of(metric, "metric", names)
    rows = report_frame[report_frame["METRIC_NAME"] == metric]
    table = rows.pivot_table(index="WINDOW", columns="SOURCE", values="VALUE", aggfunc="sum")
    ax = _axes(ax)
    for source in table.columns:
        ax.plot(table.index, table[source].fillna(0.0).to_numpy(), label=_short_source(source))
    ax.set_xlabel("15-minute window (UTC)")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per 15-minute window, by source")
    ax.legend(fontsize="small")
    return _figure_of(ax)


def attribution_totals(report_frame: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Each metric's total by source: ``report.table`` (as the S3 report keeps sources) or
    ``report.cloudwatch()`` (sources upper-cased, so those differing in case merge)."""
    import numpy as np

    if "EventAttributionSource" in getattr(report_frame, "columns", ()):
        report_frame = report_frame.rename(
            columns={
                "MetricName": "METRIC_NAME",
                "EventAttributionSource": "SOURCE",
                "Sum": "VALUE",
            }
        )
    _require(report_frame, ("METRIC_NAME", "SOURCE", "VALUE"), "an attribution report frame")
    table = report_frame.pivot_table(
        index="SOURCE", columns="METRIC_NAME", values="VALUE", aggfunc="sum", fill_value=0.0
    )
    ax = _axes(ax)
    y = np.arange(len(table.index))
    height = 0.8 / max(len(table.columns), 1)
    for i, metric in enumerate(table.columns):
        ax.barh(y + i * height, table[metric].to_numpy(), height=height, label=str(metric))
    ax.set_yticks(y + height * (len(table.columns) - 1) / 2)
    ax.set_yticklabels([_short_source(s) for s in table.index])
    ax.invert_yaxis()
    ax.set_xlabel("value over all windows")
    ax.set_title("attributed value by source")
    ax.legend(fontsize="small")
    return _figure_of(ax)


def attribution_counts(counts: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Per metric, events counted and those left out and why (``report.counts``)."""
    import numpy as np

    _require(counts, ("METRIC_NAME", *_EXCLUSIONS), "attribution report counts")
    ax = _axes(ax)
    left = np.zeros(len(counts))
    labels = counts["METRIC_NAME"].astype(str).tolist()
    for i, reason in enumerate(_EXCLUSIONS):
        values = counts[reason].to_numpy(dtype=float)
        ax.barh(labels, values, left=left, color=f"C{i}", label=reason.replace("_", " "))
        left += values
    ax.invert_yaxis()
    ax.set_xlabel("events of the metric's type")
    ax.set_title("counted, and left out by the cut-offs")
    ax.legend(fontsize="small")
    return _figure_of(ax)


def attributed_vs_incremental(effects: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Per metric, what attribution credits a recommender with beside its true incremental
    value (``effects.table``); the configured expectation as an error bar where known."""
    import numpy as np

    _require(effects, ("METRIC_NAME", "ATTRIBUTED", "INCREMENTAL"), "an effects frame")
    ax = _axes(ax)
    x = np.arange(len(effects))
    ax.bar(x - 0.2, effects["ATTRIBUTED"].to_numpy(), width=0.4, label="attributed (last touch)")
    ax.bar(x + 0.2, effects["INCREMENTAL"].to_numpy(), width=0.4, label="incremental (true)")
    if "EXPECTED" in effects.columns:
        known = effects["EXPECTED"].notna().to_numpy()
        if known.any():
            mid = effects["EXPECTED"].to_numpy()[known]
            low = mid - effects["EXPECTED_LOW"].to_numpy()[known]
            high = effects["EXPECTED_HIGH"].to_numpy()[known] - mid
            ax.errorbar(x[known] + 0.2, mid, yerr=np.vstack([low, high]), fmt="o", color="k",
                        label="configured lift (99% interval)")  # fmt: skip
    ax.set_xticks(x)
    ax.set_xticklabels(effects["METRIC_NAME"].astype(str).tolist())
    source = _short_source(str(effects["SOURCE"].iloc[0])) if "SOURCE" in effects else ""
    ax.set_title(f"attributed vs incremental: {source}")
    ax.legend(fontsize="small")
    return _figure_of(ax)


def _short_source(source: str, width: int = 40) -> str:
    """A source for a legend: an ARN by its last part."""
    text = source.rsplit("/", 1)[-1] if source.startswith("arn:") else source
    return text if len(text) <= width else text[: width - 1] + "…"
