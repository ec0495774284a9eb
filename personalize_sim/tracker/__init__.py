"""④ The local tracker emulator: a real PutEvents endpoint for unmodified boto3 clients.

``_handler`` (pure request → response), ``_faults`` (token bucket, fault plan),
``_store`` (SQLite), ``_sigv4`` (signature check), ``_server`` (the only module
opening sockets), ``_local`` (:class:`LocalTracker`). ``personalize-sim serve`` runs it.
"""

from __future__ import annotations

from ._handler import TrackerConfig
from ._local import LocalTracker
from ._server import TrackerServer

__all__ = ["LocalTracker", "TrackerConfig", "TrackerServer"]
