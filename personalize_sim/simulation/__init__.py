"""① Behavioural simulation: a config and a seed in, an events DataFrame out.

>>> from personalize_sim.simulation import simulate
>>> frame = simulate("retail", users=50, days=1, rng=7, start="2026-01-05T00:00:00Z")
>>> frame["SESSION_ID"].is_monotonic_increasing or frame["TIMESTAMP"].is_monotonic_increasing
True
"""

from __future__ import annotations

from ._arrivals import GapConfig, TimeConfig
from ._catalog import CatalogConfig, CategoryConfig
from ._config import SimulationConfig, preset_names
from ._exposure import ArmConfig, ExposureConfig
from ._funnel import EXIT, EventTypeConfig, FunnelConfig
from ._population import PersonaConfig, PopulationConfig
from ._recommenders import SlateContext
from ._simulate import iter_simulate, simulate, write_parquet
from ._values import PropertyConfig

__all__ = [
    "EXIT",
    "ArmConfig",
    "CatalogConfig",
    "CategoryConfig",
    "EventTypeConfig",
    "ExposureConfig",
    "FunnelConfig",
    "GapConfig",
    "PersonaConfig",
    "PopulationConfig",
    "PropertyConfig",
    "SimulationConfig",
    "SlateContext",
    "TimeConfig",
    "iter_simulate",
    "preset_names",
    "simulate",
    "write_parquet",
]
