"""Simulate, validate, stream and watch Amazon Personalize event traffic.

The pipeline, one package per stage::

    simulation ──▶ payloads ──▶ streaming ──▶ tracker
     (events)      (requests)    (delivery)    (the local emulator)

and the views of it: ``plots`` (matplotlib) and ``widgets`` (the live dashboard).
Importing the package is cheap and has no side effects: each public name is loaded
from its module on first use (PEP 562), so ``import personalize_sim`` pulls in neither
pandas nor botocore.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it, grouped along the pipeline
_EXPORTS = {
    # errors and time
    "PersonalizeSimError": ".errors",
    "ConfigError": ".errors",
    "PayloadError": ".errors",
    "DeliveryError": ".errors",
    "EmulatorError": ".errors",
    "SystemClock": ".clock",
    "VirtualClock": ".clock",
    # ① behavioural simulation
    "simulate": ".simulation",
    "iter_simulate": ".simulation",
    "SimulationConfig": ".simulation",
    "fit": ".calibration",
    "realism_report": ".calibration",
    # ② payloads and bulk export
    "to_put_events": ".payloads",
    "from_put_events": ".payloads",
    "validate_events": ".payloads",
    "to_bulk_csv": ".payloads",
    "interactions_schema": ".payloads",
    # ③ rate-controlled streaming
    "stream": "._api",
    "StreamHandle": ".streaming",
    # ④ local tracker emulator
    "LocalTracker": ".tracker",
    # ⑤ metric attribution: the report, the true effects, the scenarios
    "MetricAttribution": ".attribution",
    "attribution_report": ".attribution",
    "AttributionReport": ".attribution",
    "true_effects": ".attribution",
    "counterfactual_runs": ".attribution",
    "EffectReport": ".attribution",
    "scenario": ".attribution",
    # ⑥ watching: the live dashboard (plots: personalize_sim.plots)
    "Dashboard": ".widgets",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from ._api import stream
    from .attribution import (
        AttributionReport,
        EffectReport,
        MetricAttribution,
        attribution_report,
        counterfactual_runs,
        scenario,
        true_effects,
    )
    from .calibration import fit, realism_report
    from .clock import SystemClock, VirtualClock
    from .errors import (
        ConfigError,
        DeliveryError,
        EmulatorError,
        PayloadError,
        PersonalizeSimError,
    )
    from .payloads import (
        from_put_events,
        interactions_schema,
        to_bulk_csv,
        to_put_events,
        validate_events,
    )
    from .simulation import SimulationConfig, iter_simulate, simulate
    from .streaming import StreamHandle
    from .tracker import LocalTracker
    from .widgets import Dashboard


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
