"""`Database.insert_grouped` (group commit): concurrent INSERTs share a transaction, yet each caller gets its own
result, its own error, and returns only once the COMMIT holding its row has returned.

A real SQLite file each; a failing COMMIT is produced by SQLite itself (a deferred foreign key checked at COMMIT).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from fediverse_learn.store import db as db_module
from fediverse_learn.store.db import Database
from fediverse_learn.store.inbox_queue import enqueue_incoming

SCHEMA = [
    "CREATE TABLE parents (id INTEGER PRIMARY KEY)",
    "CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, v INTEGER NOT NULL CHECK (v >= 0),"
    " parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED)",
]
INSERT = "INSERT INTO items (key, v) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
INSERT_WITH_PARENT = "INSERT INTO items (key, v, parent) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "grouped.sqlite3", create=True)
    for statement in SCHEMA:
        await database.execute(statement)
    yield database
    await database.close()


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The keys written by each call of the group writer (to prove callers really shared a transaction)."""
    seen: list[list[str]] = []
    real = db_module._insert_group

    def recording(conn: sqlite3.Connection, statements: list[tuple[str, Any]]) -> Any:
        seen.append([str(params[0]) for _, params in statements])
        return real(conn, statements)

    monkeypatch.setattr(db_module, "_insert_group", recording)
    yield seen


def committed_keys(path: Path) -> dict[str, int]:
    """What a fresh connection sees: only committed rows."""
    with closing(sqlite3.connect(path)) as conn:
        return {key: rowid for rowid, key in conn.execute("SELECT id, key FROM items")}


def group_of(groups: list[list[str]], key: str) -> int:
    return next(i for i, keys in enumerate(groups) if key in keys)


async def test_concurrent_callers_each_get_their_own_rowid_or_none(db: Database, groups: list[list[str]]) -> None:
    # Given a row already stored
    existing = await db.insert_grouped(INSERT, ("old", 0))
    assert existing is not None
    # When 40 callers insert at once: new keys, the stored key, and one key twice
    keys = [f"k{i}" for i in range(40)] + ["old", "k7"]
    results = await asyncio.gather(*(db.insert_grouped(INSERT, (key, i)) for i, key in enumerate(keys)))
    # Then each new key's caller got the rowid of its own row, and each duplicate got None
    stored = committed_keys(db.path)
    for key, result in zip(keys[:40], results[:40], strict=True):
        assert result == stored[key], key
    assert results[40:] == [None, None]
    assert stored["old"] == existing
    assert len(stored) == 41
    # and they shared transactions (far fewer groups than callers; the first group is the "old" row)
    assert 2 <= len(groups) <= 3


async def test_a_failing_statement_fails_only_its_own_caller(db: Database, groups: list[list[str]]) -> None:
    # Given callers in one group, three of them with statements that fail in different ways
    calls = [
        db.insert_grouped(INSERT, ("a", 1)),
        db.insert_grouped(INSERT, ("check", -1)),                       # CHECK constraint
        db.insert_grouped(INSERT, ("b", 2)),
        db.insert_grouped("INSERT INTO items (key, v) VALUES (?, ?)", ("null", None)),   # NOT NULL
        db.insert_grouped(INSERT, ("binding", 1, "one too many")),      # bad parameters
        db.insert_grouped("INSERT INTO nowhere (key) VALUES (?)", ("table",)),   # no such table
        db.insert_grouped(INSERT, ("c", 3)),
    ]
    # When they run together
    results = await asyncio.gather(*calls, return_exceptions=True)
    # Then each failing caller gets its own error
    assert isinstance(results[1], sqlite3.IntegrityError) and "CHECK" in str(results[1])
    assert isinstance(results[3], sqlite3.IntegrityError) and "NOT NULL" in str(results[3])
    assert isinstance(results[4], sqlite3.ProgrammingError)
    assert isinstance(results[5], sqlite3.OperationalError) and "nowhere" in str(results[5])
    # and the others committed, in the same transaction as the failures
    stored = committed_keys(db.path)
    assert [results[0], results[2], results[6]] == [stored["a"], stored["b"], stored["c"]]
    assert set(stored) == {"a", "b", "c"}
    assert group_of(groups, "a") == group_of(groups, "check") == group_of(groups, "table") == group_of(groups, "c")


