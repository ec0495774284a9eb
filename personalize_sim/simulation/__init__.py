"""① Behavioural simulation: a config and a seed in, an events DataFrame out.

>>> from personalize_sim.simulation import simulate
>>> frame = simulate("retail", users=50, days=1, rng=7, start="2026-01-05T00:00:00Z")
>>> frame["SESSION_ID"].is_monotonic_increasing or frame["TIMESTAMP"].is_monotonic_increasing
True

How it is laid out (private modules; the names a user needs are exported here)::

    _simulate      simulate, iter_simulate, write_parquet: check arguments, run, build frames
    _config        SimulationConfig: the sections joined, YAML and dict, replace, presets
    _engine        Run: random streams, window, block layout; Run.block runs the stages
    _scheduler     blocks generated ahead in threads, spill-over carried, chunks cut
    _partitions    the same run cut into partitions of blocks, for parallel engines (Dask)
    the stages of a block, each beside its section's config:
      _arrivals      TimeConfig, GapConfig: when sessions start
      _population    PopulationConfig, PersonaConfig: who, anonymous or not, logins
      _values        PropertyConfig: session and event properties, EVENT_VALUE
      _funnel        FunnelConfig, EventTypeConfig, EXIT: event types, timestamps
      _catalog       CatalogConfig, CategoryConfig: items, drift by day, organic choice
      _exposure      ExposureConfig, ArmConfig: slates in front of picks, clicks
      _recommenders  SlateContext: what fills a slate
      _lift          an arm's true effect: events that exist only because of a click
    the closed loop (users ask a recommender that learns from their events):
      _loop          LoopConfig, closed_loop, LoopResult: sessions in event-time order
      _loop_sources  OnlineArms (models in-process), RuntimeArms (a personalize-runtime client)
      _loop_metrics  loop_metrics: Gini of impressions, coverage, CTR, new items shown
    _identity      who issued each RECOMMENDATION_ID (name, ARN); the items dataset
    _batch         per-event arrays of a block or a chunk
    _columns       Arrow and pandas columns of a batch (the frame contract)
    _ids           SESSION_ID / RECOMMENDATION_ID as fixed-width bytes
    _config_checks the checks only configs need (names, probability vectors)
    fit to a real log:
      _traffic       TrafficConfig: sessions planned per user from fitted tables
      _quantiles     empirical distributions as percentile tables
      _logs          a log read into arrays and split into sessions
      _fit           fit: the config estimated from a log (with _fit_time, _fit_catalog)
      _realism       realism_report, RealismReport: distances real vs synthetic
      _distances     KS, total variation, Jensen–Shannon (numpy)
"""

from __future__ import annotations

from ._arrivals import GapConfig, TimeConfig
from ._catalog import CatalogConfig, CategoryConfig
from ._config import SimulationConfig, preset_names
from ._exposure import ArmConfig, ExposureConfig
from ._fit import fit
from ._funnel import EXIT, EventTypeConfig, FunnelConfig
from ._identity import catalog_items, recommendation_sources, recommender_table
from ._loop import LoopConfig, LoopEvent, LoopResult, SlateFailedError, closed_loop
from ._loop_metrics import gini, loop_metrics
from ._loop_sources import OnlineArms, RuntimeArms, loop_requests
from ._partitions import (
    PartOutput,
    PartPlan,
    assemble_part,
    empty_part,
    generate_part,
    plan_parts,
)
from ._population import PersonaConfig, PopulationConfig
from ._realism import RealismReport, realism_report
from ._recommenders import SlateContext
from ._simulate import iter_simulate, simulate, write_parquet
from ._traffic import TrafficConfig
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
    "LoopConfig",
    "LoopEvent",
    "LoopResult",
    "OnlineArms",
    "PartOutput",
    "PartPlan",
    "PersonaConfig",
    "PopulationConfig",
    "PropertyConfig",
    "RealismReport",
    "RuntimeArms",
    "SimulationConfig",
    "SlateContext",
    "SlateFailedError",
    "TimeConfig",
    "TrafficConfig",
    "assemble_part",
    "catalog_items",
    "closed_loop",
    "empty_part",
    "fit",
    "generate_part",
    "gini",
    "iter_simulate",
    "loop_metrics",
    "loop_requests",
    "plan_parts",
    "preset_names",
    "realism_report",
    "recommendation_sources",
    "recommender_table",
    "simulate",
    "write_parquet",
]
