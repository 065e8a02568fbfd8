"""The durable delivery queue: one row per (activity, inbox), written in the transaction of the action."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from fediverse_learn.store.db import Database, Transaction
from fediverse_learn.vocab import host_of

__all__ = [
    "Delivery",
    "Settlement",
    "claim_deliveries",
    "drop_delivery",
    "enqueue_deliveries",
    "finish_delivery",
    "release_delivery",
    "retry_delivery",
    "settle_deliveries",
]

# States: queued (due at `next_attempt_at`; claimed by setting `lease_until`) -> done | failed (reason kept).
# A claim counts as an attempt. A process that dies holding a claim loses nothing: the row stays queued and
# is claimable again once its lease has passed. Hosts marked unavailable (`store.hosts`) are never claimed.


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
    rows = [(activity_uri, actor_id, inbox, host_of(inbox), body, now, now) for inbox in dict.fromkeys(inboxes)]
    if not rows:
        return 0
    return await tx.executemany(   # one call; the count of rows changed skips the conflicts
        "INSERT INTO deliveries (activity_uri, actor_id, inbox_url, host, body, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (activity_uri, inbox_url) DO NOTHING",
        rows,
    )


async def claim_deliveries(db: Database, now: float, lease: float, limit: int,
                           skip_hosts: Iterable[str] = ()) -> list[Delivery]:
    """Claim due deliveries with a lease so two workers never send the same row; rows for hosts marked
    unavailable, and for `skip_hosts`, stay queued and unclaimed."""
    skip = list(skip_hosts)
    placeholders = ",".join("?" * len(skip))
    not_skipped = f" AND host NOT IN ({placeholders})" if skip else ""
    # One statement, one transaction, one call on the writer's thread: lease the due rows and return them.
    rows = await db.execute_returning(
        "UPDATE deliveries SET lease_until = ?, attempts = attempts + 1 WHERE id IN ("
        " SELECT id FROM deliveries"
        " WHERE state = 'queued' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
        " AND host NOT IN (SELECT host FROM hosts WHERE unavailable = 1)"
        f"{not_skipped} ORDER BY next_attempt_at, id LIMIT ?)"
        " RETURNING id, activity_uri, actor_id, inbox_url, host, body, attempts, next_attempt_at",
        (now + lease, now, now, *skip, limit),
    )
    rows.sort(key=lambda r: (r["next_attempt_at"], r["id"]))   # RETURNING has no order: the claim order
    return [
        Delivery(id=r["id"], activity_uri=r["activity_uri"], actor_id=r["actor_id"], inbox_url=r["inbox_url"],
                 host=r["host"], body=bytes(r["body"]), attempts=r["attempts"])   # attempts: already counted
        for r in rows
    ]


@dataclass(frozen=True)
class Settlement:
    """The outcome of one claimed row: `done`, `retry` (at `next_attempt_at`), `failed`, or `released`
    (given back unsent because its lease was about to run out: due at once, the attempt not counted)."""

    delivery_id: int
    outcome: Literal["done", "retry", "failed", "released"]
    error: str = ""
    next_attempt_at: float = 0.0


_SETTLE_SQL = {
    "done": "UPDATE deliveries SET state = 'done', lease_until = NULL WHERE id = :id",
    "retry": "UPDATE deliveries SET lease_until = NULL, last_error = :error, next_attempt_at = :at WHERE id = :id",
    "failed": "UPDATE deliveries SET state = 'failed', lease_until = NULL, last_error = :error WHERE id = :id",
    "released": "UPDATE deliveries SET lease_until = NULL, attempts = max(attempts - 1, 0)"
    " WHERE id = :id AND state = 'queued'",
}


async def settle_deliveries(db: Database, settlements: Sequence[Settlement]) -> None:
    """Write several outcomes in one transaction (one fsync for a group of answers)."""
    if not settlements:
        return
    by_outcome: dict[str, list[dict[str, object]]] = {}
    for s in settlements:
        by_outcome.setdefault(s.outcome, []).append(
            {"id": s.delivery_id, "error": s.error[:2000], "at": s.next_attempt_at})
    # one transaction, one call on the writer's thread: one executemany per kind of outcome
    await db.executemany_batches([(_SETTLE_SQL[outcome], params) for outcome, params in by_outcome.items()])


async def finish_delivery(db: Database, delivery_id: int) -> None:
    await settle_deliveries(db, [Settlement(delivery_id, "done")])


async def retry_delivery(db: Database, delivery_id: int, error: str, next_attempt_at: float) -> None:
    await settle_deliveries(db, [Settlement(delivery_id, "retry", error, next_attempt_at)])


async def release_delivery(db: Database, delivery_id: int) -> None:
    """Give a claimed row back unsent: due at once, the attempt not counted."""
    await settle_deliveries(db, [Settlement(delivery_id, "released")])


async def drop_delivery(db: Database, delivery_id: int, error: str) -> None:
    """Give up on a delivery, keeping the row and the reason."""
    await settle_deliveries(db, [Settlement(delivery_id, "failed", error)])
