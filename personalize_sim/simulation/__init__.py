"""① Behavioural simulation: a config and a seed in, an events DataFrame out.

>>> from personalize_sim.simulation import simulate
>>> frame = simulate("retail", users=50, days=1, rng=7, start="2026-01-05T00:00:00Z")
>>> frame["SESSION_ID"].is_monotonic_increasing or frame["TIMESTAMP"].is_monotonic_increasing
True

How it is laid out (private modules; the names a user needs are exported here, the
plumbing other layers share in :mod:`personalize_sim.simulation.internal`)::

    _simulate      simulate, iter_simulate, write_parquet: check arguments, run, build frames
    _config        SimulationConfig: the sections joined, YAML and dict, replace, presets
    _engine        Run: random streams, window, block layout; Run.block runs the stages
    _scheduler     blocks generated ahead in threads, spill-over carried, chunks cut
    _partitions    the same run cut into partitions of blocks, for parallel engines (Dask)
    the stages of a block, each beside its section's config:
      _arrivals      TimeConfig, GapConfig: when sessions start
      _traffic       TrafficConfig: sessions planned per user from fitted tables
      _population    PopulationConfig, PersonaConfig: who, anonymous or not, logins
      _values        PropertyConfig: session and event properties, EVENT_VALUE
      _funnel        FunnelConfig, EventTypeConfig, EXIT: event types, timestamps
      _catalog       CatalogConfig, CategoryConfig: items, drift by day, organic choice
      _exposure      ExposureConfig, ArmConfig: slates in front of picks, clicks
      _recommenders  SlateContext: what fills a slate
      _lift          an arm's true effect: events that exist only because of a click
    _datasets      simulate_datasets: items, users, actions, action interactions beside the events
    _actions       ActionsConfig, ActionConfig: actions and the rule users follow when shown one
    _identity      who issued each RECOMMENDATION_ID (name, ARN); the items dataset
    _batch         per-event arrays of a block or a chunk
    _columns       Arrow and pandas columns of a batch (the frame contract)
    _ids           SESSION_ID / RECOMMENDATION_ID as fixed-width bytes
    _quantiles     empirical distributions as percentile tables
    _config_checks the checks only configs need (names, probability vectors)

Fitting a config to a real log is :mod:`personalize_sim.calibration`; simulated users
against a recommender that learns, :mod:`personalize_sim.closed_loop`.
"""

from __future__ import annotations

from .._public import expose
from ._actions import ActionConfig, ActionsConfig
from ._arrivals import GapConfig, TimeConfig
from ._catalog import CatalogConfig, CategoryConfig
from ._config import SimulationConfig, preset_names
from ._datasets import DatasetGroup, simulate_datasets
from ._exposure import ArmConfig, ExposureConfig
from ._funnel import EXIT, EventTypeConfig, FunnelConfig
from ._identity import catalog_items
from ._population import PersonaConfig, PopulationConfig
from ._recommenders import SlateContext
from ._simulate import iter_simulate, simulate, write_parquet
from ._traffic import TrafficConfig
from ._values import PropertyConfig

__all__ = [
    "EXIT",
    "ActionConfig",
    "ActionsConfig",
    "ArmConfig",
    "CatalogConfig",
    "CategoryConfig",
    "DatasetGroup",
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
    "TrafficConfig",
    "catalog_items",
    "iter_simulate",
    "preset_names",
    "simulate",
    "simulate_datasets",
    "write_parquet",
]

expose(__name__, globals(), __all__)
