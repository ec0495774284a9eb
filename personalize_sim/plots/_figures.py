"""Figures that show as pictures, and the helpers every plot shares."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._checks import check, instance

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["figure"]


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
