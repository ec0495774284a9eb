"""The emulator's SQLite store: accepted events, items and users, written by group commit.

The ``events`` table is the contract of docs/architecture.md ("Emulator store"): one row
per accepted event; the first copy of a (tracking_id, event_id) is stored,
later copies are only counted. The database runs in WAL mode with
``synchronous=NORMAL``: a committed transaction survives the emulator being
killed (SIGKILL), which is what "a 200 means stored" needs; it is not fsynced
for power loss. Checkpoints (which do fsync) run on a thread of their own, so
the request path never waits for the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "EVENT_COLUMNS",
    "GroupCommit",
    "StorageError",
    "Store",
    "read_events",
    "read_recommendations",
]

#: columns of the ``events`` table, in order
EVENT_COLUMNS = (
    "tracking_id",
    "user_id",
    "session_id",
    "event_id",
    "event_type",
    "event_value",
    "item_id",
    "properties",
    "sent_at",
    "recommendation_id",
    "impression",
    "event_attribution_source",
    "received_at",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    tracking_id TEXT NOT NULL,
    user_id TEXT,
    session_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_value REAL,
    item_id TEXT,
    properties TEXT,
    sent_at REAL NOT NULL,
    recommendation_id TEXT,
    impression TEXT,
    event_attribution_source TEXT,
    received_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_tracking_event ON events (tracking_id, event_id);
CREATE TABLE IF NOT EXISTS items (
    dataset_arn TEXT NOT NULL, item_id TEXT NOT NULL, properties TEXT, received_at REAL NOT NULL,
    PRIMARY KEY (dataset_arn, item_id)
);
CREATE TABLE IF NOT EXISTS recommendations (
    recommendation_id TEXT PRIMARY KEY, arn TEXT NOT NULL, operation TEXT NOT NULL,
    user_id TEXT, item_id TEXT, items TEXT NOT NULL, context TEXT, issued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    dataset_arn TEXT NOT NULL, user_id TEXT NOT NULL, properties TEXT, received_at REAL NOT NULL,
    PRIMARY KEY (dataset_arn, user_id)
);
"""

_INSERT = {
    # the unique index keeps the first copy of an event; OR IGNORE turns later ones into no-ops
    "events": f"INSERT OR IGNORE INTO events VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
    # PutItems/PutUsers are upserts in Personalize: the latest record wins
    "items": "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
    "users": "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
    # every runtime answer: the id it issued, its issuer and the items it showed
    "recommendations": "INSERT INTO recommendations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
}


class Store:
    """One SQLite database file; :meth:`write` commits many requests' rows in one transaction.

    A background thread checkpoints the WAL every ``checkpoint_every`` seconds
    (PASSIVE: it never blocks the writer); :meth:`close` stops it.
    """

    def __init__(self, path: str | Path, *, checkpoint_every: float = 0.5) -> None:
        self.path = Path(path)
        self.checkpoint_every = checkpoint_every
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # an automatic checkpoint would run (and fsync) inside a commit on the event loop
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._db.executescript(_SCHEMA)
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name=f"checkpoint {self.path.name}", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error:  # the writer reports what is wrong with the file
            return
        try:
            while not self._stop.wait(self.checkpoint_every):
                # a full disk fails a checkpoint; keep trying, it works again once space returns
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    def write(
        self, batch: Sequence[tuple[str, Sequence[tuple[Any, ...]]]]
    ) -> list[int | Exception]:
        """Insert each (table, rows) of ``batch`` in one transaction; per request, rows newly
        stored or the exception that kept that request's rows out.

        A request whose rows fail to insert fails alone: the batch is tried at once (the
        common case, one statement per request) and, if any insert fails, again with a
        savepoint per request, so its neighbours are still stored. An exception raised
        here (commit failed: disk full, read-only file…) means nothing was stored.
        """
        db = self._db
        db.execute("BEGIN")
        try:
            try:
                stored: list[int | Exception] = [
                    db.executemany(_INSERT[table], rows).rowcount if rows else 0
                    for table, rows in batch
                ]
            except (sqlite3.Error, ValueError, OverflowError, UnicodeError) as exc:
                if isinstance(exc, sqlite3.Error) and _is_storage_failure(exc):
                    raise
                _rollback(db)
                db.execute("BEGIN")
                stored = [self._write_alone(table, rows) for table, rows in batch]
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise
        return stored

    def _write_alone(self, table: str, rows: Sequence[tuple[Any, ...]]) -> int | Exception:
        """One request's rows inside a savepoint: its row count, or why they were refused."""
        if not rows:
            return 0
        db = self._db
        db.execute("SAVEPOINT request")
        try:
            count = db.executemany(_INSERT[table], rows).rowcount
        except (sqlite3.Error, ValueError, OverflowError, UnicodeError) as exc:
            if isinstance(exc, sqlite3.Error) and _is_storage_failure(exc):
                raise
            db.execute("ROLLBACK TO request")
            db.execute("RELEASE request")
            return exc
        db.execute("RELEASE request")
        return count

    def close(self) -> str | None:
        """Checkpoint and close; idempotent and never raising: a storage failure (disk full,
        read-only file) is returned as text for the shutdown summary, else None."""
        self._stop.set()
        self._checkpointer.join()
        problem = None
        # a checkpoint folds the WAL back into the main file, so a copied .db is complete;
        # on a connection closed already there is nothing to fold: every commit is on disk
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.ProgrammingError:
            pass
        except sqlite3.Error as exc:  # the WAL keeps every commit; the next open folds it in
            problem = f"the final checkpoint failed ({exc}); committed events are in the -wal file"
        self._db.close()
        return problem


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back if a transaction is open: SQLite ends it by itself on some errors (a full
    disk in COMMIT), and a second ROLLBACK would hide the real cause behind its own error."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _is_storage_failure(exc: sqlite3.Error) -> bool:
    """Errors of the disk or the file (full, read-only, I/O, corrupt), not of one request's
    rows (a constraint, a value SQLite cannot bind: Integrity-, Data-, ProgrammingError).
    A closed connection fails at ``BEGIN``, before any row, so it counts as the store's."""
    row_errors = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError)
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, row_errors)


class GroupCommit:
    """Batch the rows of every request ready in one event-loop turn into one commit.

    ``await commit(table, rows)`` returns once the rows are durable (see the module
    docstring), so the server answers 200 only after its events are stored.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[tuple[str, Sequence[tuple[Any, ...]], asyncio.Future[int]]] = []
        self.commits = 0

    async def commit(self, table: str, rows: Sequence[tuple[Any, ...]]) -> int:
        future = asyncio.get_running_loop().create_future()
        if not self._pending:
            # call_soon runs after the tasks already ready in this turn, which join the batch
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append((table, rows, future))
        return await future

    def flush(self) -> None:
        """Commit everything pending now (also called at shutdown)."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            stored = self.store.write([(table, rows) for table, rows, _ in batch])
        except Exception as exc:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(StorageError(exc))
            return
        self.commits += 1
        for (*_, future), count in zip(batch, stored, strict=True):
            if future.done():
                continue
            if isinstance(count, Exception):
                future.set_exception(count)
            else:
                future.set_result(count)


class StorageError(Exception):
    """The store could not commit (disk full, read-only or vanished file): not the request's
    fault, so the server answers 500 ``InternalFailure`` naming ``cause``."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


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
