"""Streaming plumbing that the project's other layers share; not public API.

The one-call :func:`personalize_sim.stream` and the dashboard name the stream's types
(its schedule, listeners, delivery log); the command line picks a transport by name;
the scale-out extras (``scale.locust``, ``scale.dask``) send with Locust's own HTTP
client or through per-partition checkpoints, so they need a request's wire form, the
reading of an error answer and the checkpoint file. None of this is in a public
``__all__`` or promised stable; the import contracts in ``pyproject.toml`` name who may
import it (docs/architecture.md).
"""

from __future__ import annotations

from ._checkpoint import Checkpoint
from ._handle import Listener
from ._log import DeliveryLog
from ._schedules import Schedule
from ._summary import RunSettings
from ._transports import fast_target
from ._wire import Prepared, error_fields

__all__ = [  # for the layers named above, never for users
    "Checkpoint",
    "DeliveryLog",
    "Listener",
    "Prepared",
    "RunSettings",
    "Schedule",
    "error_fields",
    "fast_target",
]
