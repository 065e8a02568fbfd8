"""Status queries of the client API: timelines and account pages (id-paged), threads, viewer flags,
idempotency keys, edit history and the app a status was posted with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from fediverse_learn.store.db import Database
from fediverse_learn.store.objects import NOTE_COLUMNS, StoredNote, note_from_row

__all__ = [
    "Edit",
    "Page",
    "ViewerFlags",
    "account_page",
    "descendants",
    "edits",
    "finish_idempotency",
    "follows_accepted",
    "home_page",
    "ids_by_uri",
    "public_page",
    "release_idempotency",
    "replies_count",
    "reserve_idempotency",
    "save_edit",
    "set_status_app",
    "status_app_id",
    "viewer_flags",
]

IDEMPOTENCY_TTL = 3600.0


@dataclass(frozen=True)
class Page:
    """Mastodon's id paging: results older than max_id, newer than since_id (newest first) or just newer than
    min_id (the page right after it, still returned newest first)."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def clause(self, column: str = "id") -> tuple[str, list[Any], str]:
        """(SQL conditions starting with AND, parameters, ORDER BY direction)."""
        sql, params = "", []
        for value, op in ((self.max_id, "<"), (self.since_id, ">"), (self.min_id, ">")):
            if value is not None:
                sql += f" AND {column} {op} ?"
                params.append(value)
        return sql, params, "ASC" if self.min_id is not None else "DESC"


async def _paged(db: Database, where: str, params: list[Any], page: Page) -> list[StoredNote]:
    extra, extra_params, order = page.clause()
    rows = await db.fetchall(
        f"SELECT {NOTE_COLUMNS} FROM objects WHERE deleted_at IS NULL AND {where}{extra}"
        f" ORDER BY id {order} LIMIT ?", [*params, *extra_params, page.limit])
    notes = [note_from_row(r) for r in rows]
    return notes[::-1] if order == "ASC" else notes


def _quoted(uri: str) -> str:
    return orjson.dumps(uri).decode()


async def home_page(db: Database, me_uri: str, page: Page) -> list[StoredNote]:
    """Own statuses and those of accounts followed (followers-only ones included; direct only if addressed)."""
    where = (
        "(author_uri = ? OR (author_uri IN (SELECT followee_uri FROM follows WHERE follower_uri = ?"
        " AND state = 'accepted') AND (visibility != 'direct' OR instr(addressing, ?) > 0)))"
    )
    return await _paged(db, where, [me_uri, me_uri, _quoted(me_uri)], page)


async def public_page(db: Database, page: Page, *, local: bool | None) -> list[StoredNote]:
    where = "visibility = 'public'"
    if local is not None:
        where += " AND local_actor_id IS NOT NULL" if local else " AND local_actor_id IS NULL"
    return await _paged(db, where, [], page)


async def account_page(db: Database, author_uri: str, viewer_uri: str | None, page: Page, *,
                       exclude_replies: bool = False, tagged: str | None = None,
                       pinned_by: int | None = None) -> list[StoredNote]:
    """An author's statuses that the viewer may see (followers-only for their followers, direct if addressed)."""
    where = "author_uri = ?"
    params: list[Any] = [author_uri]
    if viewer_uri != author_uri:
        where += (" AND (visibility IN ('public', 'unlisted') OR (visibility = 'private' AND EXISTS (SELECT 1 FROM"
                  " follows WHERE follower_uri = ? AND followee_uri = ? AND state = 'accepted'))"
                  " OR instr(addressing, ?) > 0)")
        params += [viewer_uri or "", author_uri, _quoted(viewer_uri) if viewer_uri else "\x00"]
    if exclude_replies:
        where += " AND in_reply_to_uri IS NULL"
    if tagged:
        where += " AND instr(lower(tags), ?) > 0"
        params.append(f'"name":{_quoted("#" + tagged.lower().lstrip("#"))}')
    if pinned_by is not None:
        where += " AND uri IN (SELECT object_uri FROM pins WHERE actor_id = ?)"
        params.append(pinned_by)
    return await _paged(db, where, params, page)


async def descendants(db: Database, uri: str, limit: int = 200) -> list[StoredNote]:
    """Replies to a status, and replies to them (40 levels at most), oldest first."""
    rows = await db.fetchall(
        "WITH RECURSIVE thread(uri, depth) AS (SELECT ?, 0 UNION SELECT o.uri, t.depth + 1 FROM objects o"
        " JOIN thread t ON o.in_reply_to_uri = t.uri WHERE t.depth < 40)"
        f" SELECT {NOTE_COLUMNS} FROM objects WHERE uri IN (SELECT uri FROM thread WHERE depth > 0)"
        " AND deleted_at IS NULL ORDER BY id LIMIT ?", (uri, limit))
    return [note_from_row(r) for r in rows]


