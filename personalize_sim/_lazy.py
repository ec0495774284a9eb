"""Package plumbing: names loaded on first use, and packages callable like their function.

``lazy_getattr`` gives a package a PEP 562 ``__getattr__`` that imports each public
name from its module only when asked, so importing the package stays cheap.

``personalize_sim.simulate`` and ``personalize_sim.stream`` are both a public
function and a subpackage. Importing any module of the subpackage makes Python
bind the package over the function on ``personalize_sim``, so ``make_callable``
lets the package forward calls to the function: both spellings behave the same.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` loading ``name`` from ``package.<exports[name]>``, once."""

    def load(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    return load


def make_callable(package: str, module: str, function: str) -> None:
    """Calling the already-imported ``package`` calls ``module.function``."""

    class CallablePackage(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module(module), function)(*args, **kwargs)

    sys.modules[package].__class__ = CallablePackage
