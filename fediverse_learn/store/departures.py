"""What a remote actor leaves behind when it deletes itself: follows both ways, reactions, notes."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.store.db import Database, Transaction
from fediverse_learn.store.objects import NOTE_COLUMNS, StoredNote, note_from_row

__all__ = ["STREAMED_DELETES", "Departure", "recent_notes_of", "remove_traces_of"]

STREAMED_DELETES = 200   # a departing actor's newest notes whose deletion is streamed to clients


@dataclass(frozen=True)
class Departure:
    follows: int
    reactions: int
    notes: int


async def remove_traces_of(tx: Transaction, actor_uri: str, now: float) -> Departure:
    """Drop the actor's follows (both directions) and reactions; tombstone its notes so they never return."""
    follows = await tx.execute("DELETE FROM follows WHERE follower_uri = ? OR followee_uri = ?", (actor_uri, actor_uri))
    reactions = await tx.execute("DELETE FROM reactions WHERE actor_uri = ?", (actor_uri,))
    await tx.execute(
        "INSERT INTO tombstones (uri, deleted_at) SELECT uri, ? FROM objects WHERE author_uri = ?"
        " AND local_actor_id IS NULL ON CONFLICT (uri) DO NOTHING",
        (now, actor_uri),
    )
    notes = await tx.execute(
        "UPDATE objects SET deleted_at = ?, content_html = '', source = NULL"
        " WHERE author_uri = ? AND local_actor_id IS NULL AND deleted_at IS NULL",
        (now, actor_uri),
    )
    return Departure(follows=follows, reactions=reactions, notes=notes)


async def recent_notes_of(db: Database, actor_uri: str, limit: int = STREAMED_DELETES) -> list[StoredNote]:
    """An actor's newest stored notes still shown (those a client may have on screen)."""
    rows = await db.fetchall(f"SELECT {NOTE_COLUMNS} FROM objects WHERE author_uri = ? AND deleted_at IS NULL"
                             " AND local_actor_id IS NULL ORDER BY id DESC LIMIT ?", (actor_uri, limit))
    return [note_from_row(r) for r in rows]
