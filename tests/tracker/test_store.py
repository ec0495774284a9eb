"""The SQLite store: the events table of docs/architecture.md; first copy wins."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from personalize_sim._schema import EVENT_COLUMNS as FRAME_COLUMNS
from personalize_sim.tracker._readers import read_events
from personalize_sim.tracker._store import EVENT_COLUMNS, GroupCommit, StorageError, Store


def row(event_id: str, tracking_id: str = "t", event_type: str = "click") -> tuple:
    return (
        tracking_id,
        "u",
        "s",
        event_id,
        event_type,
        None,
        "i",
        None,
        1.5,
        None,
        None,
        None,
        2.0,
    )


def test_events_table_has_exactly_the_design_columns(tmp_path):
    store = Store(tmp_path / "e.db")
    store.close()
    with sqlite3.connect(tmp_path / "e.db") as db:
        columns = [(c[1], c[2]) for c in db.execute("PRAGMA table_info(events)")]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert columns == [
        ("tracking_id", "TEXT"),
        ("user_id", "TEXT"),
        ("session_id", "TEXT"),
        ("event_id", "TEXT"),
        ("event_type", "TEXT"),
        ("event_value", "REAL"),
        ("item_id", "TEXT"),
        ("properties", "TEXT"),
        ("sent_at", "REAL"),
        ("recommendation_id", "TEXT"),
        ("impression", "TEXT"),
        ("event_attribution_source", "TEXT"),
        ("received_at", "REAL"),
    ]
    assert [c[0] for c in columns] == list(EVENT_COLUMNS)
    assert mode == "wal"


def test_first_copy_is_stored_and_later_copies_are_counted(tmp_path):
    store = Store(tmp_path / "e.db")
    stored = store.write(
        [("events", [row("a"), row("b")]), ("events", [row("b", event_type="x"), row("a", "t2")])]
    )
    assert stored == [2, 1]
    assert store.write([("events", [row("a")])]) == [0]
    store.close()
    frame = read_events(tmp_path / "e.db")
    assert list(zip(frame["TRACKING_ID"], frame["EVENT_ID"], frame["EVENT_TYPE"], strict=True)) == [
        ("t", "a", "click"),
        ("t", "b", "click"),
        ("t2", "a", "click"),
    ]


def test_requests_ready_in_one_loop_turn_share_one_commit(tmp_path):
    store = Store(tmp_path / "e.db")
    committer = GroupCommit(store)

    async def main():
        results = await asyncio.gather(
            *(committer.commit("events", [row(f"e{i}"), row("dup")]) for i in range(20))
        )
        later = await committer.commit("events", [row("late")])
        return results, later

    results, later = asyncio.run(main())
    assert results == [2] + [1] * 19  # "dup" is new only for the first request
    assert later == 1
    assert committer.commits == 2
    store.close()


def test_a_request_whose_rows_fail_fails_alone(tmp_path):
    store = Store(tmp_path / "e.db")
    committer = GroupCommit(store)

    async def main():
        return await asyncio.gather(
            committer.commit("events", [row("ok")]),
            committer.commit("events", [("too", "short")]),
            committer.commit("events", [row("ok2")]),
            return_exceptions=True,
        )

    results = asyncio.run(main())
    assert results[0] == results[2] == 1
    assert isinstance(results[1], sqlite3.Error)
    assert committer.commits == 1  # still one commit for the three
    store.close()
    assert read_events(tmp_path / "e.db")["EVENT_ID"].tolist() == ["ok", "ok2"]


def test_a_failing_store_fails_every_waiting_request_naming_the_cause(tmp_path):
    store = Store(tmp_path / "e.db")
    committer = GroupCommit(store)
    store._db.execute("PRAGMA query_only=ON")  # SQLite refuses every write, as on a read-only file

    async def main():
        return await asyncio.gather(
            committer.commit("events", [row("a")]),
            committer.commit("events", [row("b")]),
            return_exceptions=True,
        )

    results = asyncio.run(main())
    assert all(isinstance(r, StorageError) for r in results)
    assert "readonly" in str(results[0]) and "OperationalError" in str(results[0])
    store._db.execute("PRAGMA query_only=OFF")  # the cause goes away: the store works again
    assert asyncio.run(committer.commit("events", [row("c")])) == 1
    assert store.close() is None
    assert read_events(tmp_path / "e.db")["EVENT_ID"].tolist() == ["c"]


def test_read_events_of_an_empty_store_has_the_contract_columns(tmp_path):
    Store(tmp_path / "e.db").close()
    frame = read_events(tmp_path / "e.db")
    assert list(frame.columns) == [*FRAME_COLUMNS, "TRACKING_ID", "RECEIVED_AT"]
    assert str(frame["TIMESTAMP"].dtype) == "datetime64[us, UTC]"


@pytest.mark.parametrize("key", ["itemId", "eventType"])
def test_a_property_named_like_a_column_does_not_overwrite_it(tmp_path, key):
    store = Store(tmp_path / "e.db")
    store.write([("events", [(*row("a")[:7], f'{{"{key}": "P"}}', *row("a")[8:])])])
    store.close()
    frame = read_events(tmp_path / "e.db")
    assert frame[f"properties.{key}"].tolist() == ["P"]
    assert frame["ITEM_ID"].tolist() == ["i"]


def test_checkpoints_happen_off_the_request_path(tmp_path):
    store = Store(tmp_path / "e.db", checkpoint_every=0.01)
    try:
        assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        before = (tmp_path / "e.db").stat().st_size
        store.write([("events", [row(f"e{i}") for i in range(2000)])])
        deadline = time.monotonic() + 30
        while (tmp_path / "e.db").stat().st_size == before and time.monotonic() < deadline:
            time.sleep(0.01)  # the checkpointer copies the WAL into the file on its own
        assert (tmp_path / "e.db").stat().st_size > before
    finally:
        store.close()
    assert not store._checkpointer.is_alive()
