"""Simulation plots: sessions, funnel, popularity, click-through and sources of an events
frame (with the simulator's ground truth)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._checks import check, one_of
from ..errors import ConfigError
from ._figures import _axes, _figure_of, _is_na, _require, figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["attribution_sources", "click_through", "funnel", "popularity", "sessions", "traffic"]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_NONE_LABEL = "(none)"


def traffic(
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
    attribution_sources(frame, ax=grid[2, 1])
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


def attribution_sources(frame: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Events by ``EVENT_ATTRIBUTION_SOURCE`` (events with none are shown as ``(none)``)."""
    _require(frame, ("EVENT_ATTRIBUTION_SOURCE",), "an events frame")
    counts = frame["EVENT_ATTRIBUTION_SOURCE"].astype("string").fillna(_NONE_LABEL).value_counts()
    ax = _axes(ax)
    ax.barh([str(x) for x in counts.index], counts.to_numpy(), color="C5")
    ax.invert_yaxis()
    ax.set_xlabel("events")
    ax.set_title("events by attribution source")
    return _figure_of(ax)
