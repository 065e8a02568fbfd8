"""Claiming deliveries (`store.deliveries.claim_deliveries`, one UPDATE ... RETURNING): due rows in due order,
each row to one claimer only (also across two processes' connections), and claimable again once its lease ran out.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from fediverse_learn.clock import FakeClock
from fediverse_learn.store import deliveries
from fediverse_learn.store.db import Database
from fediverse_learn.store.deliveries import Delivery, enqueue_deliveries

LEASE = 60.0


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "deliveries.sqlite3", create=True)
    await database.migrate()
    await database.execute(
        "INSERT INTO actors (id, name, kind, private_key_pem, public_key_pem, created_at)"
        " VALUES (1, 'ada', 'person', '-', '-', 0)")
    yield database
    await database.close()


async def enqueue(db: Database, inboxes: list[str], due: float, activity: str = "https://here.test/a/1") -> None:
    async with db.transaction() as tx:
        await enqueue_deliveries(tx, activity, 1, inboxes, b'{"type":"Create"}', due)


def stored(path: Path) -> dict[str, tuple[int, float | None]]:
    """inbox -> (attempts, lease_until), as a fresh connection sees them."""
    with closing(sqlite3.connect(path)) as conn:
        return {inbox: (attempts, lease) for inbox, attempts, lease in
                conn.execute("SELECT inbox_url, attempts, lease_until FROM deliveries")}


def inboxes(rows: list[Delivery]) -> list[str]:
    return [row.inbox_url for row in rows]


async def test_claim_returns_the_earliest_due_rows_in_due_order(db: Database) -> None:
    clock = FakeClock()
    t = clock.time()
    # Given rows whose ids run against their due times (the last inserted is due first), two due together,
    # and one not due yet
    for i in range(8):
        await enqueue(db, [f"https://r{i}.test/inbox"], due=t - 10 * i)
    await enqueue(db, ["https://tie-b.test/inbox", "https://tie-c.test/inbox"], due=t - 35)
    await enqueue(db, ["https://later.test/inbox"], due=t + 1)
    # When a worker claims 6
    claimed = await deliveries.claim_deliveries(db, t, LEASE, limit=6)
    # Then it got the 6 due first, earliest first (ties by id, i.e. by insertion)
    assert inboxes(claimed) == ["https://r7.test/inbox", "https://r6.test/inbox", "https://r5.test/inbox",
                                "https://r4.test/inbox", "https://tie-b.test/inbox", "https://tie-c.test/inbox"]
    # and each claim counted as an attempt, in the answer and on the row, with the lease on the row
    rows = stored(db.path)
    for row in claimed:
        assert row.attempts == 1
        assert rows[row.inbox_url] == (1, t + LEASE)
    assert rows["https://r0.test/inbox"] == (0, None)
    # and the rest come next, still in due order; the row not yet due is never claimed early
    rest = await deliveries.claim_deliveries(db, t, LEASE, limit=10)
    assert inboxes(rest) == [f"https://r{i}.test/inbox" for i in (3, 2, 1, 0)]


async def test_claim_skips_unavailable_and_skipped_hosts(db: Database) -> None:
    t = FakeClock().time()
    await enqueue(db, ["https://ok.test/inbox", "https://down.test/inbox", "https://busy.test/inbox"], due=t)
    await db.execute("INSERT INTO hosts (host, unavailable, updated_at) VALUES ('down.test', 1, 0)")
    claimed = await deliveries.claim_deliveries(db, t, LEASE, limit=10, skip_hosts=["busy.test"])
    assert inboxes(claimed) == ["https://ok.test/inbox"]
    assert stored(db.path)["https://busy.test/inbox"] == (0, None)


async def test_concurrent_claimers_never_get_the_same_row(db: Database) -> None:
    t = FakeClock().time()
    # Given 40 due rows, and a second process's connection to the same file
    await enqueue(db, [f"https://r{i}.test/inbox" for i in range(40)], due=t)
    other = await Database.open(db.path)
    try:
        # When 8 claimers (on both connections) claim at once
        batches = await asyncio.gather(*(deliveries.claim_deliveries(handle, t, LEASE, limit=7)
                                         for handle in [db, other] * 4))
    finally:
        await other.close()
    # Then no row was claimed twice, and every row was claimed once (40 of the 56 asked for)
    ids = [row.id for batch in batches for row in batch]
    assert len(ids) == len(set(ids)) == 40
    assert all(attempts == 1 for attempts, _ in stored(db.path).values())


async def test_row_is_claimable_again_once_its_lease_has_passed(db: Database) -> None:
    clock = FakeClock()
    await enqueue(db, ["https://r.test/inbox"], due=clock.time())
    # Given a row claimed by a worker that then died
    (first,) = await deliveries.claim_deliveries(db, clock.time(), LEASE, limit=5)
    # When the lease has not yet run out, nobody else gets it
    clock.advance(LEASE - 1)
    assert await deliveries.claim_deliveries(db, clock.time(), LEASE, limit=5) == []
    # Then from the moment it has, it is claimed again, as a second attempt, with a new lease
    clock.advance(1)
    (again,) = await deliveries.claim_deliveries(db, clock.time(), LEASE, limit=5)
    assert (again.id, again.attempts) == (first.id, 2)
    assert stored(db.path)["https://r.test/inbox"] == (2, clock.time() + LEASE)
    assert await deliveries.claim_deliveries(db, clock.time(), LEASE, limit=5) == []