async def test_caller_gets_its_result_only_once_its_row_is_committed(db: Database) -> None:
    # Given a COMMIT that takes a while (a delay on SQLite's own thread: a caller woken before the COMMIT
    # returned would look while it is still under way)
    def slow_commit(statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            time.sleep(0.02)

    await db._writer.set_trace_callback(slow_commit)
    # and many concurrent callers, each of which looks with a fresh connection the moment its await returns
    async def insert_and_look(key: str) -> tuple[int | None, dict[str, int]]:
        rowid = await db.insert_grouped(INSERT, (key, 1))
        return rowid, committed_keys(db.path)   # synchronous: nothing else runs in between

    results = await asyncio.gather(*(insert_and_look(f"k{i}") for i in range(30)))
    # Then every caller's row was already committed when its await returned
    for i, (rowid, seen) in enumerate(results):
        assert rowid is not None
        assert seen.get(f"k{i}") == rowid


async def test_cancelled_caller_still_has_its_row_committed(db: Database, groups: list[list[str]]) -> None:
    # Given a group waiting for the writer (a transaction holds it)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO items (key, v) VALUES ('held', 0)")
        tasks = [asyncio.create_task(db.insert_grouped(INSERT, (key, 1))) for key in ("x", "cancelled", "y")]
        for _ in range(5):
            await asyncio.sleep(0)   # let them queue up and the group writer wait for the lock
        # When one caller is cancelled while waiting
        tasks[1].cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        assert committed_keys(db.path) == {}   # nothing is committed before the transaction ends
    # Then the others get their rows, and the cancelled caller's row is committed all the same
    x, y = await tasks[0], await tasks[2]
    with pytest.raises(asyncio.CancelledError):
        await tasks[1]
    stored = committed_keys(db.path)
    assert (stored["x"], stored["y"]) == (x, y)
    assert "cancelled" in stored
    assert group_of(groups, "x") == group_of(groups, "cancelled") == group_of(groups, "y")


async def test_cancelled_caller_does_not_stop_later_callers(db: Database) -> None:
    # Given a caller cancelled right after it queued its row
    task = asyncio.create_task(db.insert_grouped(INSERT, ("gone", 1)))
    await asyncio.sleep(0)
    task.cancel()
    # When another caller inserts afterwards
    later = await db.insert_grouped(INSERT, ("later", 1))
    # Then that caller succeeds, and the earlier group was committed before it (groups are written in order)
    stored = committed_keys(db.path)
    assert stored["later"] == later
    assert "gone" in stored


async def test_commit_failure_fails_every_caller_of_the_group(db: Database, groups: list[list[str]]) -> None:
    # Given one group where every statement succeeds but one breaks a constraint checked only at COMMIT
    results = await asyncio.gather(
        db.insert_grouped(INSERT_WITH_PARENT, ("ok1", 1, None)),
        db.insert_grouped(INSERT_WITH_PARENT, ("orphan", 1, 999)),   # deferred foreign key: no parent 999
        db.insert_grouped(INSERT_WITH_PARENT, ("ok2", 1, None)),
        return_exceptions=True,
    )
    # Then COMMIT failed, and every caller of that group is told so (none is told its row was stored)
    assert group_of(groups, "ok1") == group_of(groups, "orphan") == group_of(groups, "ok2")
    for result in results:
        assert isinstance(result, sqlite3.IntegrityError) and "FOREIGN KEY" in str(result)
    # and nothing of that group is stored
    assert committed_keys(db.path) == {}
    # and the writer is usable again (no transaction left open)
    assert await db.insert_grouped(INSERT, ("after", 1)) == committed_keys(db.path)["after"]
    assert await db.insert(INSERT, ("plain", 1)) is not None


async def test_concurrent_enqueues_of_one_activity_store_it_once(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "inbox.sqlite3", create=True)
    try:
        await database.migrate()
        # When the same activity arrives 5 times at once, among other activities
        ids = ["https://remote.test/a/1"] * 5 + [f"https://remote.test/a/{i}" for i in range(2, 6)]
        stored = await asyncio.gather(*(
            enqueue_incoming(database, activity_id, "https://remote.test/u", None, b"{}", 1.0)
            for activity_id in ids))
        # Then exactly one of the redeliveries stored it, and every other activity was stored
        assert stored[:5].count(True) == 1
        assert all(stored[5:])
        with closing(sqlite3.connect(database.path)) as conn:
            assert conn.execute("SELECT count(*) FROM inbox_queue").fetchone()[0] == 5
        assert await enqueue_incoming(database, ids[0], "https://remote.test/u", None, b"{}", 2.0) is False
    finally:
        await database.close()
