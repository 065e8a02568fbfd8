"""Our authored activities (the `activities` table) and the read queries behind note and outbox collections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from fediverse_learn.documents_note import NoteStats
from fediverse_learn.store.db import Database, Row, Transaction
from fediverse_learn.store.reactions import count_reactions

__all__ = [
    "OUTBOX_TYPES",
    "StoredActivity",
    "count_outbox",
    "get_activity",
    "get_activity_by_id",
    "insert_activity",
    "latest_activity",
    "local_follower_uris",
    "note_stats",
    "outbox_page",
    "remove_activity",
    "reply_page",
    "scrub_object",
]

OUTBOX_TYPES = ("Create", "Announce")
_MAX_ID = (1 << 63) - 1
_VISIBLE = "('public', 'unlisted')"
_COLUMNS = "id, uri, actor_id, type, object_uri, public, document, published"
# Public Creates of notes that still exist and Announces that were not undone (an Undo removes the row).
_OUTBOX_WHERE = (
    "actor_id = ? AND public = 1 AND type IN ('Create', 'Announce')"
    " AND (type != 'Create' OR object_uri NOT IN (SELECT uri FROM tombstones))"
)


@dataclass(frozen=True)
class StoredActivity:
    id: int
    uri: str
    actor_id: int
    type: str
    object_uri: str | None
    public: bool
    document: dict[str, Any]
    published: float


def _activity(row: Row) -> StoredActivity:
    return StoredActivity(
        id=row["id"],
        uri=row["uri"],
        actor_id=row["actor_id"],
        type=row["type"],
        object_uri=row["object_uri"],
        public=bool(row["public"]),
        document=orjson.loads(row["document"]),
        published=row["published"],
    )


async def insert_activity(tx: Transaction, activity: StoredActivity) -> bool:
    """Store one of our activities; False if its uri was already stored (nothing changed)."""
    return (
        await tx.insert(
            f"INSERT INTO activities ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                activity.id,
                activity.uri,
                activity.actor_id,
                activity.type,
                activity.object_uri,
                int(activity.public),
                orjson.dumps(activity.document).decode(),
                activity.published,
            ),
        )
        is not None
    )


async def get_activity(db: Database | Transaction, uri: str) -> StoredActivity | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM activities WHERE uri = ?", (uri,))
    return _activity(row) if row is not None else None


async def get_activity_by_id(db: Database | Transaction, activity_id: int) -> StoredActivity | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM activities WHERE id = ?", (activity_id,))
    return _activity(row) if row is not None else None


async def remove_activity(tx: Transaction, uri: str, actor_id: int) -> bool:
    """Forget an activity that was undone (it leaves the outbox and its URL answers 404)."""
    return await tx.execute("DELETE FROM activities WHERE uri = ? AND actor_id = ?", (uri, actor_id)) > 0


async def count_outbox(db: Database, actor_id: int) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM activities WHERE {_OUTBOX_WHERE}", (actor_id,)))


async def outbox_page(
    db: Database, actor_id: int, *, max_id: int | None = None, min_id: int | None = None, limit: int = 20
) -> list[StoredActivity]:
    """Public Creates and Announces, newest first: below `max_id`, or the `limit` just above `min_id`."""
    if min_id is not None:
        rows = await db.fetchall(
            f"SELECT {_COLUMNS} FROM activities WHERE {_OUTBOX_WHERE} AND id > ? ORDER BY id LIMIT ?",
            (actor_id, min_id, limit),
        )
        rows.reverse()
    else:
        rows = await db.fetchall(
            f"SELECT {_COLUMNS} FROM activities WHERE {_OUTBOX_WHERE} AND id < ? ORDER BY id DESC LIMIT ?",
            (actor_id, max_id if max_id is not None else _MAX_ID, limit),
        )
    return [_activity(r) for r in rows]


async def reply_page(db: Database, note_uri: str, min_id: int | None, limit: int) -> list[tuple[int, str]]:
    """(id, uri) of the public and unlisted replies to a note, oldest first, after `min_id`."""
    rows = await db.fetchall(
        f"SELECT id, uri FROM objects WHERE in_reply_to_uri = ? AND deleted_at IS NULL AND visibility IN {_VISIBLE}"
        " AND id > ? ORDER BY id LIMIT ?",
        (note_uri, min_id if min_id is not None else -1, limit),
    )
    return [(int(r["id"]), str(r["uri"])) for r in rows]


async def note_stats(db: Database, note_uri: str, page_size: int) -> NoteStats:
    """Likes, shares and the first page of replies of a note, for its document."""
    replies = await reply_page(db, note_uri, None, page_size + 1)
    more = len(replies) > page_size
    replies = replies[:page_size]
    return NoteStats(
        likes=await count_reactions(db, note_uri, "like"),
        shares=await count_reactions(db, note_uri, "announce"),
        replies=tuple(uri for _, uri in replies),
        replies_after=replies[-1][0] if more else None,
    )


async def local_follower_uris(db: Database | Transaction, actor_uri: str, local_prefix: str) -> list[str]:
    """Accepted followers of an actor whose uri starts with `local_prefix` (our own actors)."""
    rows = await db.fetchall(
        "SELECT follower_uri FROM follows WHERE followee_uri = ? AND state = 'accepted'"
        " AND substr(follower_uri, 1, ?) = ? ORDER BY id",
        (actor_uri, len(local_prefix), local_prefix),
    )
    return [str(r["follower_uri"]) for r in rows]


async def latest_activity(
    db: Database | Transaction, actor_id: int, kind: str, object_uri: str
) -> StoredActivity | None:
    """The newest of an actor's activities of a type about an object (an existing Like, a note's Create)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM activities WHERE actor_id = ? AND type = ? AND object_uri = ?"
        " ORDER BY id DESC LIMIT 1",
        (actor_id, kind, object_uri),
    )
    return _activity(row) if row is not None else None


async def scrub_object(tx: Transaction, object_uri: str, replacement: dict[str, Any]) -> int:
    """Replace a deleted note embedded in our stored activities (Create, Update) by `replacement` (its
    Tombstone), so its text is kept nowhere; returns how many activities changed."""
    rows = await tx.fetchall(
        "SELECT id, document FROM activities WHERE object_uri = ? AND type IN ('Create', 'Update')", (object_uri,))
    for row in rows:
        document = {**orjson.loads(row["document"]), "object": replacement}
        await tx.execute("UPDATE activities SET document = ? WHERE id = ?",
                         (orjson.dumps(document).decode(), row["id"]))
    return len(rows)
