"""End to end: a `fediverse-learn serve` killed with SIGKILL in the middle of a fan-out loses no delivery."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from types import TracebackType

import pytest

from fediverse_learn.config import FederationConfig
from tests.support.processes import ServerProcess, start_server

pytestmark = pytest.mark.e2e

ACTIVITIES = 200
HOLD_AFTER = 50          # the receiver stops answering after this many, so the kill lands mid-fan-out
LEASE = 120.0            # DeliveryWorker's default lease
# A send keeps its concurrency slot until its outcome is committed, so at most this many rows can have
# reached the receiver without being recorded done when the process dies: the bound on duplicates.
IN_FLIGHT = FederationConfig().delivery_concurrency_per_host


class RecordingInbox:
    """A tiny HTTP/1.1 server on 127.0.0.1 in its own thread and event loop: records every POST body,
    answers 202; once `hold_after` bodies arrived it holds its answers until `release()`."""

    def __init__(self, hold_after: int) -> None:
        self.hold_after = hold_after
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.port = 0
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="recording-inbox", daemon=True)
        self._released = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    def __enter__(self) -> RecordingInbox:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/inbox"

    def ids(self) -> list[str]:
        with self._changed:
            return [json.loads(b)["id"] for b in self.bodies]

    def wait_until(self, done: Callable[[list[str]], bool], timeout: float) -> bool:
        """Block until `done(ids received so far)` holds (woken on every arrival), or the timeout passes."""
        with self._changed:
            return self._changed.wait_for(lambda: done([json.loads(b)["id"] for b in self.bodies]), timeout)

    def release(self) -> None:
        self._loop.call_soon_threadsafe(self._released.set)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        self._released.set()
        for writer in self._connections.values():   # the handlers' reads end; no task is cancelled
            writer.close()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                headers = dict((k.strip().lower(), v.strip()) for k, _, v in (h.partition(":") for h in head[1:] if h))
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                with self._changed:
                    self.bodies.append(body)
                    self.headers.append(headers)
                    received = len(self.bodies)
                    self._changed.notify_all()
                if received > self.hold_after:
                    await self._released.wait()
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._connections.pop(task, None)
            writer.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    a = start_server(tmp_path, "a")
    try:
        yield a
    finally:
        a.stop(signal.SIGKILL)


@contextmanager
def _database(a: ServerProcess) -> Iterator[sqlite3.Connection]:
    """The server's SQLite file, written alongside the server (WAL); committed and closed on exit."""
    with closing(sqlite3.connect(a.root / "data" / "db.sqlite3", timeout=10)) as db, db:
        yield db


def _queue_deliveries(a: ServerProcess, inbox: str, host: str) -> list[str]:
    """Put ACTIVITIES delivery rows for `inbox` straight into the server's database, as publish would."""
    ids = [f"{a.base}/users/ada/activities/{n}" for n in range(ACTIVITIES)]
    now = time.time()
    with _database(a) as db:
        (actor_id,) = db.execute("SELECT id FROM actors WHERE name = 'ada'").fetchone()
        db.executemany(
            "INSERT INTO deliveries (activity_uri, actor_id, inbox_url, host, body, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(uri, actor_id, inbox, host, json.dumps(_create(a, uri, n)).encode(), now, now)
             for n, uri in enumerate(ids)],
        )
    return ids


def _create(a: ServerProcess, uri: str, n: int) -> dict[str, object]:
    actor = f"{a.base}/users/ada"
    return {
        "@context": "https://www.w3.org/ns/activitystreams", "id": uri, "type": "Create", "actor": actor,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": f"{actor}/notes/{n}", "type": "Note", "attributedTo": actor,
                   "content": f"<p>note {n}</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"]},
    }


def test_serve_killed_mid_fan_out_delivers_every_activity_after_restart(server: ServerProcess) -> None:
    a = server
    assert a.cli("member", "add", "ada").returncode == 0
    with RecordingInbox(hold_after=HOLD_AFTER) as inbox:
        # Given 200 queued deliveries for one remote inbox, which the running server starts sending
        ids = _queue_deliveries(a, inbox.url, f"127.0.0.1:{inbox.port}")
        assert inbox.wait_until(lambda got: len(got) > HOLD_AFTER, timeout=30), a.log.read_text()
        # When the server is killed with some but not all received (the inbox is holding its answers)
        assert a.stop(signal.SIGKILL) == -signal.SIGKILL
        before = inbox.ids()
        assert HOLD_AFTER < len(before) < ACTIVITIES
        inbox.release()
        # and restarted once the dead process's leases have passed (we move them back LEASE seconds
        # instead of waiting two minutes; the lease logic itself is covered by tests/federation)
        with _database(a) as db:
            db.execute("UPDATE deliveries SET lease_until = lease_until - ? WHERE lease_until IS NOT NULL",
                       (LEASE,))
        a.start()
        # Then every activity arrives
        assert inbox.wait_until(lambda got: set(got) == set(ids), timeout=30), (
            f"missing {len(set(ids) - set(inbox.ids()))}:\n{a.log.read_text()}")
        # and the restarted server records every row done
        assert _wait_for_states(a, {"done": ACTIVITIES}, timeout=30) == {"done": ACTIVITIES}
        got = inbox.ids()
    # none lost; duplicates only from the requests in flight at the kill (at least once)
    assert set(got) == set(ids)
    assert len(got) - ACTIVITIES <= IN_FLIGHT
    assert 'keyId="' + f'{a.base}/users/ada#main-key"' in inbox.headers[0]["signature"]


def _wait_for_states(a: ServerProcess, expected: dict[str, int], timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        with _database(a) as db:
            states = dict(db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
        if states == expected or time.monotonic() > deadline:
            return states
        time.sleep(0.1)   # waiting for another process to write, not for test logic
