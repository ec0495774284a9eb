"""Emulator plumbing that the command line composes; not public API.

``personalize-sim serve`` runs :func:`serve` (the server in the foreground, until a
signal); :class:`TrackerServer` is the HTTP server itself, which :class:`LocalTracker`
wraps for Python users. Neither is in a public ``__all__`` or promised stable; the import
contracts in ``pyproject.toml`` name who may import this (docs/architecture.md).
"""

from __future__ import annotations

from ._process import serve
from ._server import TrackerServer

__all__ = ["TrackerServer", "serve"]  # for the command line, never for users
