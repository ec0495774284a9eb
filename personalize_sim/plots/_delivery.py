"""Delivery plots: rate, latency and errors of a stream, from its delivery log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._figures import _axes, _figure_of, figure
from ._series import Series, default_bin_width, series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = [
    "Series", "default_bin_width", "delivery", "draw_errors", "draw_latency", "draw_rate",
    "error_codes", "latency", "rate", "series",
]  # fmt: skip


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
    """Target vs achieved send rate per second (first attempts, in the stream's unit; each
    send spread over the interval to the next, so an exact schedule draws a flat line)."""
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


def draw_rate(ax: Axes, s: Series, *, legend: str = "beside") -> None:
    """Draw target vs achieved rate of ``s`` on ``ax`` (used by :func:`rate` and the dashboard);
    ``legend`` is ``"beside"`` the axes or ``"below"`` the figure (a narrow one)."""
    import numpy as np

    ax.stairs(s.achieved, s.edges, label="achieved", color="C0", linewidth=1.5, baseline=None)
    ax.stairs(s.target, s.edges, label="target", color="C1", linestyle="--", baseline=None)
    ax.set_ylabel(f"{s.unit}/s")
    ax.set_xlabel("seconds since start")
    ax.set_title("send rate: target vs achieved")
    top = np.concatenate([s.achieved, s.target])
    top = top[np.isfinite(top)]
    # headroom: a line at the target must not sit on the frame, where it cannot be seen
    ax.set_ylim(0, top.max() * 1.15 if len(top) and top.max() > 0 else None)
    _legend(ax, legend)


def draw_latency(ax: Axes, s: Series, *, legend: str = "beside") -> None:
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
    ax.set_title("latency percentiles")
    values = np.concatenate([*s.intended.values(), *s.service.values()])
    finite = values[np.isfinite(values)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 50:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    if len(finite):
        _legend(ax, legend)
    ax.set_xlim(s.edges[0], s.edges[-1])


def draw_errors(ax: Axes, s: Series, *, legend: str = "beside") -> None:
    """Draw failed attempts per second of ``s`` on ``ax``, stacked by error code."""
    import numpy as np

    bottom = np.zeros(len(s.edges) - 1)
    for i, (code, counts) in enumerate(s.errors.items()):
        ax.stairs(bottom + counts, s.edges, baseline=bottom, fill=True, label=code,
                  color=f"C{(i + 3) % 10}")  # fmt: skip
        bottom = bottom + counts
    if s.errors:
        _legend(ax, legend)
    else:
        ax.text(0.5, 0.5, "no errors", transform=ax.transAxes, ha="center", va="center",
                color="0.4")  # fmt: skip
    ax.set_xlim(s.edges[0], s.edges[-1])
    ax.set_ylim(bottom=0)
    ax.set_ylabel("failed attempts/s")
    ax.set_xlabel("seconds since start")
    ax.set_title("errors by code")


def _legend(ax: Axes, where: str) -> None:
    """The legend right of the axes, or below the figure in rows (its constrained layout
    makes room for either): never over the data, never off the canvas."""
    if where == "beside":
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)
        return
    handles, labels = ax.get_legend_handles_labels()
    ax.figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3),
                     fontsize="small", frameon=False)  # fmt: skip
