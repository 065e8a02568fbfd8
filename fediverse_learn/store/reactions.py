"""Likes and Announces (boosts) of notes, local and remote."""

from __future__ import annotations

from fediverse_learn.store.db import Database, Transaction

__all__ = ["add_reaction", "count_reactions", "remove_reaction", "remove_reaction_by_activity"]


async def add_reaction(tx: Transaction, kind: str, actor_uri: str, object_uri: str, activity_uri: str,
                       now: float) -> bool:
    """Record a like/announce; False if this actor already reacted so (or the activity was seen)."""
    return await tx.insert(
        "INSERT INTO reactions (kind, actor_uri, object_uri, activity_uri, published) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING", (kind, actor_uri, object_uri, activity_uri, now)) is not None


async def remove_reaction(tx: Transaction, kind: str, actor_uri: str, object_uri: str) -> bool:
    return await tx.execute("DELETE FROM reactions WHERE kind = ? AND actor_uri = ? AND object_uri = ?",
                            (kind, actor_uri, object_uri)) > 0


async def remove_reaction_by_activity(tx: Transaction, activity_uri: str, actor_uri: str) -> str | None:
    """Undo by the original activity's id, only for its own actor; returns the kind removed."""
    row = await tx.fetchone("SELECT kind FROM reactions WHERE activity_uri = ? AND actor_uri = ?",
                            (activity_uri, actor_uri))
    if row is None:
        return None
    await tx.execute("DELETE FROM reactions WHERE activity_uri = ?", (activity_uri,))
    return str(row["kind"])


async def count_reactions(db: Database | Transaction, object_uri: str, kind: str) -> int:
    return int((await db.fetchone("SELECT count(*) FROM reactions WHERE object_uri = ? AND kind = ?",
                                  (object_uri, kind)) or [0])[0])
