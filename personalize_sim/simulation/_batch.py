"""The per-event arrays of a block (or a chunk) of events, and how they are cut and joined.

A :class:`Batch` holds one numpy array per field, all of the same length, plus the
slates of the events that faced one (``slate_row`` points into ``slates``), so
slicing, sorting and joining events never builds a Python object per event.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Batch"]


class Batch:
    """Per-event arrays, plus the slates of the events that carry an impression."""

    FIELDS = (
        "ts",  # int64 epoch µs
        "session",  # int64 global session number
        "user",  # int32 true user number
        "visible",  # bool: USER_ID is sent
        "item",  # int32 item number
        "etype",  # int8 event type
        "value",  # float64 EVENT_VALUE (NaN: none)
        "rec_step",  # int16 step of the slate click this event follows (-1: organic)
        "position",  # int8 slate position of the item (-1: organic)
        "would_have",  # bool: would have happened without the recommendation
        "props",  # int8 (n, n_props) codes of the property columns
        "slate_row",  # int32 row in ``slates`` (-1: no impression)
        "incremental",  # bool: exists only because of a recommendation (an arm's lift)
    )

    def __init__(self, cols: dict[str, np.ndarray], slates: np.ndarray) -> None:
        self.cols = cols
        self.slates = slates

    def __len__(self) -> int:
        return len(self.cols["ts"])

    def take(self, index: np.ndarray | slice) -> Batch:
        cols = {name: values[index] for name, values in self.cols.items()}
        row = cols["slate_row"]
        shown = row >= 0
        slates = self.slates[row[shown]]
        renumbered = np.full(len(row), -1, dtype=np.int32)
        renumbered[shown] = np.arange(int(shown.sum()))
        cols["slate_row"] = renumbered
        return Batch(cols, slates)

    @staticmethod
    def concat(batches: list[Batch], n_props: int, k: int) -> Batch:
        if not batches:
            return Batch.empty(n_props, k)
        if len(batches) == 1:
            return batches[0]
        cols = {}
        for name in Batch.FIELDS:
            cols[name] = np.concatenate([b.cols[name] for b in batches])
        base = np.cumsum([0] + [len(b.slates) for b in batches[:-1]])
        cols["slate_row"] = np.concatenate(
            [
                np.where(b.cols["slate_row"] >= 0, b.cols["slate_row"] + o, -1).astype(np.int32)
                for b, o in zip(batches, base, strict=True)
            ]
        )
        return Batch(cols, np.concatenate([b.slates for b in batches]))

    @staticmethod
    def merge(first: Batch, second: Batch) -> Batch:
        """Merge two time-sorted batches; at equal times ``first``'s events come first.

        ``first`` holds the carried-over events of earlier (lower-numbered) sessions, so
        this keeps the (TIMESTAMP, SESSION_ID) order with one scatter per column.
        """
        n = len(first) + len(second)
        at = np.searchsorted(second.cols["ts"], first.cols["ts"], side="left")
        at += np.arange(len(first))
        rest = np.ones(n, dtype=bool)
        rest[at] = False
        cols = {}
        for name, values in first.cols.items():
            out = np.empty((n, *values.shape[1:]), dtype=values.dtype)
            out[at] = values
            out[rest] = second.cols[name]
            cols[name] = out
        row = cols["slate_row"]
        moved = rest & (row >= 0)
        row[moved] += len(first.slates)  # second's slates follow first's
        return Batch(cols, np.concatenate([first.slates, second.slates]))

    @staticmethod
    def empty(n_props: int, k: int) -> Batch:
        dtypes = {
            "ts": np.int64, "session": np.int64, "user": np.int32, "visible": bool,
            "item": np.int32, "etype": np.int8, "value": np.float64, "rec_step": np.int16,
            "position": np.int8, "would_have": bool, "slate_row": np.int32,
            "incremental": bool,
        }  # fmt: skip
        cols = {name: np.empty(0, dtype=dtype) for name, dtype in dtypes.items()}
        cols["props"] = np.empty((0, n_props), dtype=np.int8)
        return Batch(cols, np.empty((0, k), dtype=np.int32))
