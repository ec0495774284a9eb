"""The closed loop's metrics per day, one line per arm (``closed_loop.loop_metrics``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._figures import _figure_of, _require, figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure, SubFigure

__all__ = ["loop"]

_PANELS = (
    ("GINI", "Gini of impressions", "concentration (0 = even)"),
    ("COVERAGE", "catalog coverage", "share of items shown"),
    ("CTR", "click-through by recommender", "slates clicked / answered"),
    ("NEW_ITEMS_SHOWN", "new items ever recommended", "share of new items"),
)


def loop(metrics: pd.DataFrame, *, fig: Figure | SubFigure | None = None) -> Figure:
    """Four panels over simulated days, one line per arm: popularity concentration,
    coverage, click-through and the share of new items ever shown.

    >>> import pandas as pd
    >>> metrics = pd.DataFrame({"DAY": [0, 1, 0, 1], "ARM": ["A", "A", "B", "B"],
    ...     "GINI": [.5, .6, .2, .2], "COVERAGE": [.3, .2, .9, .9], "CTR": [.4, .5, .1, .1],
    ...     "NEW_ITEMS_SHOWN": [float("nan"), 0.0, float("nan"), 1.0]})
    >>> [ax.get_title().split()[0] for ax in loop(metrics).axes]
    ['Gini', 'catalog', 'click-through', 'new']
    """
    _require(
        metrics,
        ("DAY", "ARM", *(column for column, _, _ in _PANELS)),
        "a loop_metrics frame",
        hint="make it with personalize_sim.closed_loop.loop_metrics(result)",
    )
    fig = figure(figsize=(10, 6)) if fig is None else fig
    axes: Any = fig.subplots(2, 2, sharex=True)
    for ax, (column, title, label) in zip(axes.flat, _PANELS, strict=True):
        for arm, rows in metrics.groupby("ARM", sort=True):
            ax.plot(rows["DAY"], rows[column], marker="o", label=str(arm))
        ax.set_title(title)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
    for ax in axes[1]:
        ax.set_xlabel("simulated day")
    axes.flat[0].legend(fontsize="small", title="arm")
    return _figure_of(axes.flat[0])
