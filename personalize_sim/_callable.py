"""Packages that share their name with the function they export.

``personalize_sim.simulate`` and ``personalize_sim.stream`` are both a public
function and a subpackage. Importing any module of the subpackage makes Python
bind the package over the function on ``personalize_sim``, so the package
itself forwards calls to the function: both spellings behave the same.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


def make_callable(package: str, module: str, function: str) -> None:
    """Calling the already-imported ``package`` calls ``module.function``."""

    class CallablePackage(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module(module), function)(*args, **kwargs)

    sys.modules[package].__class__ = CallablePackage
