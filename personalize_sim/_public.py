"""Exported classes show the path a user imports them from.

httpx does the same: a class defined in a private module (``streaming/_handle.py``)
and exported by its package reads ``personalize_sim.streaming.StreamHandle`` in reprs,
``help()`` and tracebacks, and pickles by that path, which is the one the project keeps
stable. Its methods move with it, so that doctest finds their examples under the class
(they run with the public package's names, as a user's copy would). Functions keep
their own module: their reprs show no path, and their examples run where they are.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["expose"]


def expose(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class in ``names`` (and of its methods) to ``module``
    when it was defined in one of ``module``'s private submodules (``module._x``…)."""
    for name in names:
        cls = namespace[name]
        if inspect.isclass(cls) and cls.__module__.startswith(module + "._"):
            cls.__module__ = module
            for member in vars(cls).values():
                for function in _functions(member):
                    function.__module__ = module


def _functions(member: Any) -> list[Any]:
    if inspect.isfunction(member):
        return [member]
    if isinstance(member, classmethod | staticmethod):
        return [member.__func__]
    if isinstance(member, property):
        return [f for f in (member.fget, member.fset, member.fdel) if f is not None]
    return []
