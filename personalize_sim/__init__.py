"""Simulate, validate, stream and watch Amazon Personalize event traffic.

Importing the package is cheap and has no side effects: each public name is
loaded from its module on first use (PEP 562), so ``import personalize_sim``
pulls in neither pandas nor botocore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_getattr

__version__ = "0.1.0"

# public name -> module that defines it, grouped along the pipeline
_EXPORTS = {
    # errors and time
    "PersonalizeSimError": "errors",
    "ConfigError": "errors",
    "PayloadError": "errors",
    "DeliveryError": "errors",
    "EmulatorError": "errors",
    "SystemClock": "clock",
    "VirtualClock": "clock",
    # ① behavioural simulation
    "simulate": "simulate",
    "iter_simulate": "simulate",
    "SimulationConfig": "simulate",
    # ② payloads and bulk export
    "to_put_events": "payloads",
    "from_put_events": "payloads",
    "validate_events": "payloads",
    "to_bulk_csv": "export",
    "interactions_schema": "export",
    # ③ rate-controlled streaming
    "stream": "stream",
    "StreamHandle": "stream",
    # ④ local tracker emulator
    "LocalTracker": "tracker",
    # ⑥ watching: the live dashboard (plots: personalize_sim.plots)
    "Dashboard": "widgets",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .clock import SystemClock, VirtualClock
    from .errors import (
        ConfigError,
        DeliveryError,
        EmulatorError,
        PayloadError,
        PersonalizeSimError,
    )
    from .export import interactions_schema, to_bulk_csv
    from .payloads import from_put_events, to_put_events, validate_events
    from .simulate import SimulationConfig, iter_simulate, simulate
    from .stream import StreamHandle, stream
    from .tracker import LocalTracker
    from .widgets import Dashboard


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
