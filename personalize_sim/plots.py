"""⑥ Matplotlib figures from delivery logs and events frames.

Every function returns a :class:`matplotlib.figure.Figure` and draws on ``ax`` when given
(so plots compose into your own layouts), else on a new figure. Figures are built with the
object API, never pyplot: no global state, safe from any thread, and a notebook shows a
figure only when it is the cell's value.

Delivery (from ``handle.log``, a :class:`~personalize_sim.streaming.DeliveryLog`, or a handle):
:func:`delivery` (the three below, stacked), :func:`rate` (target vs achieved per second),
:func:`latency` (percentiles per second, from the intended time and from the send),
:func:`errors` (attempts per second by error code).

Simulation (from an events frame with its ground-truth columns): :func:`simulation`
(all six), :func:`sessions` (by hour of day or weekday), :func:`funnel` (share of sessions
reaching each event type), :func:`popularity` (rank-frequency of items, log-log),
:func:`click_through` (by slate position), :func:`attribution` (events by source).

>>> from personalize_sim import stream
>>> from personalize_sim.streaming import MemoryTarget
>>> requests = [{"trackingId": "t", "sessionId": f"s{i}",
...              "eventList": [{"eventId": f"e{i}", "eventType": "View", "sentAt": 1.7e9}]}
...             for i in range(20)]
>>> handle = stream(requests, rate=1000, target=MemoryTarget())
>>> fig = delivery(handle.log)      # then fig.savefig("delivery.png"), or show it in a notebook
>>> [ax.get_title().split(" (")[0] for ax in fig.axes]
['send rate: target vs achieved', 'latency percentiles', 'errors by code']
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._checks import check, instance, one_of, positive
from .errors import ConfigError, ConfigTypeError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = [
    "Series",
    "attributed_vs_incremental",
    "attribution",
    "attribution_counts",
    "attribution_totals",
    "attribution_windows",
    "bin_width",
    "click_through",
    "delivery",
    "errors",
    "figure",
    "funnel",
    "latency",
    "popularity",
    "rate",
    "series",
    "sessions",
    "simulation",
]

#: the delivery-log columns each delivery plot reads (see personalize_sim.streaming.log)
_RATE_COLUMNS = ("attempt", "events", "sent", "target_rate")
_LATENCY_COLUMNS = ("sent", "intended", "finished", "outcome")
_ERROR_COLUMNS = ("sent", "error_code")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_NONE_LABEL = "(none)"


# ---------------------------------------------------------------------------------------------
# delivery


@dataclass(frozen=True)
class Series:
    """Binned series drawn by the delivery plots (the dashboard builds them live too).

    ``edges`` are the bin edges in seconds since the stream started (``len(edges) - 1``
    bins); every other array has one value per bin, as a rate per second or in
    milliseconds (NaN where nothing happened).
    """

    edges: np.ndarray
    target: np.ndarray  # mean target rate of the first sends in the bin
    achieved: np.ndarray  # first sends per second (in ``unit``)
    intended: dict[str, np.ndarray]  # "p50", "p90", "p99" (ms, delivered requests)
    service: dict[str, np.ndarray]  # "p50", "p99" (ms, every attempt)
    errors: dict[str, np.ndarray]  # error code -> failed attempts per second
    unit: str = "requests"

    @property
    def centers(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2


#: bin widths (s) the plots choose from: the smallest that gives at most _MAX_BINS bins
_BIN_WIDTHS = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 300.0, 600.0, 3600.0)
_MAX_BINS = 60
_SENDS_PER_BIN = 10


def bin_width(duration: float, sends: int | None = None) -> float:
    """A round bin width giving at most 60 bins over ``duration`` seconds.

    With ``sends`` (first attempts over that time), bins are also wide enough to hold about
    ten sends on average, so a rate per bin is not mostly rounding noise.
    """
    for width in _BIN_WIDTHS:
        enough = sends is None or duration <= 0 or sends * width / duration >= _SENDS_PER_BIN
        if duration / width <= _MAX_BINS and enough:
            return width
    return max(duration / _MAX_BINS, _BIN_WIDTHS[-1])


def series(log: Any, *, unit: str | None = None, bin_s: float | None = None) -> Series:
    """The binned :class:`Series` of a delivery log (frame, ``DeliveryLog`` or handle).

    ``bin_s`` is the bin width in seconds (default: a round width giving at most 60 bins).
    """
    import numpy as np

    frame, unit = _delivery_frame(log, unit, _RATE_COLUMNS + _LATENCY_COLUMNS + _ERROR_COLUMNS)
    sent = frame["sent"].to_numpy(dtype="float64")
    finished = frame["finished"].to_numpy(dtype="float64")
    first = frame["attempt"].to_numpy() == 1
    sends = np.sort(sent[first])
    gap = float(np.median(np.diff(sends))) if len(sends) > 1 else 0.0
    end = float(max(sent.max(), finished.max()))
    if bin_s is None:
        bin_s = bin_width(end - float(sent.min()), int(first.sum()))
    else:
        bin_s = positive(bin_s, "bin_s")
    # Edges sit half a send interval before the first send: a paced stream's sends then
    # fall mid-bin, not on an edge where a few microseconds of lag would flip their bin.
    half = min(gap, bin_s) / 2
    start = float(min(sent.min(), finished.min())) - half
    n = int((end - start) // bin_s) + 1
    edges = start + bin_s * np.arange(n + 1)
    b_sent = np.minimum(((sent - start) // bin_s).astype("int64"), n - 1)
    b_done = np.minimum(((finished - start) // bin_s).astype("int64"), n - 1)
    # the bin holding the last send is only as wide as the time the stream was sending
    width = np.full(n, bin_s)
    last = min(int((sends[-1] - start) // bin_s), n - 1) if len(sends) else n - 1
    if len(sends) and sends[-1] + half > edges[last]:
        width[last] = min(bin_s, sends[-1] + half - edges[last])

    units = frame["events"].to_numpy(dtype="float64") if unit == "events" else np.ones(len(frame))
    achieved = np.bincount(b_sent[first], weights=units[first], minlength=n) / width
    achieved[last + 1 :] = np.nan  # after the last send the stream was over, not idle
    rates = frame["target_rate"].to_numpy(dtype="float64")[first]
    known = np.isfinite(rates)
    target_sum = np.bincount(b_sent[first][known], weights=rates[known], minlength=n)
    firsts = np.bincount(b_sent[first][known], minlength=n)
    target = np.full(n, np.nan)
    np.divide(target_sum, firsts, out=target, where=firsts > 0)
    if np.isfinite(target).any():  # the target holds through bins where nothing was sent
        filled = np.maximum.accumulate(np.where(np.isfinite(target), np.arange(n), 0))
        target = target[filled]
        target[: np.argmax(np.isfinite(target))] = target[np.argmax(np.isfinite(target))]

    delivered = (frame["outcome"] == "delivered").to_numpy(dtype=bool)
    intended_ms = (finished - frame["intended"].to_numpy(dtype="float64")) * 1000
    service_ms = (finished - sent) * 1000
    intended = _percentiles(b_done[delivered], intended_ms[delivered], n, (50, 90, 99))
    service = _percentiles(b_done, service_ms, n, (50, 99))

    codes = frame["error_code"].astype("string").fillna("").to_numpy(dtype=object)
    failed = codes != ""
    errors_by_code = {
        str(code): np.bincount(b_sent[failed & (codes == code)], minlength=n) / width
        for code in sorted(set(codes[failed]))
    }
    return Series(edges, target, achieved, intended, service, errors_by_code, unit)


def _percentiles(
    bins: np.ndarray, values: np.ndarray, n: int, pcts: Sequence[float]
) -> dict[str, np.ndarray]:
    """Percentiles of ``values`` within each bin 0..n-1 (NaN for empty bins)."""
    import numpy as np

    out = {f"p{p:g}": np.full(n, np.nan) for p in pcts}
    if len(values) == 0:
        return out
    order = np.argsort(bins, kind="stable")
    bins, values = bins[order], values[order]
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    for begin, end in zip(starts, np.r_[starts[1:], len(bins)], strict=True):
        chunk = np.percentile(values[begin:end], pcts)
        for p, v in zip(pcts, chunk, strict=True):
            out[f"p{p:g}"][bins[begin]] = v
    return out


def delivery(
    log: Any,
    *,
    fig: Figure | SubFigure | None = None,
    unit: str | None = None,
    bin_s: float | None = None,
) -> Figure:
    """Rate, latency and errors of a stream: three panels stacked on ``fig`` (a figure or a
    subfigure; default a new one)."""
    s = series(log, unit=unit, bin_s=bin_s)
    fig = fig if fig is not None else figure((9, 8))
    axes = fig.subplots(3, 1, sharex=True)
    draw_rate(axes[0], s)
    draw_latency(axes[1], s)
    draw_errors(axes[2], s)
    for ax in axes[:2]:
        ax.set_xlabel("")
    return _figure_of(axes[0])


def rate(
    log: Any, *, ax: Axes | None = None, unit: str | None = None, bin_s: float | None = None
) -> Figure:
    """Target vs achieved send rate per second (first attempts, in the stream's unit)."""
    ax = _axes(ax)
    draw_rate(ax, series(log, unit=unit, bin_s=bin_s))
    return _figure_of(ax)


def latency(log: Any, *, ax: Axes | None = None, bin_s: float | None = None) -> Figure:
    """Latency percentiles over time: from the intended send time, and from the actual send."""
    ax = _axes(ax)
    draw_latency(ax, series(log, bin_s=bin_s))
    return _figure_of(ax)


def errors(log: Any, *, ax: Axes | None = None, bin_s: float | None = None) -> Figure:
    """Failed attempts per second, stacked by error code."""
    ax = _axes(ax)
    draw_errors(ax, series(log, bin_s=bin_s))
    return _figure_of(ax)


def draw_rate(ax: Axes, s: Series) -> None:
    """Draw target vs achieved rate of ``s`` on ``ax`` (used by :func:`rate` and the dashboard)."""
    ax.stairs(s.achieved, s.edges, label="achieved", color="C0", linewidth=1.5, baseline=None)
    ax.stairs(s.target, s.edges, label="target", color="C1", linestyle="--", baseline=None)
    ax.set_ylabel(f"{s.unit}/s")
    ax.set_xlabel("seconds since start")
    ax.set_title("send rate: target vs achieved")
    ax.set_ylim(bottom=0)
    _legend_beside(ax)


def draw_latency(ax: Axes, s: Series) -> None:
    """Draw latency percentiles of ``s`` on ``ax`` (log scale when they span decades)."""
    import numpy as np

    x = s.centers
    # a colour per percentile, a line style per clock: every line tells itself apart
    colours = {name: f"C{i}" for i, name in enumerate(dict.fromkeys([*s.intended, *s.service]))}
    for name, values in s.intended.items():
        ax.plot(x, values, "-", label=f"{name} from intended", color=colours[name], marker=".")
    for name, values in s.service.items():
        ax.plot(x, values, ":", label=f"{name} service", color=colours[name], linewidth=2)
    ax.set_ylabel("ms")
    ax.set_xlabel("seconds since start")
    ax.set_title("latency percentiles (from intended time, and service time)")
    values = np.concatenate([*s.intended.values(), *s.service.values()])
    finite = values[np.isfinite(values)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 50:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    if len(finite):
        _legend_beside(ax)
    ax.set_xlim(s.edges[0], s.edges[-1])


def draw_errors(ax: Axes, s: Series) -> None:
    """Draw failed attempts per second of ``s`` on ``ax``, stacked by error code."""
    import numpy as np

    bottom = np.zeros(len(s.edges) - 1)
    for i, (code, counts) in enumerate(s.errors.items()):
        ax.stairs(bottom + counts, s.edges, baseline=bottom, fill=True, label=code,
                  color=f"C{(i + 3) % 10}")  # fmt: skip
        bottom = bottom + counts
    if s.errors:
        _legend_beside(ax)
    else:
        ax.text(0.5, 0.5, "no errors", transform=ax.transAxes, ha="center", va="center",
                color="0.4")  # fmt: skip
    ax.set_xlim(s.edges[0], s.edges[-1])
    ax.set_ylim(bottom=0)
    ax.set_ylabel("failed attempts/s")
    ax.set_xlabel("seconds since start")
    ax.set_title("errors by code")


def _legend_beside(ax: Axes) -> None:
    """The legend right of the axes, never over the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)


def _delivery_frame(log: Any, unit: str | None, needed: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """The attempt frame and unit of a frame, a DeliveryLog or a StreamHandle."""
    import pandas as pd

    if isinstance(log, pd.DataFrame):
        frame = log
    elif hasattr(log, "delivery_log"):  # a StreamHandle
        unit = unit or log.delivery_log.unit
        frame = log.delivery_log.frame()
    elif callable(getattr(log, "frame", None)) and hasattr(log, "unit"):  # a DeliveryLog
        unit = unit or log.unit
        frame = log.frame()
    else:
        raise ConfigTypeError(
            "log", log, "handle.log (a DataFrame), a DeliveryLog or a StreamHandle"
        )
    unit = one_of(unit or "requests", "unit", ("requests", "events"))
    needed = list(dict.fromkeys(needed))
    _require(frame, needed, "a delivery log", hint="pass handle.log, the frame of a stream")
    return frame, unit


# ---------------------------------------------------------------------------------------------
# simulation


def simulation(
    frame: pd.DataFrame, *, fig: Figure | SubFigure | None = None, timezone: str | None = None
) -> Figure:
    """All six simulation plots on ``fig`` (a 3×2 grid; default a new figure), e.g. for a
    report. Times are shown in ``timezone`` (default: the simulation's, else UTC)."""
    fig = fig if fig is not None else figure((12, 12))
    grid = fig.subplots(3, 2)
    sessions(frame, ax=grid[0, 0], by="hour", timezone=timezone)
    sessions(frame, ax=grid[0, 1], by="weekday", timezone=timezone)
    funnel(frame, ax=grid[1, 0])
    popularity(frame, ax=grid[1, 1])
    click_through(frame, ax=grid[2, 0])
    attribution(frame, ax=grid[2, 1])
    return _figure_of(grid[0, 0])


def sessions(
    frame: pd.DataFrame, *, ax: Axes | None = None, by: str = "hour", timezone: str | None = None
) -> Figure:
    """Sessions started per hour of day (``by="hour"``) or per weekday, in ``timezone``
    (default: the simulation's, ``frame.attrs["timezone"]``, else UTC)."""
    one_of(by, "by", ("hour", "weekday"))
    _require(frame, ("SESSION_ID", "TIMESTAMP"), "an events frame")
    timezone = timezone or frame.attrs.get("timezone") or "UTC"
    starts = frame.groupby("SESSION_ID", sort=False)["TIMESTAMP"].min().dt.tz_convert(timezone)
    ax = _axes(ax)
    if by == "hour":
        counts = starts.dt.hour.value_counts().reindex(range(24), fill_value=0)
        ax.bar(counts.index, counts.to_numpy(), color="C0")
        ax.set_xticks(range(0, 24, 3))
        ax.set_xlabel(f"hour of day ({timezone})")
    else:
        counts = starts.dt.day_of_week.value_counts().reindex(range(7), fill_value=0)
        ax.bar(_WEEKDAYS, counts.to_numpy(), color="C0")
        ax.set_xlabel(f"weekday ({timezone})")
    ax.set_ylabel("sessions")
    ax.set_title(f"sessions per {by}")
    return _figure_of(ax)


def funnel(
    frame: pd.DataFrame, *, ax: Axes | None = None, steps: Sequence[str] | None = None
) -> Figure:
    """Share of sessions that reach each event type (``steps`` in funnel order).

    Without ``steps`` the types are ordered by how many sessions reach them.
    """
    _require(frame, ("SESSION_ID", "EVENT_TYPE"), "an events frame")
    reached = frame.groupby("EVENT_TYPE", sort=False)["SESSION_ID"].nunique()
    total = frame["SESSION_ID"].nunique()
    if steps is None:
        reached = reached.sort_values(ascending=False, kind="stable")
    else:
        unknown = sorted(set(steps) - set(reached.index))
        check(not unknown, "steps", unknown, f"event types of the frame: {list(reached.index)}")
        reached = reached.reindex(list(steps))
    share = reached.to_numpy(dtype=float) / total
    ax = _axes(ax)
    labels = [str(x) for x in reached.index]
    ax.barh(labels, share, color="C2")
    ax.invert_yaxis()  # first step on top
    for y, value in enumerate(share):
        ax.text(value, y, f" {value:.1%}", va="center", fontsize="small")
    ax.set_xlim(0, 1.15)
    ax.set_xlabel(f"share of {total} sessions")
    ax.set_title("funnel: sessions reaching each event type")
    return _figure_of(ax)


def popularity(frame: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Events per item against the item's popularity rank, on log-log axes (Zipf is a line)."""
    import numpy as np

    _require(frame, ("ITEM_ID",), "an events frame")
    counts = frame["ITEM_ID"].dropna().value_counts().to_numpy()
    if len(counts) == 0:
        raise ConfigError("frame", "no ITEM_ID", "events with an ITEM_ID (every one is null)")
    ax = _axes(ax)
    ax.loglog(np.arange(1, len(counts) + 1), counts, ".", color="C3", markersize=3)
    ax.set_xlabel("item rank")
    ax.set_ylabel("events")
    ax.set_title(f"item popularity ({len(counts)} items)")
    return _figure_of(ax)


def click_through(frame: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Click-through rate by slate position: clicks at each position per slate shown.

    Reads ``IMPRESSION`` (the slate) and the simulator's ground-truth ``position`` column
    (the clicked position, null when the slate was ignored).
    """
    import numpy as np

    _require(frame, ("IMPRESSION", "position"), "an events frame",
             hint="position is ground truth from personalize_sim.simulate")  # fmt: skip
    shown = frame["IMPRESSION"].map(lambda v: v is not None and not _is_na(v) and len(v) > 0)
    slates = frame.loc[shown.to_numpy(dtype=bool)]
    if slates.empty:
        raise ConfigError("frame", "no IMPRESSION", "events with an IMPRESSION (none has one)")
    size = int(slates["IMPRESSION"].map(len).max())
    clicked = slates["position"].dropna().astype("int64").to_numpy()
    ctr = np.bincount(clicked[clicked >= 0], minlength=size)[:size] / len(slates)
    ax = _axes(ax)
    ax.bar(np.arange(1, size + 1), ctr, color="C4")
    ax.set_xticks(np.arange(1, size + 1))
    ax.set_xlabel("slate position")
    ax.set_ylabel("click-through rate")
    ax.set_title(f"clicks by position ({len(slates)} slates)")
    return _figure_of(ax)


def attribution(frame: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Events by ``EVENT_ATTRIBUTION_SOURCE`` (events with none are shown as ``(none)``)."""
    _require(frame, ("EVENT_ATTRIBUTION_SOURCE",), "an events frame")
    counts = frame["EVENT_ATTRIBUTION_SOURCE"].astype("string").fillna(_NONE_LABEL).value_counts()
    ax = _axes(ax)
    ax.barh([str(x) for x in counts.index], counts.to_numpy(), color="C5")
    ax.invert_yaxis()
    ax.set_xlabel("events")
    ax.set_title("events by attribution source")
    return _figure_of(ax)


# ---------------------------------------------------------------------------------------------
# helpers


def _require(frame: Any, columns: Sequence[str], what: str, *, hint: str = "") -> None:
    """Raise a ConfigError naming the missing columns, or saying the frame is empty."""
    import pandas as pd

    instance(frame, "frame", pd.DataFrame, f"{what} (a pandas DataFrame)")
    missing = [c for c in columns if c not in frame.columns]
    check(
        not missing, "frame", frame,
        f"{what} with the columns {missing} too" + (f"; {hint}" if hint else ""),
    )  # fmt: skip
    check(not frame.empty, "frame", frame, f"{what} with rows to plot")


def _is_na(value: Any) -> bool:
    return isinstance(value, float) and value != value


def figure(figsize: tuple[float, float] = (6.4, 4.0), **kwargs: Any) -> Figure:
    """A new :class:`~matplotlib.figure.Figure` (constrained layout) that a notebook shows as
    a picture, for your own layouts of these plots; ``kwargs`` go to ``Figure``.

    >>> fig = figure(figsize=(8, 3))
    >>> left, right = fig.subplots(1, 2)
    >>> fig._repr_png_()[:4]
    b'\\x89PNG'
    """
    kwargs.setdefault("layout", "constrained")
    return _picture_figure_class()(figsize=figsize, **kwargs)


@functools.cache
def _picture_figure_class() -> type[Figure]:
    """A :class:`~matplotlib.figure.Figure` that IPython shows as a PNG picture.

    A bare ``Figure`` has no picture formatter until pyplot's inline backend is loaded, so a
    notebook shows it as ``<Figure size …>`` text. ``_repr_png_`` is IPython's hook for any
    object, in every front end; a formatter registered for ``Figure`` (pyplot inline) takes
    precedence over it, so a figure never shows twice. Defined on first use: matplotlib is
    imported only when a plot is drawn.
    """
    from matplotlib.figure import Figure

    class PictureFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()

    PictureFigure.__module__ = __name__
    PictureFigure.__qualname__ = "PictureFigure"
    return PictureFigure


def _axes(ax: Axes | None) -> Axes:
    return figure().add_subplot() if ax is None else ax


def _figure_of(ax: Axes) -> Figure:
    """The top-level figure of ``ax`` (through subfigures)."""
    from matplotlib.figure import Figure

    fig: Any = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


# ---------------------------------------------------------------------------------------------
# metric attribution (frames of personalize_sim.attribution: report.frame, report.counts,
# report.cloudwatch(), effects.frame)

_EXCLUSIONS = ("counted", "before_creation", "older_than_14_days", "after_now", "missing_value")


def attribution_windows(
    report_frame: pd.DataFrame, *, metric: str | None = None, ax: Axes | None = None
) -> Figure:
    """One metric's value per 15-minute window, one line per source (``report.frame``).

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
    """Each metric's total by source: ``report.frame`` (as the S3 report keeps sources) or
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
    value (``effects.frame``); the configured expectation as an error bar where known."""
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
            ax.errorbar(x[known] + 0.2, mid, yerr=[low, high], fmt="o", color="k",
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


# ---------------------------------------------------------------------------------------------
# realism: a real log against synthetic traffic (from ``simulation.realism_report``)


def realism(report: Any, *, fig: Figure | SubFigure | None = None) -> Figure:
    """One panel per row of a realism report, real against synthetic, titled with the
    distance and whether it passed: ECDFs for samples, bars for profiles and event
    types, the rank-frequency curve for popularity, and a real-vs-synthetic scatter of
    the funnel's transition probabilities."""
    names = list(_samples_of(report))
    columns = 3
    rows = max(1, -(-len(names) // columns))
    fig = fig if fig is not None else figure((12, 3.2 * rows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        realism_row(report, name, ax=ax)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    return _figure_of(axes[0])


def realism_row(report: Any, name: str, *, ax: Axes | None = None) -> Figure:
    """The panel of one row (``distribution``) of a realism report."""
    import numpy as np

    samples = _samples_of(report)
    check(name in samples, "name", name, f"a row of the report: {', '.join(samples)}")
    sample = samples[name]
    ax = _axes(ax)
    row = report.table.set_index("distribution").loc[name]
    if sample.kind == "ks":
        for values, label in ((sample.real, "real"), (sample.synthetic, "synthetic")):
            x = np.sort(np.asarray(values, dtype=float))
            ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=label)
        low = min(np.min(sample.real), np.min(sample.synthetic))
        if low > 0 and max(np.max(sample.real), np.max(sample.synthetic)) / low > 100:
            ax.set_xscale("log")
        ax.set_ylabel("share ≤ x")
    elif sample.kind == "rel":
        for shares, label in ((sample.real, "real"), (sample.synthetic, "synthetic")):
            ranks = np.arange(1, len(shares) + 1)
            ax.loglog(ranks[shares > 0], shares[shares > 0], label=label)
        ax.set_xlabel("item rank")
        ax.set_ylabel("share of events")
    elif name == "transitions":
        real = sample.real / np.maximum(sample.real.sum(axis=1, keepdims=True), 1)
        syn = sample.synthetic / np.maximum(sample.synthetic.sum(axis=1, keepdims=True), 1)
        ax.scatter(real.ravel(), syn.ravel(), s=12)
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
        ax.set_xlabel("real probability")
        ax.set_ylabel("synthetic probability")
    else:
        x = np.arange(len(sample.real))
        for offset, values, label in (
            (-0.2, sample.real, "real"),
            (0.2, sample.synthetic, "synthetic"),
        ):
            ax.bar(x + offset, values / max(values.sum(), 1), width=0.4, label=label)
        ax.set_xticks(x, sample.labels, fontsize=7)
        ax.set_ylabel("share")
    verdict = "pass" if row["passed"] else "FAIL"
    ax.set_title(
        f"{name}: {row['metric']} {row['distance']:.3f} ({verdict}, ≤ {row['tolerance']:g})",
        fontsize=9,
    )
    if name != "transitions":
        ax.legend(fontsize=7)
    return _figure_of(ax)


def _samples_of(report: Any) -> Any:
    samples = getattr(report, "samples", None)
    if samples is None or not hasattr(report, "table"):
        raise ConfigTypeError("report", report, "a RealismReport (simulation.realism_report)")
    return samples
