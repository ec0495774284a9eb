"""Exported names show the path a user imports them from.

httpx does the same: a class defined in a private module (``streaming/_handle.py``)
and exported by its package reads ``personalize_sim.streaming.StreamHandle`` in reprs,
``help()`` and tracebacks, and pickles by that path, which is the one the project keeps
stable.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["expose"]


def expose(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class and function in ``names`` to ``module`` when it
    was defined in one of ``module``'s private submodules (``module._x``, ``module._x.y``)."""
    for name in names:
        obj = namespace[name]
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        defined_in = getattr(obj, "__module__", "") or ""
        if defined_in.startswith(module + "._"):
            obj.__module__ = module
