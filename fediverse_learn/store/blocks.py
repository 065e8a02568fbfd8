"""Blocks between actors (remote blocking local, local blocking remote): record, undo, look up."""

from __future__ import annotations

from fediverse_learn.store.db import Database, Transaction

__all__ = ["add_block", "block_between", "is_blocked", "remove_block", "remove_block_by_activity"]


async def add_block(tx: Transaction, actor_uri: str, target_uri: str, activity_uri: str | None, now: float) -> bool:
    """Record that `actor_uri` blocks `target_uri`; False if already recorded."""
    return (
        await tx.insert(
            "INSERT INTO blocks (actor_uri, target_uri, activity_uri, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (actor_uri, target_uri) DO NOTHING",
            (actor_uri, target_uri, activity_uri, now),
        )
        is not None
    )


async def remove_block(tx: Transaction, actor_uri: str, target_uri: str) -> bool:
    return await tx.execute("DELETE FROM blocks WHERE actor_uri = ? AND target_uri = ?", (actor_uri, target_uri)) > 0


async def remove_block_by_activity(tx: Transaction, activity_uri: str, actor_uri: str) -> bool:
    """Undo by the Block's id, only for the actor that sent it."""
    return (
        await tx.execute("DELETE FROM blocks WHERE activity_uri = ? AND actor_uri = ?", (activity_uri, actor_uri)) > 0
    )


async def is_blocked(db: Database | Transaction, actor_uri: str, target_uri: str) -> bool:
    """True if `actor_uri` blocks `target_uri` (one direction)."""
    return (
        await db.fetchone("SELECT 1 FROM blocks WHERE actor_uri = ? AND target_uri = ?", (actor_uri, target_uri))
        is not None
    )


async def block_between(db: Database | Transaction, a: str, b: str) -> bool:
    """True if either actor blocks the other."""
    return (
        await db.fetchone(
            "SELECT 1 FROM blocks WHERE (actor_uri = ? AND target_uri = ?) OR (actor_uri = ? AND target_uri = ?)",
            (a, b, b, a),
        )
        is not None
    )
