"""Simulate, validate, stream and watch Amazon Personalize event traffic.

The pipeline, one package per stage::

    simulation ──▶ payloads ──▶ streaming ──▶ tracker
     (events)      (requests)    (delivery)    (the local emulator)

the analyses built on it: ``calibration`` (fit to a real log, realism), ``attribution``
(metric attribution beside the true effect), ``closed_loop`` (simulated users asking a
recommender that learns); and the views: ``plots`` (matplotlib) and ``widgets`` (the
live dashboard). The layers and what each may import: docs/architecture.md.
Importing the package is cheap and has no side effects: each public name is loaded
from its module on first use (PEP 562), so ``import personalize_sim`` pulls in neither
pandas nor botocore.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it, grouped along the pipeline: the calls most work
# starts with; everything else is one import away, in the package of its stage
_EXPORTS = {
    # errors
    "PersonalizeSimError": ".errors",
    "ConfigError": ".errors",
    "PayloadError": ".errors",
    # ① behavioural simulation, and fitting it to a real log
    "simulate": ".simulation",
    "SimulationConfig": ".simulation",
    "fit": ".calibration",
    "realism_report": ".calibration",
    # ② payloads
    "to_put_events": ".payloads",
    "validate_events": ".payloads",
    # ③ rate-controlled streaming
    "stream": "._api",
    # ④ local tracker emulator
    "LocalTracker": ".tracker",
    # ⑤ metric attribution
    "MetricAttribution": ".attribution",
    "attribution_report": ".attribution",
    # ⑥ watching: the live dashboard (plots: personalize_sim.plots)
    "Dashboard": ".widgets",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from ._api import stream
    from .attribution import MetricAttribution, attribution_report
    from .calibration import fit, realism_report
    from .errors import ConfigError, PayloadError, PersonalizeSimError
    from .payloads import to_put_events, validate_events
    from .simulation import SimulationConfig, simulate
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
