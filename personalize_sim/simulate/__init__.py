"""Behavioural simulation: a config and a seed in, an events DataFrame out.

Kept light on purpose: numpy and pandas are imported by the modules that use them,
so ``import personalize_sim.simulate`` (the CLI parser does) stays cheap.

>>> from personalize_sim import simulate
>>> frame = simulate(users=200, days=1, rng=7)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__all__ = ["SimulationConfig", "iter_simulate", "simulate", "write_parquet"]

_EXPORTS = {
    "SimulationConfig": "config",
    "simulate": "engine",
    "iter_simulate": "engine",
    "write_parquet": "engine",
}

if TYPE_CHECKING:
    from .config import SimulationConfig
    from .engine import iter_simulate, simulate, write_parquet


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


class _CallableModule(types.ModuleType):
    """Lets ``personalize_sim.simulate(...)`` work even when it names this package.

    The public function ``personalize_sim.simulate`` shares its name with this
    subpackage, and importing any ``personalize_sim.simulate.*`` module makes Python
    bind the package over the function on ``personalize_sim``; calling the package
    forwards to the function, so both spellings behave the same.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .engine import simulate

        return simulate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
