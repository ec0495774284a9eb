"""Payload plumbing that the stream and the command line share; not public API.

``dataset_type`` tells which dataset a frame holds (the stream picks the operation by it),
``dataset_arn`` names a dataset of a group (``Conversion(dataset_group_arn=…)``). None of
this is in a public ``__all__``; the import contracts in ``pyproject.toml`` name who may
import it (docs/architecture.md).
"""

from __future__ import annotations

from ._bulk_datasets import dataset_schema
from ._datasets import DATASET_OPERATIONS, dataset_arn, dataset_type

__all__ = [  # for the layers named above, never for users
    "DATASET_OPERATIONS",
    "dataset_arn",
    "dataset_schema",
    "dataset_type",
]
