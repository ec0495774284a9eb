"""Delivery plots: rate, latency and errors of a stream, from its delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._checks import one_of, positive
from ..errors import ConfigTypeError
from ._figures import _axes, _figure_of, _require, figure

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = [
    "Series", "default_bin_width", "delivery", "draw_errors", "draw_latency", "draw_rate",
    "error_codes", "latency", "rate", "series",
]  # fmt: skip

#: the delivery-log columns each delivery plot reads (see personalize_sim.streaming.log)
_RATE_COLUMNS = ("attempt", "events", "sent", "target_rate")
_LATENCY_COLUMNS = ("sent", "intended", "finished", "outcome")
_ERROR_COLUMNS = ("sent", "error_code")


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


def default_bin_width(duration: float, sends: int | None = None) -> float:
    """A round bin width giving at most 60 bins over ``duration`` seconds.

    With ``sends`` (first attempts over that time), bins are also wide enough to hold about
    ten sends on average, so a rate per bin is not mostly rounding noise.
    """
    for width in _BIN_WIDTHS:
        enough = sends is None or duration <= 0 or sends * width / duration >= _SENDS_PER_BIN
        if duration / width <= _MAX_BINS and enough:
            return width
    return max(duration / _MAX_BINS, _BIN_WIDTHS[-1])


def series(log: Any, *, unit: str | None = None, bin_width: float | None = None) -> Series:
    """The binned :class:`Series` of a delivery log (frame, ``DeliveryLog`` or handle).

    ``bin_width`` is the bin width in seconds (default: a round width giving at most 60 bins).
    """
    import numpy as np

    frame, unit = _delivery_frame(log, unit, _RATE_COLUMNS + _LATENCY_COLUMNS + _ERROR_COLUMNS)
    sent = frame["sent"].to_numpy(dtype="float64")
    finished = frame["finished"].to_numpy(dtype="float64")
    first = frame["attempt"].to_numpy() == 1
    sends = np.sort(sent[first])
    gap = float(np.median(np.diff(sends))) if len(sends) > 1 else 0.0
    end = float(max(sent.max(), finished.max()))
    if bin_width is None:
        bin_width = default_bin_width(end - float(sent.min()), int(first.sum()))
    else:
        bin_width = positive(bin_width, "bin_width")
    # Edges sit half a send interval before the first send: a paced stream's sends then
    # fall mid-bin, not on an edge where a few microseconds of lag would flip their bin.
    half = min(gap, bin_width) / 2
    start = float(min(sent.min(), finished.min())) - half
    n = int((end - start) // bin_width) + 1
    edges = start + bin_width * np.arange(n + 1)
    b_sent = np.minimum(((sent - start) // bin_width).astype("int64"), n - 1)
    b_done = np.minimum(((finished - start) // bin_width).astype("int64"), n - 1)
    # the bin holding the last send is only as wide as the time the stream was sending
    width = np.full(n, bin_width)
    last = min(int((sends[-1] - start) // bin_width), n - 1) if len(sends) else n - 1
    if len(sends) and sends[-1] + half > edges[last]:
        width[last] = min(bin_width, sends[-1] + half - edges[last])

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
    bin_width: float | None = None,
) -> Figure:
    """Rate, latency and errors of a stream: three panels stacked on ``fig`` (a figure or a
    subfigure; default a new one)."""
    s = series(log, unit=unit, bin_width=bin_width)
    fig = fig if fig is not None else figure((9, 8))
    axes = fig.subplots(3, 1, sharex=True)
    draw_rate(axes[0], s)
    draw_latency(axes[1], s)
    draw_errors(axes[2], s)
    for ax in axes[:2]:
        ax.set_xlabel("")
    return _figure_of(axes[0])


def rate(
    log: Any, *, ax: Axes | None = None, unit: str | None = None, bin_width: float | None = None
) -> Figure:
    """Target vs achieved send rate per second (first attempts, in the stream's unit)."""
    ax = _axes(ax)
    draw_rate(ax, series(log, unit=unit, bin_width=bin_width))
    return _figure_of(ax)


def latency(log: Any, *, ax: Axes | None = None, bin_width: float | None = None) -> Figure:
    """Latency percentiles over time: from the intended send time, and from the actual send."""
    ax = _axes(ax)
    draw_latency(ax, series(log, bin_width=bin_width))
    return _figure_of(ax)


def error_codes(log: Any, *, ax: Axes | None = None, bin_width: float | None = None) -> Figure:
    """Failed attempts per second, stacked by error code."""
    ax = _axes(ax)
    draw_errors(ax, series(log, bin_width=bin_width))
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
