"""Notes, local and remote: insert, update, soft delete, look up; tombstones and early Delete/Undo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from fediverse_learn.store.db import Database, Row, Transaction

__all__ = [
    "NOTE_COLUMNS",
    "StoredNote",
    "get_note",
    "get_note_by_id",
    "insert_new_note",
    "is_tombstoned",
    "note_from_row",
    "pop_early_undo",
    "record_early_undo",
    "save_note",
    "tombstone",
]


@dataclass(frozen=True)
class StoredNote:
    id: int
    uri: str
    local_actor_id: int | None
    author_uri: str
    type: str
    visibility: str
    content_html: str
    source: str | None
    source_type: str | None
    summary: str | None
    name: str | None
    sensitive: bool
    language: str | None
    url: str | None
    in_reply_to_uri: str | None
    context_uri: str | None
    audience_uri: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    tags: tuple[dict[str, Any], ...]
    published: float
    updated: float | None
    deleted_at: float | None

    @property
    def is_local(self) -> bool:
        return self.local_actor_id is not None


_COLUMNS = (
    "id, uri, local_actor_id, author_uri, type, visibility, content_html, source, source_type, summary, name,"
    " sensitive, language, url, in_reply_to_uri, context_uri, audience_uri, addressing, tags, published,"
    " updated, deleted_at"
)
NOTE_COLUMNS = _COLUMNS


def note_from_row(row: Row) -> StoredNote:
    """A StoredNote from a row selected with NOTE_COLUMNS."""
    addressing = orjson.loads(row["addressing"])
    return StoredNote(
        id=row["id"], uri=row["uri"], local_actor_id=row["local_actor_id"], author_uri=row["author_uri"],
        type=row["type"], visibility=row["visibility"], content_html=row["content_html"], source=row["source"],
        source_type=row["source_type"], summary=row["summary"], name=row["name"],
        sensitive=bool(row["sensitive"]), language=row["language"], url=row["url"],
        in_reply_to_uri=row["in_reply_to_uri"], context_uri=row["context_uri"],
        audience_uri=row["audience_uri"], to=tuple(addressing.get("to", ())),
        cc=tuple(addressing.get("cc", ())), tags=tuple(orjson.loads(row["tags"])),
        published=row["published"], updated=row["updated"], deleted_at=row["deleted_at"],
    )


def _insert_params(note: StoredNote) -> tuple[Any, ...]:
    addressing = orjson.dumps({"to": list(note.to), "cc": list(note.cc)}).decode()
    tags = orjson.dumps(list(note.tags)).decode()
    return (note.id, note.uri, note.local_actor_id, note.author_uri, note.type, note.visibility,
            note.content_html, note.source, note.source_type, note.summary, note.name, int(note.sensitive),
            note.language, note.url, note.in_reply_to_uri, note.context_uri, note.audience_uri, addressing,
            tags, note.published, note.updated, note.deleted_at)


async def save_note(tx: Transaction, note: StoredNote) -> bool:
    """Insert a note, or update the content of an existing one with the same uri and author.

    Returns False when a row with this uri exists under another author (nothing changed)."""
    existing = await tx.fetchone("SELECT author_uri FROM objects WHERE uri = ?", (note.uri,))
    if existing is not None and existing["author_uri"] != note.author_uri:
        return False
    if existing is None:
        await tx.execute(f"INSERT INTO objects ({_COLUMNS}) VALUES ({','.join('?' * 22)})", _insert_params(note))
        return True
    await tx.execute(
        "UPDATE objects SET content_html = ?, source = ?, source_type = ?, summary = ?, name = ?, sensitive = ?,"
        " language = ?, tags = ?, updated = ? WHERE uri = ?",
        (note.content_html, note.source, note.source_type, note.summary, note.name, int(note.sensitive),
         note.language, orjson.dumps(list(note.tags)).decode(), note.updated, note.uri),
    )
    return True


_INSERT_NEW = (
    f"INSERT INTO objects ({_COLUMNS}) SELECT {','.join('?' * 22)}"
    " WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE uri = ?)"
    " AND NOT EXISTS (SELECT 1 FROM early_undos WHERE target_uri = ? AND actor_uri = ?)"
    " ON CONFLICT (uri) DO NOTHING"
)


async def insert_new_note(db: Database, note: StoredNote) -> bool:
    """Insert a note in one statement (its own transaction, one call on the writer's thread) only when its
    uri is new, not tombstoned and has no early Delete/Undo by its author; False when nothing was written
    (the caller then finds out which, with `is_tombstoned`, `pop_early_undo` and `get_note`)."""
    return await db.insert(_INSERT_NEW, (*_insert_params(note), note.uri, note.uri, note.author_uri)) is not None


async def get_note(db: Database | Transaction, uri: str) -> StoredNote | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM objects WHERE uri = ?", (uri,))
    return note_from_row(row) if row is not None else None


async def get_note_by_id(db: Database | Transaction, note_id: int) -> StoredNote | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM objects WHERE id = ?", (note_id,))
    return note_from_row(row) if row is not None else None


async def tombstone(tx: Transaction, uri: str, now: float) -> None:
    """Mark an object deleted and remember its uri so it never comes back."""
    await tx.execute("UPDATE objects SET deleted_at = ?, content_html = '', source = NULL WHERE uri = ?"
                     " AND deleted_at IS NULL", (now, uri))
    await tx.execute("INSERT INTO tombstones (uri, deleted_at) VALUES (?, ?) ON CONFLICT (uri) DO NOTHING",
                     (uri, now))


async def is_tombstoned(db: Database | Transaction, uri: str) -> bool:
    return await db.fetchone("SELECT 1 FROM tombstones WHERE uri = ?", (uri,)) is not None


async def record_early_undo(tx: Transaction, target_uri: str, actor_uri: str, now: float) -> None:
    """A Delete/Undo arrived for something we have not seen: remember it so a late arrival is dropped."""
    await tx.execute(
        "INSERT INTO early_undos (target_uri, actor_uri, received_at) VALUES (?, ?, ?)"
        " ON CONFLICT (target_uri, actor_uri) DO NOTHING",
        (target_uri, actor_uri, now),
    )


async def pop_early_undo(tx: Transaction, target_uri: str, actor_uri: str) -> bool:
    """True (and forgotten) if a Delete/Undo of this target by this actor arrived before it."""
    return await tx.execute("DELETE FROM early_undos WHERE target_uri = ? AND actor_uri = ?",
                            (target_uri, actor_uri)) > 0
