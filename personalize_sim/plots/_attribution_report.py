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

#: the report's window: values are added up per 15 minutes
_WINDOW = "15min"  # pandas frequency
_WINDOW_LENGTH_MIN = 15
_EXCLUSIONS = ("counted", "before_creation", "older_than_14_days", "after_now", "missing_value")


def attribution_windows(
    report_frame: pd.DataFrame,
    *,
    metric: str | None = None,
    cumulative: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """One metric's value over time, by source (``report.table``, one row per 15-minute
    window and source).

    By default each source's value adds up window by window (a window with nothing credited
    adds nothing), so which source is credited how much, and when, reads at a glance at any
    span; the legend gives each total. ``cumulative=False`` draws the value per hour (a
    report of up to two days) or per day instead, one bar per source; the 15-minute windows
    stay in the table. ``metric`` defaults to the frame's first metric.
    """
    import numpy as np
    import pandas as pd

    _require(
        report_frame, ("WINDOW", "METRIC_NAME", "SOURCE", "VALUE"), "an attribution report frame"
    )
    names = list(dict.fromkeys(report_frame["METRIC_NAME"]))
    metric = names[0] if metric is None else metric
    one_of(metric, "metric", names)
    rows = report_frame[report_frame["METRIC_NAME"] == metric]
    table = rows.pivot_table(
        index="WINDOW", columns="SOURCE", values="VALUE", aggfunc="sum", fill_value=0.0
    )
    windows = pd.date_range(table.index.min(), table.index.max(), freq=_WINDOW)
    table = table.reindex(windows, fill_value=0.0)
    table.index = table.index.tz_convert("UTC").tz_localize(None)
    table = table[table.sum().sort_values(ascending=False).index]  # the largest first
    ax = _axes(ax)
    if cumulative:
        # a window's value counts once it closes
        ends = (table.index + pd.Timedelta(minutes=_WINDOW_LENGTH_MIN)).to_numpy()
        starts = np.r_[table.index[:1].to_numpy(), ends]
        for source, values in table.items():
            total = float(values.sum())
            ax.step(starts, np.r_[0.0, values.cumsum().to_numpy()], where="post",
                    label=f"{_short_source(str(source))} ({total:,.4g})")  # fmt: skip
        ax.set_ylabel(f"{metric}, cumulative")
        ax.set_title(f"{metric} by source, added up over time")
        ax.set_ylim(bottom=0)
    else:
        two_days = windows[-1] - windows[0] <= pd.Timedelta(days=2)
        period, word = ("1h", "hour") if two_days else ("1D", "day")
        per = table.resample(period).sum()
        width = pd.Timedelta(period) / (len(per.columns) + 1)
        for i, (source, values) in enumerate(per.items()):
            left = (per.index + width * (i + 0.5)).to_numpy()
            ax.bar(left, values.to_numpy(), width=width.to_numpy(), align="edge",
                   label=_short_source(str(source)))  # fmt: skip
        ax.set_ylabel(f"{metric} per {word}")
        ax.set_title(f"{metric} per {word}, by source")
    _dates(ax)
    ax.set_xlabel("time (UTC)")
    ax.legend(fontsize="small", loc="upper left")
    return _figure_of(ax)


def _dates(ax: Axes) -> None:
    """Date ticks that say each day once and the hours between, not a full date per tick."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


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
