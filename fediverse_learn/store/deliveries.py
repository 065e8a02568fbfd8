"""The durable delivery queue: one row per (activity, inbox), written in the transaction of the action."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fediverse_learn.store.db import Database, Transaction
from fediverse_learn.vocab import host_of

__all__ = [
    "Delivery",
    "claim_deliveries",
    "drop_delivery",
    "enqueue_deliveries",
    "finish_delivery",
    "retry_delivery",
]


@dataclass(frozen=True)
class Delivery:
    id: int
    activity_uri: str
    actor_id: int
    inbox_url: str
    host: str
    body: bytes
    attempts: int


async def enqueue_deliveries(
    tx: Transaction, activity_uri: str, actor_id: int, inboxes: Iterable[str], body: bytes, now: float,
) -> int:
    """Queue `body` (the signed-at-send-time activity JSON) for each inbox; return how many rows were added."""
    added = 0
    for inbox in dict.fromkeys(inboxes):
        rowid = await tx.insert(
            "INSERT INTO deliveries (activity_uri, actor_id, inbox_url, host, body, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (activity_uri, inbox_url) DO NOTHING",
            (activity_uri, actor_id, inbox, host_of(inbox), body, now, now),
        )
        added += rowid is not None
    return added


async def claim_deliveries(db: Database, now: float, lease: float, limit: int,
                           skip_hosts: Iterable[str] = ()) -> list[Delivery]:
    """Claim due deliveries with a lease so two workers never send the same row."""
    skip = list(skip_hosts)
    placeholders = ",".join("?" * len(skip))
    not_skipped = f" AND host NOT IN ({placeholders})" if skip else ""
    async with db.transaction() as tx:
        rows = await tx.fetchall(
            "SELECT id, activity_uri, actor_id, inbox_url, host, body, attempts FROM deliveries"
            " WHERE state = 'queued' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
            f"{not_skipped} ORDER BY next_attempt_at, id LIMIT ?",
            (now, now, *skip, limit),
        )
        if rows:
            await tx.executemany(
                "UPDATE deliveries SET lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                [(now + lease, r["id"]) for r in rows],
            )
    return [
        Delivery(id=r["id"], activity_uri=r["activity_uri"], actor_id=r["actor_id"], inbox_url=r["inbox_url"],
                 host=r["host"], body=bytes(r["body"]), attempts=r["attempts"] + 1)
        for r in rows
    ]


async def finish_delivery(db: Database, delivery_id: int) -> None:
    await db.execute("UPDATE deliveries SET state = 'done', lease_until = NULL WHERE id = ?", (delivery_id,))


async def retry_delivery(db: Database, delivery_id: int, error: str, next_attempt_at: float) -> None:
    await db.execute(
        "UPDATE deliveries SET lease_until = NULL, last_error = ?, next_attempt_at = ? WHERE id = ?",
        (error[:2000], next_attempt_at, delivery_id),
    )


async def drop_delivery(db: Database, delivery_id: int, error: str) -> None:
    """Give up on a delivery, keeping the row and the reason."""
    await db.execute("UPDATE deliveries SET state = 'failed', lease_until = NULL, last_error = ? WHERE id = ?",
                     (error[:2000], delivery_id))
