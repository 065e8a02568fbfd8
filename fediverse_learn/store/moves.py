"""Account moves (Move activities) received from remote actors, and whether we followed them."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.store.db import Database, Transaction

__all__ = ["Move", "list_moves", "record_move"]


@dataclass(frozen=True)
class Move:
    actor_uri: str
    target_uri: str
    accepted: bool
    received_at: float


async def record_move(tx: Transaction, actor_uri: str, target_uri: str, accepted: bool, now: float) -> bool:
    """Record a move once per (actor, target); True if new, or newly accepted after an earlier refusal."""
    row = await tx.fetchone(
        "SELECT id, accepted FROM moves WHERE actor_uri = ? AND target_uri = ?", (actor_uri, target_uri)
    )
    if row is None:
        await tx.execute(
            "INSERT INTO moves (actor_uri, target_uri, accepted, received_at) VALUES (?, ?, ?, ?)",
            (actor_uri, target_uri, int(accepted), now),
        )
        return True
    if accepted and not row["accepted"]:
        await tx.execute("UPDATE moves SET accepted = 1, received_at = ? WHERE id = ?", (now, row["id"]))
        return True
    return False


async def list_moves(db: Database | Transaction, actor_uri: str) -> list[Move]:
    rows = await db.fetchall(
        "SELECT actor_uri, target_uri, accepted, received_at FROM moves WHERE actor_uri = ? ORDER BY id", (actor_uri,)
    )
    return [
        Move(
            actor_uri=r["actor_uri"],
            target_uri=r["target_uri"],
            accepted=bool(r["accepted"]),
            received_at=r["received_at"],
        )
        for r in rows
    ]
