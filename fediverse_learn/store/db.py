"""The database handle: one writer connection (every write goes through it), one reader, migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from fediverse_learn.errors import SchemaError
from fediverse_learn.store.migrations import MIGRATIONS

__all__ = ["Database", "Row", "Transaction"]

log = logging.getLogger(__name__)

Row = aiosqlite.Row
Params = Sequence[Any] | dict[str, Any]
_T = TypeVar("_T")


class Transaction:
    """A write transaction on the writer connection; statements only, never network awaits."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows changed."""
        return int(await _call(self._conn, _rowcount, sql, params))

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        """Run an INSERT; return the new rowid, or None when nothing was inserted (ON CONFLICT DO NOTHING)."""
        rowid: int | None = await _call(self._conn, _insert, sql, params)
        return rowid

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement per row of parameters; return the number of rows changed in all."""
        return int(await _call(self._conn, _executemany, sql, rows))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await _call(self._conn, _fetchone, sql, params)
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = await _call(self._conn, _fetchall, sql, params)
        return rows


class Database:
    """One SQLite file in WAL mode; writes serialised through one connection."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        self._grouped: list[tuple[str, Params, asyncio.Future[int | None]]] = []
        self._group_writer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path, *, create: bool = False) -> Database:
        """Open the database; with create=False a missing file is a SchemaError."""
        if not create and not await asyncio.to_thread(path.exists):
            raise SchemaError(f"{path}: database not found (run `fediverse-learn init`)")
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        writer = await _connect(path)
        reader = await _connect(path)
        await reader.execute("PRAGMA query_only = ON")
        return cls(path, writer, reader)

    async def close(self) -> None:
        """Close both connections, after the group commit under way (its callers get their answers)."""
        writer = self._group_writer
        if writer is not None and writer.get_loop() is asyncio.get_running_loop():
            await asyncio.gather(writer, return_exceptions=True)
        await self._reader.close()
        await self._writer.close()

    async def schema_version(self) -> int:
        async with self._reader.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> list[int]:
        """Apply every pending migration, each in its own transaction; return the versions applied."""
        applied: list[int] = []
        async with self._lock:
            async with self._writer.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            current = int(row[0]) if row else 0
            for version, script in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                await self._writer.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
                )
                log.info("applied migration %d", version)
                applied.append(version)
        return applied

    async def check_schema(self) -> None:
        """Fail unless the database is at exactly the version this code expects."""
        version = await self.schema_version()
        if version < len(MIGRATIONS):
            raise SchemaError(
                f"{self.path}: schema version {version}, need {len(MIGRATIONS)} (run `fediverse-learn init`)"
            )
        if version > len(MIGRATIONS):
            raise SchemaError(f"{self.path}: schema version {version} is newer than this code understands")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE ... COMMIT on the writer; rolled back if the block raises."""
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._writer)
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One write statement in its own transaction; return the number of rows changed.

        BEGIN IMMEDIATE, the statement and COMMIT run in one call on the writer's thread."""
        async with self._lock:
            return int(await _call(self._writer, _in_transaction, _rowcount, sql, params))

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        """One INSERT in its own transaction (one call on the writer's thread); the new rowid, or None when
        nothing was inserted (ON CONFLICT DO NOTHING). Committed (synchronous = FULL) when it returns."""
        async with self._lock:
            rowid: int | None = await _call(self._writer, _in_transaction, _insert, sql, params)
            return rowid

    async def execute_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """One write statement with a RETURNING clause in its own transaction (one call on the writer's
        thread); the rows it returned, in no particular order. Committed (synchronous = FULL) when it returns."""
        async with self._lock:
            rows: list[Row] = await _call(self._writer, _in_transaction, _fetchall, sql, params)
            return rows

    async def executemany_batches(self, batches: Sequence[tuple[str, Sequence[Params]]]) -> int:
        """Several `executemany` in ONE transaction, in one call on the writer's thread (BEGIN IMMEDIATE, the
        statements, COMMIT); the number of rows changed in all. Committed (synchronous = FULL) when it returns."""
        async with self._lock:
            return int(await _call(self._writer, _in_transaction, _executemany_batches, batches))

    async def insert_grouped(self, sql: str, params: Params = ()) -> int | None:
        """As `insert`, but concurrent calls share transactions (group commit): the INSERTs that arrive
        while one group is being written form the next group, written in one call on the writer's thread
        (BEGIN IMMEDIATE, the INSERTs, COMMIT). Each call returns once the transaction holding its row is
        committed (synchronous = FULL). A statement that fails fails only its own call."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int | None] = loop.create_future()
        self._grouped.append((sql, params, done))
        if self._group_writer is None or self._group_writer.get_loop() is not loop:
            self._group_writer = loop.create_task(self._write_groups())
        return await done

    async def _write_groups(self) -> None:
        """Write the pending group, then the one that gathered meanwhile, until none is left. Its own task:
        a caller that is cancelled does not stop the group its row is in."""
        try:
            while self._grouped:
                group: list[tuple[str, Params, asyncio.Future[int | None]]] = []
                try:
                    async with self._lock:   # the group is taken once the lock is ours: late arrivals join it
                        group, self._grouped = self._grouped, []
                        statements = [(sql, params) for sql, params, _ in group]
                        outcomes = await _call(self._writer, _insert_group, statements)
                except Exception as exc:
                    for _, _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                except BaseException:   # cancelled (shutting down): so are the calls still waiting
                    for _, _, done in group:
                        done.cancel()
                    raise
                for (_, _, done), outcome in zip(group, outcomes, strict=True):
                    if done.done():
                        continue
                    if isinstance(outcome, BaseException):
                        done.set_exception(outcome)
                    else:
                        done.set_result(outcome)
        finally:
            self._group_writer = None
            for _, _, done in self._grouped:   # only left when cancelled
                done.cancel()
            self._grouped = []

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await _call(self._reader, _fetchone, sql, params)
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = await _call(self._reader, _fetchall, sql, params)
        return rows

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return row[0] if row is not None else None


# Every statement below runs on the connection's own thread in ONE call (one round trip from the event loop,
# instead of one each for execute, fetch and close). `Connection._execute` is aiosqlite's own way of queueing
# a call on that thread (what its `execute_fetchall` and `execute_insert` use).


def _call(conn: aiosqlite.Connection, fn: Callable[..., _T], *args: Any) -> Awaitable[_T]:
    sqlite_conn = conn._conn   # raises ValueError once closed, as aiosqlite's own methods do
    return conn._execute(fn, sqlite_conn, *args)  # type: ignore[no-untyped-call]


def _rowcount(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    cur = conn.execute(sql, params)
    try:
        return cur.rowcount
    finally:
        cur.close()


def _insert(conn: sqlite3.Connection, sql: str, params: Params) -> int | None:
    cur = conn.execute(sql, params)
    try:
        return cur.lastrowid if cur.rowcount > 0 else None
    finally:
        cur.close()


def _executemany(conn: sqlite3.Connection, sql: str, rows: Iterable[Params]) -> int:
    before = conn.total_changes
    conn.executemany(sql, rows).close()
    return conn.total_changes - before


def _executemany_batches(conn: sqlite3.Connection, batches: Sequence[tuple[str, Sequence[Params]]]) -> int:
    before = conn.total_changes
    for sql, rows in batches:
        conn.executemany(sql, rows).close()
    return conn.total_changes - before


def _fetchone(conn: sqlite3.Connection, sql: str, params: Params) -> Any:
    cur = conn.execute(sql, params)
    try:
        return cur.fetchone()
    finally:
        cur.close()


def _fetchall(conn: sqlite3.Connection, sql: str, params: Params) -> list[Any]:
    cur = conn.execute(sql, params)
    try:
        return cur.fetchall()
    finally:
        cur.close()


def _in_transaction(conn: sqlite3.Connection, fn: Callable[..., _T], *args: Any) -> _T:
    """BEGIN IMMEDIATE; fn; COMMIT (ROLLBACK if fn raises), all on the connection's thread."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _insert_group(conn: sqlite3.Connection, statements: list[tuple[str, Params]]) -> list[int | Exception | None]:
    """BEGIN IMMEDIATE; each INSERT (its rowid, None if nothing was inserted, or the error it raised); COMMIT.

    A failing statement is undone by SQLite alone (statement rollback) and reported for its caller only; if
    the transaction itself was lost (I/O error, disk full), or COMMIT fails, the whole group raises."""
    conn.execute("BEGIN IMMEDIATE")
    outcomes: list[int | Exception | None] = []
    try:
        for sql, params in statements:
            try:
                outcomes.append(_insert(conn, sql, params))
            except sqlite3.Error as exc:
                if not conn.in_transaction:
                    raise
                outcomes.append(exc)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA busy_timeout = 10000")
    return conn
