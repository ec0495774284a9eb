"""Behavioural simulation: a config and a seed in, an events DataFrame out.

Kept light on purpose: numpy and pandas are imported by the modules that use them,
so ``import personalize_sim.simulate`` (the CLI parser does) stays cheap.

>>> from personalize_sim import simulate
>>> frame = simulate(users=200, days=1, rng=7)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr, make_callable

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


__getattr__ = lazy_getattr(__name__, _EXPORTS)


make_callable(__name__, f"{__name__}.engine", "simulate")  # see personalize_sim._lazy
