"""The write operations of personalize-events as botocore's model shapes them: which list a
request carries (``eventList``, ``items``…), the record operations' member and key, and
which operation a request dict is. Derived from the model by :mod:`personalize_sim.limits`,
never typed by hand; shared by the payloads, the stream and the emulator.

>>> operation_of({"trackingId": "t", "actionInteractions": []})
'PutActionInteractions'
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .limits import operation_limits

__all__ = [
    "RECORD_OPERATIONS",
    "WRITE_OPERATIONS",
    "RecordOperation",
    "operation_of",
    "record_operation",
    "request_list",
]


@dataclass(frozen=True)
class RecordOperation:
    """PutItems, PutUsers or PutActions, as the model shapes it: ``{datasetArn, <member>:
    [{<key>, properties}]}``, writing to the dataset of type ``dataset_type``."""

    name: str
    member: str  # "items"
    key: str  # "itemId"
    dataset_type: str  # "ITEMS"

    @property
    def id_column(self) -> str:
        """The dataset's id field: ``itemId`` -> ``ITEM_ID``."""
        return self.key.removesuffix("Id").upper() + "_ID"


#: the operations that write records of a dataset (not events)
RECORD_OPERATIONS = ("PutItems", "PutUsers", "PutActions")


@functools.cache
def record_operation(name: str) -> RecordOperation:
    """The list member and record key of a record operation, read from the model.

    >>> record_operation("PutActions")
    RecordOperation(name='PutActions', member='actions', key='actionId', dataset_type='ACTIONS')
    """
    if name not in RECORD_OPERATIONS:
        raise ConfigError("operation", name, f"one of {', '.join(RECORD_OPERATIONS)}")
    ops = operation_limits(name)
    (member,) = [m for m in ops.members[""] if ops.fields[m].type == "list"]
    (key,) = [m for m in ops.members[member + "[]"] if ops.fields[f"{member}[].{m}"].required]
    return RecordOperation(name, member, key, member.upper())


#: every write operation of personalize-events, the order the routes are listed in
WRITE_OPERATIONS = ("PutEvents", "PutItems", "PutUsers", "PutActions", "PutActionInteractions")


@functools.cache
def request_list(operation: str) -> str:
    """The member holding the records of a write request, read from the model (``eventList``,
    ``items``, ``users``, ``actions``, ``actionInteractions``)."""
    ops = operation_limits(operation)
    (member,) = [m for m in ops.members[""] if ops.fields[m].type == "list"]
    return member


def operation_of(request: Mapping[str, Any]) -> str:
    """The write operation whose request ``request`` is, by the list it carries."""
    for operation in WRITE_OPERATIONS:
        if request_list(operation) in request:
            return operation
    lists = ", ".join(request_list(op) for op in WRITE_OPERATIONS)
    raise ConfigError("request", request, f"a request dict holding one of {lists}")
