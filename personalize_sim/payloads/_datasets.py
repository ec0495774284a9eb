"""Which dataset a frame holds, which operation sends it, and the dataset's ARN in a group.

>>> import pandas as pd
>>> dataset_type(pd.DataFrame(columns=["ITEM_ID", "PRICE"]))
'items'
>>> dataset_arn("arn:aws:personalize:us-east-1:123456789012:dataset-group/shop", "items")
'arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS'
"""

from __future__ import annotations

from typing import Any

from .._checks import one_of
from ..errors import ConfigError, ConfigTypeError

__all__ = ["DATASET_OPERATIONS", "dataset_arn", "dataset_type"]

#: the operation that streams each dataset
DATASET_OPERATIONS = {
    "interactions": "PutEvents",
    "items": "PutItems",
    "users": "PutUsers",
    "actions": "PutActions",
    "action_interactions": "PutActionInteractions",
}


def dataset_type(frame: Any) -> str:
    """``interactions``, ``items``, ``users``, ``actions`` or ``action_interactions``, by the
    frame's columns (dataset names or the API's camelCase ones): an ``ACTION_ID`` with an
    ``EVENT_TYPE`` is an action interaction, without one an action; an ``EVENT_TYPE``,
    ``SESSION_ID`` or ``TIMESTAMP`` is an interaction; else an ``ITEM_ID`` an item and a
    ``USER_ID`` a user."""
    if not hasattr(frame, "columns"):
        raise ConfigTypeError("frame", frame, "a DataFrame")
    columns = set(map(str, frame.columns))

    def has(*names: str) -> bool:
        return bool(columns.intersection(names))

    if has("ACTION_ID", "actionId"):
        return "action_interactions" if has("EVENT_TYPE", "eventType") else "actions"
    if has("EVENT_TYPE", "eventType", "SESSION_ID", "sessionId", "TIMESTAMP", "sentAt"):
        return "interactions"
    if has("ITEM_ID", "itemId"):
        return "items"
    if has("USER_ID", "userId"):
        return "users"
    shown = ", ".join(sorted(columns)[:8]) or "no columns"
    raise ConfigError(
        "frame", f"columns {shown}", "a dataset's columns: ACTION_ID (with EVENT_TYPE: action "
        "interactions), EVENT_TYPE/SESSION_ID/TIMESTAMP (interactions), ITEM_ID or USER_ID",
    )  # fmt: skip


def dataset_arn(dataset_group_arn: str, dataset: str) -> str:
    """The ARN of the dataset of type ``dataset`` (``items``…) in a dataset group, as
    Personalize names it: ``…:dataset-group/NAME`` → ``…:dataset/NAME/ITEMS``."""
    one_of(dataset, "dataset", ("items", "users", "actions"))
    head, _, name = str(dataset_group_arn).rpartition(":dataset-group/")
    if not isinstance(dataset_group_arn, str) or not head or not name or "/" in name:
        raise ConfigError(
            "dataset_group_arn", dataset_group_arn,
            "a dataset group's ARN: arn:aws:personalize:REGION:ACCOUNT:dataset-group/NAME",
        )  # fmt: skip
    return f"{head}:dataset/{name}/{dataset.upper()}"
