"""Streaming plumbing that the project's other layers share; not public API.

The scale-out extras (``scale.locust``, ``scale.dask``) send with Locust's own HTTP client
or through per-partition checkpoints, so they need a request's wire form, the reading of
an error answer and the checkpoint file. None of this is in a public ``__all__`` or
promised stable; the import contracts in ``pyproject.toml`` name who may import it
(docs/architecture.md).
"""

from __future__ import annotations

from ._checkpoint import Checkpoint
from ._wire import Prepared, error_fields

__all__ = ["Checkpoint", "Prepared", "error_fields"]  # for the layers named above
