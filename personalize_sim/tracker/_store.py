"""The emulator's SQLite store: events, items, users, actions and action interactions, written
by group commit.

Dataset records (``items``, ``users``, ``actions``) are keyed by ``(dataset_arn, id)`` and
keep their ``properties`` as the JSON text the request carried, so a reader (or a filter)
can reach any field with SQLite's ``json_extract(properties, '$.categoryL1')``, and index
one with an index on that expression.

The ``events`` table is the contract of docs/architecture.md ("Emulator store"): one row
per accepted event; the first copy of a (tracking_id, event_id) is stored,
later copies are only counted. The database runs in WAL mode with
``synchronous=NORMAL``: a committed transaction survives the emulator being
killed (SIGKILL), which is what "a 200 means stored" needs; it is not fsynced
for power loss. Checkpoints (which do fsync) run on a thread of their own, so
the request path never waits for the disk. :mod:`._readers` reads a store back as frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["EVENT_COLUMNS", "GroupCommit", "StorageError", "Store"]

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
CREATE TABLE IF NOT EXISTS actions (
    dataset_arn TEXT NOT NULL, action_id TEXT NOT NULL, properties TEXT,
    received_at REAL NOT NULL, PRIMARY KEY (dataset_arn, action_id)
);
CREATE TABLE IF NOT EXISTS action_interactions (
    tracking_id TEXT NOT NULL, user_id TEXT, session_id TEXT NOT NULL, event_id TEXT NOT NULL,
    action_id TEXT NOT NULL, event_type TEXT NOT NULL, timestamp REAL NOT NULL,
    recommendation_id TEXT, impression TEXT, properties TEXT, received_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS action_interactions_tracking_event
    ON action_interactions (tracking_id, event_id);
"""

_INSERT = {
    # the unique index keeps the first copy of an event; OR IGNORE turns later ones into no-ops
    "events": f"INSERT OR IGNORE INTO events VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
    # PutItems/PutUsers are upserts in Personalize: the latest record wins
    "items": "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
    "users": "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
    "actions": "INSERT OR REPLACE INTO actions VALUES (?, ?, ?, ?)",
    # as events: the first copy of a (tracking_id, event_id) is kept
    "action_interactions": "INSERT OR IGNORE INTO action_interactions VALUES "
    f"({', '.join('?' * 11)})",
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

    def generation(self) -> int:
        """How many event and recommendation rows were ever stored (their largest rowids):
        0 for a new store, and larger after any run that stored a row."""
        events, recommendations = self._db.execute(
            "SELECT (SELECT coalesce(max(rowid), 0) FROM events), "
            "(SELECT coalesce(max(rowid), 0) FROM recommendations)"
        ).fetchone()
        return int(events) + int(recommendations)

    def records(self) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
        """(table, rows) of the dataset records and action interactions, each table's
        rows oldest first, in the tables' own layouts: what the runtime's filters and
        action model read."""
        for table in ("items", "users", "actions", "action_interactions"):
            rows = self._db.execute(f"SELECT * FROM {table} ORDER BY received_at, rowid")
            while chunk := rows.fetchmany(10_000):
                yield table, chunk

    def history(self) -> Iterator[tuple[str, str, str | None, str | None, float, str]]:
        """(tracking id, event id, user id, item id, sentAt, event type) of every stored
        event with an item, in arrival order: what the runtime's models learnt from."""
        rows = self._db.execute(
            "SELECT tracking_id, event_id, user_id, item_id, sent_at, event_type FROM events "
            "WHERE item_id IS NOT NULL ORDER BY rowid"
        )
        while chunk := rows.fetchmany(10_000):
            yield from chunk

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
