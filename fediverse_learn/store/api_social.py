"""Member lists of the client API: follow requests, bookmarks, favourites, mutes, blocks and markers."""

from __future__ import annotations

from typing import Any

from fediverse_learn.store.api_statuses import Page
from fediverse_learn.store.db import Database
from fediverse_learn.store.objects import NOTE_COLUMNS, StoredNote, note_from_row

__all__ = [
    "add_bookmark",
    "add_mute",
    "add_pin",
    "block_page",
    "bookmark_page",
    "favourite_page",
    "follow_request_page",
    "get_markers",
    "mute_page",
    "mutes_account",
    "remove_bookmark",
    "remove_mute",
    "remove_pin",
    "set_marker",
]


async def _pairs(db: Database, sql: str, params: list[Any], page: Page, column: str = "id") -> list[tuple[int, str]]:
    """(row id, uri) rows of `sql` (which selects `id, uri` and ends in a WHERE clause), id-paged newest first."""
    extra, extra_params, order = page.clause(column)
    rows = await db.fetchall(f"{sql}{extra} ORDER BY {column} {order} LIMIT ?", [*params, *extra_params, page.limit])
    found = [(int(r[0]), str(r[1])) for r in rows]
    return found[::-1] if order == "ASC" else found


async def follow_request_page(db: Database, followee_uri: str, page: Page) -> list[tuple[int, str]]:
    """(follows.id, follower uri) of the Follows of a member still waiting for approval."""
    return await _pairs(db, "SELECT id, follower_uri FROM follows WHERE followee_uri = ? AND state = 'pending'",
                        [followee_uri], page)


async def block_page(db: Database, actor_uri: str, page: Page) -> list[tuple[int, str]]:
    """(blocks.id, blocked uri) of the accounts a member blocks."""
    return await _pairs(db, "SELECT id, target_uri FROM blocks WHERE actor_uri = ?", [actor_uri], page)


async def mute_page(db: Database, actor_id: int, page: Page, now: float) -> list[tuple[int, str]]:
    """(mutes.id, muted uri) of the accounts a member mutes (expired mutes left out)."""
    return await _pairs(db, "SELECT id, target_uri FROM mutes WHERE actor_id = ?"
                        " AND (expires_at IS NULL OR expires_at > ?)", [actor_id, now], page)


async def mutes_account(db: Database, actor_id: int, target_uri: str, now: float) -> bool:
    """Whether the member mutes this account now."""
    return await db.fetchone("SELECT 1 FROM mutes WHERE actor_id = ? AND target_uri = ?"
                             " AND (expires_at IS NULL OR expires_at > ?)", (actor_id, target_uri, now)) is not None


async def add_mute(db: Database, actor_id: int, target_uri: str, notifications: bool, expires_at: float | None,
                   now: float) -> None:
    await db.execute(
        "INSERT INTO mutes (actor_id, target_uri, notifications, expires_at, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (actor_id, target_uri) DO UPDATE SET notifications = excluded.notifications,"
        " expires_at = excluded.expires_at", (actor_id, target_uri, int(notifications), expires_at, now))


async def remove_mute(db: Database, actor_id: int, target_uri: str) -> None:
    await db.execute("DELETE FROM mutes WHERE actor_id = ? AND target_uri = ?", (actor_id, target_uri))


async def _notes_by(db: Database, sql: str, params: list[Any], page: Page) -> tuple[list[int], list[StoredNote]]:
    """(row ids for Link, notes) of `sql`, which selects `id, uri` of notes, id-paged."""
    pairs = await _pairs(db, sql, params, page)
    notes = []
    for _, uri in pairs:
        row = await db.fetchone(f"SELECT {NOTE_COLUMNS} FROM objects WHERE uri = ? AND deleted_at IS NULL", (uri,))
        if row is not None:
            notes.append(note_from_row(row))
    return [i for i, _ in pairs], notes


async def bookmark_page(db: Database, actor_id: int, page: Page) -> tuple[list[int], list[StoredNote]]:
    return await _notes_by(db, "SELECT id, object_uri FROM bookmarks WHERE actor_id = ?", [actor_id], page)


async def favourite_page(db: Database, actor_uri: str, page: Page) -> tuple[list[int], list[StoredNote]]:
    return await _notes_by(db, "SELECT id, object_uri FROM reactions WHERE kind = 'like' AND actor_uri = ?",
                           [actor_uri], page)


async def add_bookmark(db: Database, actor_id: int, object_uri: str, now: float) -> None:
    await db.execute("INSERT INTO bookmarks (actor_id, object_uri, created_at) VALUES (?, ?, ?)"
                     " ON CONFLICT DO NOTHING", (actor_id, object_uri, now))


async def remove_bookmark(db: Database, actor_id: int, object_uri: str) -> None:
    await db.execute("DELETE FROM bookmarks WHERE actor_id = ? AND object_uri = ?", (actor_id, object_uri))


async def add_pin(db: Database, actor_id: int, object_uri: str, now: float, maximum: int) -> bool:
    """Pin a status; False when `maximum` are pinned already."""
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT count(*) FROM pins WHERE actor_id = ?", (actor_id,))
        if row is not None and int(row[0]) >= maximum and await tx.fetchone(
                "SELECT 1 FROM pins WHERE actor_id = ? AND object_uri = ?", (actor_id, object_uri)) is None:
            return False
        await tx.execute("INSERT INTO pins (actor_id, object_uri, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                         (actor_id, object_uri, now))
    return True


async def remove_pin(db: Database, actor_id: int, object_uri: str) -> None:
    await db.execute("DELETE FROM pins WHERE actor_id = ? AND object_uri = ?", (actor_id, object_uri))


async def get_markers(db: Database, actor_id: int) -> list[tuple[str, str, int, float]]:
    """(timeline, last_read_id, version, updated_at) of a member's markers."""
    rows = await db.fetchall("SELECT timeline, last_read_id, version, updated_at FROM markers WHERE actor_id = ?",
                             (actor_id,))
    return [(str(r[0]), str(r[1]), int(r[2]), float(r[3])) for r in rows]


async def set_marker(db: Database, actor_id: int, timeline: str, last_read_id: str, now: float) -> None:
    await db.execute(
        "INSERT INTO markers (actor_id, timeline, last_read_id, version, updated_at) VALUES (?, ?, ?, 1, ?)"
        " ON CONFLICT (actor_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id,"
        " version = markers.version + 1, updated_at = excluded.updated_at", (actor_id, timeline, last_read_id, now))
