"""Plot plumbing that the live dashboard shares; not public API.

:mod:`personalize_sim.widgets` redraws the delivery charts from the same binned series
and drawing functions as :func:`personalize_sim.plots.delivery`. None of this is in a
public ``__all__`` or promised stable; the import contracts in ``pyproject.toml`` name who
may import it (docs/architecture.md).
"""

from __future__ import annotations

from ._delivery import Series, default_bin_width, draw_errors, draw_latency, draw_rate, series

__all__ = [  # for the dashboard, never for users
    "Series",
    "default_bin_width",
    "draw_errors",
    "draw_latency",
    "draw_rate",
    "series",
]
