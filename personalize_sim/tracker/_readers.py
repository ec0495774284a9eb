"""A store read back: its events as an events frame, its runtime answers as a table, its
items, users, actions and action interactions as the frames the payload layer makes of
the same requests (:func:`read_dataset`).

Both open the SQLite file on a connection of their own (``query_only``), so they work
while the emulator runs, after it stopped, and after it was killed.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._store import EVENT_COLUMNS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["DATASET_TABLES", "exact_micros", "read_dataset", "read_events", "read_recommendations"]

#: the tables :func:`read_dataset` reads, by the operation that writes them
DATASET_TABLES = {
    "items": "PutItems",
    "users": "PutUsers",
    "actions": "PutActions",
    "action_interactions": "PutActionInteractions",
}
_INTERACTION_MEMBERS = (
    "trackingId", "userId", "sessionId", "eventId", "actionId", "eventType", "timestamp",
    "recommendationId", "impression", "properties",
)  # fmt: skip


def read_events(
    path: str | Path, tracking_id: str | None = None, *, issuers: bool = False
) -> pd.DataFrame:
    """The accepted events of a store as an events frame (docs/architecture.md), in arrival order.

    Columns: ``USER_ID, SESSION_ID, ITEM_ID, EVENT_TYPE, EVENT_VALUE, TIMESTAMP``
    (tz-aware UTC, microseconds), ``EVENT_ID, IMPRESSION`` (list or None),
    ``RECOMMENDATION_ID, EVENT_ATTRIBUTION_SOURCE``, then one column per property
    key (``discount`` → ``DISCOUNT``), then ``TRACKING_ID`` and ``RECEIVED_AT``; with
    ``issuers``, last ``RECOMMENDER_ARN``: who issued the event's RECOMMENDATION_ID
    (None for an id the runtime API never issued), as the service itself knows it.
    """
    import numpy as np
    import orjson
    import pandas as pd

    from personalize_sim import _schema as schema
    from personalize_sim._timestamps import utc_from_us

    # a read-write connection (query_only), because opening a WAL database read-only fails
    # when its -shm file must be rebuilt, e.g. after the emulator was killed
    db = sqlite3.connect(Path(path))
    with contextlib.closing(db):
        db.execute("PRAGMA query_only=ON")
        where, args = ("WHERE tracking_id = ?", (tracking_id,)) if tracking_id else ("", ())
        rows = db.execute(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events {where} ORDER BY rowid", args
        ).fetchall()
    raw = (
        dict(zip(EVENT_COLUMNS, map(list, zip(*rows, strict=True)), strict=True))
        if rows
        else {c: [] for c in EVENT_COLUMNS}
    )

    frame = pd.DataFrame(
        {
            schema.USER_ID: pd.array(raw["user_id"], dtype="string"),
            schema.SESSION_ID: pd.array(raw["session_id"], dtype="string"),
            schema.ITEM_ID: pd.array(raw["item_id"], dtype="string"),
            schema.EVENT_TYPE: pd.array(raw["event_type"], dtype="string"),
            schema.EVENT_VALUE: pd.array(
                [np.nan if v is None else v for v in raw["event_value"]], dtype="float64"
            ),
            schema.TIMESTAMP: utc_from_us(exact_micros(raw["sent_at"])),
            schema.EVENT_ID: pd.array(raw["event_id"], dtype="string"),
            schema.IMPRESSION: pd.Series(
                [None if v is None else orjson.loads(v) for v in raw["impression"]], dtype=object
            ),
            schema.RECOMMENDATION_ID: pd.array(raw["recommendation_id"], dtype="string"),
            schema.ATTRIBUTION_SOURCE: pd.array(raw["event_attribution_source"], dtype="string"),
        }
    )
    decoded = [None if p is None else orjson.loads(p) for p in raw["properties"]]
    keys: dict[str, None] = {}
    for props in decoded:
        if props:
            keys.update(dict.fromkeys(props))
    for key in keys:
        values = [None if p is None else p.get(key) for p in decoded]
        name = schema.snake_upper(key)
        if name in frame.columns:  # e.g. a property "itemId": keep ITEM_ID, name it apart
            name = f"properties.{key}"
        frame[name] = pd.Series(values, dtype=object).infer_objects()
    frame["TRACKING_ID"] = pd.array(raw["tracking_id"], dtype="string")
    frame["RECEIVED_AT"] = utc_from_us(exact_micros(raw["received_at"]))
    if issuers:
        issued = read_recommendations(path)
        by_id = dict(zip(issued["RECOMMENDATION_ID"], issued["RECOMMENDER_ARN"], strict=True))
        frame["RECOMMENDER_ARN"] = pd.array(
            [by_id.get(r) for r in raw["recommendation_id"]], dtype="string"
        )
    return frame


def read_dataset(path: str | Path, table: str, tracking_id: str | None = None) -> pd.DataFrame:
    """The records of ``table`` (``items``, ``users``, ``actions``: the latest of each id, in
    the order they were last put; ``action_interactions``: every one accepted, in arrival
    order) as the frame ``from_put_records`` or ``from_put_action_interactions`` makes of the
    requests that carried them; action interactions end with ``TRACKING_ID`` and
    ``RECEIVED_AT``, as events do."""
    import orjson
    import pandas

    from personalize_sim import payloads
    from personalize_sim._timestamps import utc_from_us

    operation = DATASET_TABLES[table]
    db = sqlite3.connect(Path(path))
    with contextlib.closing(db):
        db.execute("PRAGMA query_only=ON")
        if table != "action_interactions":
            rows = db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
        else:
            where, args = ("WHERE tracking_id = ?", (tracking_id,)) if tracking_id else ("", ())
            rows = db.execute(f"SELECT * FROM {table} {where} ORDER BY rowid", args).fetchall()
    if table != "action_interactions":
        from personalize_sim import _operations as operations

        kind = operations.record_operation(operation)
        records = [
            {kind.key: key} | ({} if props is None else {"properties": props})
            for _, key, props, _ in rows
        ]
        return payloads.from_put_records([{kind.member: records}])
    interactions = []
    for row in rows:
        found = dict(zip(_INTERACTION_MEMBERS, row, strict=False))
        if found["impression"] is not None:
            found["impression"] = orjson.loads(found["impression"])
        interactions.append({k: v for k, v in found.items() if v is not None})
    frame = payloads.from_put_action_interactions([{"actionInteractions": interactions}])
    frame["TRACKING_ID"] = pandas.Series([row[0] for row in rows], dtype="str")
    frame["RECEIVED_AT"] = utc_from_us(exact_micros([row[-1] for row in rows]))
    return frame


def read_recommendations(path: str | Path) -> pd.DataFrame:
    """Every answer of the runtime API, in order: ``RECOMMENDATION_ID, RECOMMENDER_ARN``
    (campaign or recommender), ``OPERATION, USER_ID, ITEM_ID, ITEMS`` (the list shown),
    ``CONTEXT`` (dict or None), ``ISSUED_AT`` (UTC). ``attribution_report(recommenders=)``
    takes it as it is."""
    import orjson
    import pandas as pd

    from personalize_sim._timestamps import utc_from_us

    db = sqlite3.connect(Path(path))
    with contextlib.closing(db):
        db.execute("PRAGMA query_only=ON")
        rows = db.execute(
            "SELECT recommendation_id, arn, operation, user_id, item_id, items, context, "
            "issued_at FROM recommendations ORDER BY rowid"
        ).fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    return pd.DataFrame(
        {
            "RECOMMENDATION_ID": pd.array(columns[0], dtype="string"),
            "RECOMMENDER_ARN": pd.array(columns[1], dtype="string"),
            "OPERATION": pd.array(columns[2], dtype="string"),
            "USER_ID": pd.array(columns[3], dtype="string"),
            "ITEM_ID": pd.array(columns[4], dtype="string"),
            "ITEMS": pd.Series([orjson.loads(v) for v in columns[5]], dtype=object),
            "CONTEXT": pd.Series(
                [None if v is None else orjson.loads(v) for v in columns[6]], dtype=object
            ),
            "ISSUED_AT": utc_from_us(exact_micros(list(columns[7]))),
        }
    )


def exact_micros(seconds: Any) -> np.ndarray:
    """Epoch seconds as int64 microseconds, rounded exactly as ``datetime.fromtimestamp`` (and so
    botocore) rounds them: the fraction split off first, then half to even.

    ``round(seconds * 1e6)`` would round twice and can miss by a microsecond on large values.

    >>> exact_micros([1704164645.678901, -0.5, 0.0000005]).tolist()
    [1704164645678901, -500000, 0]
    """
    import numpy as np

    values = np.asarray(seconds, dtype="float64")
    fraction, whole = np.modf(values)
    micros = np.round(fraction * 1e6)
    carry = (micros >= 1e6).astype("int64") - (micros < 0).astype("int64")
    micros = micros - carry * 1e6
    return (whole.astype("int64") + carry) * 1_000_000 + micros.astype("int64")