async def follows_accepted(db: Database, follower_uri: str, followee_uri: str) -> bool:
    return await db.fetchone("SELECT 1 FROM follows WHERE follower_uri = ? AND followee_uri = ? AND state = 'accepted'",
                             (follower_uri, followee_uri)) is not None


async def ids_by_uri(db: Database, uri: str) -> tuple[int, str] | None:
    """(id, author uri) of a stored status."""
    row = await db.fetchone("SELECT id, author_uri FROM objects WHERE uri = ? AND deleted_at IS NULL", (uri,))
    return (int(row["id"]), str(row["author_uri"])) if row is not None else None


async def replies_count(db: Database, uri: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM objects WHERE in_reply_to_uri = ? AND deleted_at IS NULL"
                                 " AND visibility IN ('public', 'unlisted')", (uri,)))


@dataclass(frozen=True)
class ViewerFlags:
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False


async def viewer_flags(db: Database, viewer_id: int, viewer_uri: str, uri: str) -> ViewerFlags:
    row = await db.fetchone(
        "SELECT EXISTS (SELECT 1 FROM reactions WHERE kind = 'like' AND actor_uri = :me AND object_uri = :uri) AS f,"
        " EXISTS (SELECT 1 FROM reactions WHERE kind = 'announce' AND actor_uri = :me AND object_uri = :uri) AS r,"
        " EXISTS (SELECT 1 FROM bookmarks WHERE actor_id = :id AND object_uri = :uri) AS b,"
        " EXISTS (SELECT 1 FROM pins WHERE actor_id = :id AND object_uri = :uri) AS p",
        {"me": viewer_uri, "uri": uri, "id": viewer_id})
    assert row is not None
    return ViewerFlags(bool(row["f"]), bool(row["r"]), bool(row["b"]), bool(row["p"]))


# --- idempotency keys -------------------------------------------------------------------------------------

async def reserve_idempotency(db: Database, actor_id: int, key: str, now: float) -> tuple[bool, int | None]:
    """(True, None) if this request may publish; else (False, the status id of the first request, or None
    while it is still publishing). Keys older than an hour are forgotten."""
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - IDEMPOTENCY_TTL,))
        inserted = await tx.insert(
            "INSERT INTO idempotency_keys (actor_id, key, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (actor_id, key, now))
        if inserted is not None:
            return True, None
        row = await tx.fetchone("SELECT object_id FROM idempotency_keys WHERE actor_id = ? AND key = ?",
                                (actor_id, key))
    return False, (row["object_id"] if row is not None else None)


async def finish_idempotency(db: Database, actor_id: int, key: str, object_id: int) -> None:
    await db.execute("UPDATE idempotency_keys SET object_id = ? WHERE actor_id = ? AND key = ?",
                     (object_id, actor_id, key))


async def release_idempotency(db: Database, actor_id: int, key: str) -> None:
    await db.execute("DELETE FROM idempotency_keys WHERE actor_id = ? AND key = ? AND object_id IS NULL",
                     (actor_id, key))


# --- edits and apps ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    content_html: str
    summary: str | None
    sensitive: bool
    created_at: float


async def save_edit(db: Database, note: StoredNote) -> None:
    """Keep the version of a status that an edit is about to replace."""
    await db.execute(
        "INSERT INTO status_edits (object_uri, content_html, summary, sensitive, created_at) VALUES (?, ?, ?, ?, ?)",
        (note.uri, note.content_html, note.summary, int(note.sensitive), note.updated or note.published))


async def edits(db: Database, uri: str) -> list[Edit]:
    """Earlier versions of a status, oldest first."""
    rows = await db.fetchall("SELECT content_html, summary, sensitive, created_at FROM status_edits"
                             " WHERE object_uri = ? ORDER BY id", (uri,))
    return [Edit(r["content_html"], r["summary"], bool(r["sensitive"]), r["created_at"]) for r in rows]


async def set_status_app(db: Database, uri: str, app_id: int | None) -> None:
    await db.execute("INSERT INTO status_meta (object_uri, app_id) VALUES (?, ?)"
                     " ON CONFLICT (object_uri) DO UPDATE SET app_id = excluded.app_id", (uri, app_id))


async def status_app_id(db: Database, uri: str) -> int | None:
    return await db.fetchval("SELECT app_id FROM status_meta WHERE object_uri = ?", (uri,))  # type: ignore[no-any-return]
