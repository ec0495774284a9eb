"""② Events DataFrame ⇄ PutEvents requests, validated against every limit; bulk-import CSV."""

from __future__ import annotations

from ._bulk import interactions_schema, to_bulk_csv
from ._convert import PROBLEM_COLUMNS, TimeUnit, from_put_events, to_put_events, validate_events

__all__ = [
    "PROBLEM_COLUMNS",
    "TimeUnit",
    "from_put_events",
    "interactions_schema",
    "to_bulk_csv",
    "to_put_events",
    "validate_events",
]
