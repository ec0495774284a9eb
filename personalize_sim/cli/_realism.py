"""``personalize-sim realism REAL SYNTHETIC``: the realism report of two logs (in ``_fit``)."""

from __future__ import annotations

from ._fit import add_realism_arguments as add_arguments
from ._fit import run_realism as run

__all__ = ["add_arguments", "run"]
