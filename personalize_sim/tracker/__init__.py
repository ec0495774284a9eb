"""④ The local tracker emulator: a real PutEvents endpoint for unmodified boto3 clients.

``handler`` (pure request → response), ``faults`` (token bucket, fault plan),
``store`` (SQLite), ``sigv4`` (signature check), ``server`` (the only module
opening sockets), ``local`` (:class:`LocalTracker`), ``cli`` (``personalize-sim serve``).
Importing this package is cheap: it loads ``local``, which defers uvicorn,
boto3 and pandas to first use.
"""

from __future__ import annotations

from .local import LocalTracker

__all__ = ["LocalTracker"]
