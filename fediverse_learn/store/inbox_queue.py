"""The durable inbox queue: verified activities stored before 202, claimed by the inbox worker with a lease."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.store.db import Database, Transaction

__all__ = [
    "QueuedActivity",
    "claim_incoming",
    "count_queued_incoming",
    "enqueue_incoming",
    "enqueue_incoming_tx",
    "finish_incoming",
    "park_incoming",
    "retry_incoming",
]


@dataclass(frozen=True)
class QueuedActivity:
    id: int
    activity_id: str
    actor_uri: str
    recipient: str | None
    body: bytes
    attempts: int


_INSERT = (
    "INSERT INTO inbox_queue (activity_id, actor_uri, recipient, body, next_attempt_at, received_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (activity_id) DO NOTHING"
)


async def enqueue_incoming(
    db: Database, activity_id: str, actor_uri: str, recipient: str | None, body: bytes, now: float,
) -> bool:
    """Store a verified activity; False if this activity id was already received (redelivery).

    Committed (synchronous = FULL) when it returns; concurrent enqueues share a transaction (group commit)."""
    return await db.insert_grouped(_INSERT, (activity_id, actor_uri, recipient, body, now, now)) is not None


async def enqueue_incoming_tx(
    tx: Transaction, activity_id: str, actor_uri: str, recipient: str | None, body: bytes, now: float,
) -> bool:
    """The same inside a caller's transaction (local delivery of our own activities)."""
    return await tx.insert(_INSERT, (activity_id, actor_uri, recipient, body, now, now)) is not None


async def claim_incoming(db: Database, now: float, lease: float, limit: int) -> list[QueuedActivity]:
    """Claim due activities (queued, due, lease expired) in arrival order, leasing them for `lease` seconds.

    One `UPDATE … RETURNING` (one call on the writer's thread, committed when it returns)."""
    rows = await db.execute_returning(
        "UPDATE inbox_queue SET lease_until = ?, attempts = attempts + 1 WHERE id IN ("
        " SELECT id FROM inbox_queue"
        " WHERE state = 'queued' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
        " ORDER BY id LIMIT ?)"
        " RETURNING id, activity_id, actor_uri, recipient, body, attempts",
        (now + lease, now, now, limit),
    )
    return sorted(   # RETURNING gives no order: arrival order is the id's
        (QueuedActivity(id=r["id"], activity_id=r["activity_id"], actor_uri=r["actor_uri"],
                        recipient=r["recipient"], body=bytes(r["body"]), attempts=r["attempts"])
         for r in rows),
        key=lambda row: row.id,
    )


async def finish_incoming(db: Database, *queue_ids: int) -> None:
    """Mark handled activities done, all in one transaction (one call on the writer's thread)."""
    if not queue_ids:
        return
    await db.executemany_batches([(
        "UPDATE inbox_queue SET state = 'done', lease_until = NULL, last_error = NULL WHERE id = ?",
        [(queue_id,) for queue_id in queue_ids],
    )])


async def retry_incoming(db: Database, queue_id: int, error: str, next_attempt_at: float) -> None:
    await db.execute(
        "UPDATE inbox_queue SET lease_until = NULL, last_error = ?, next_attempt_at = ? WHERE id = ?",
        (error[:2000], next_attempt_at, queue_id),
    )


async def park_incoming(db: Database, queue_id: int, error: str) -> None:
    """Give up on an activity, keeping it and the reason (never silently dropped)."""
    await db.execute("UPDATE inbox_queue SET state = 'failed', lease_until = NULL, last_error = ? WHERE id = ?",
                     (error[:2000], queue_id))


async def count_queued_incoming(db: Database, at_most: int) -> int:
    """Queued activities, counting at most `at_most` (bounded cost)."""
    return int(await db.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM inbox_queue WHERE state = 'queued' LIMIT ?)", (at_most,)))
