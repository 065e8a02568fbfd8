"""Search of the client API over what we store: accounts by name prefix, public statuses, hashtags."""

from __future__ import annotations

from fediverse_learn.store.db import Database
from fediverse_learn.store.objects import NOTE_COLUMNS, StoredNote, note_from_row

__all__ = ["search_accounts", "search_hashtags", "search_statuses"]


def _prefix(text: str) -> str:
    """A LIKE pattern matching what starts with `text` (its own wildcards escaped with backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_accounts(db: Database, q: str, limit: int, offset: int) -> list[tuple[str | None, str | None]]:
    """(local name, remote uri) of accounts whose username or display name starts with q: local members and
    communities (not removed), then known remote actors."""
    pattern = _prefix(q.lower())
    rows = await db.fetchall(
        "SELECT * FROM (SELECT name, NULL AS uri, name AS k, 0 AS remote FROM actors WHERE removed_at IS NULL"
        " AND kind != 'application'"
        " AND (lower(name) LIKE ? ESCAPE '\\' OR lower(display_name) LIKE ? ESCAPE '\\')"
        " UNION ALL SELECT NULL, uri, username || '@' || domain, 1 FROM remote_actors WHERE gone_at IS NULL"
        " AND (lower(username) LIKE ? ESCAPE '\\'"
        " OR lower(coalesce(json_extract(data, '$.name'), '')) LIKE ? ESCAPE '\\')"
        ") ORDER BY remote, k LIMIT ? OFFSET ?",
        (pattern, pattern, pattern, pattern, limit, offset))
    return [(r["name"], r["uri"]) for r in rows]


async def search_statuses(db: Database, q: str, limit: int, offset: int) -> list[StoredNote]:
    """Public statuses whose content has q (case-insensitively for ASCII), newest first."""
    pattern = "%" + _prefix(q.lower())
    rows = await db.fetchall(
        f"SELECT {NOTE_COLUMNS} FROM objects WHERE deleted_at IS NULL AND visibility = 'public'"
        " AND lower(content_html) LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT ? OFFSET ?", (pattern, limit, offset))
    return [note_from_row(r) for r in rows]


async def search_hashtags(db: Database, q: str, limit: int, offset: int) -> list[str]:
    """Names (without #, lowercase) of stored hashtags starting with q, most used first."""
    pattern = "#" + _prefix(q.lower().lstrip("#"))
    rows = await db.fetchall(
        "SELECT lower(substr(json_extract(t.value, '$.name'), 2)) AS tag, count(*) AS n"
        " FROM objects, json_each(objects.tags) AS t WHERE objects.deleted_at IS NULL"
        " AND json_extract(t.value, '$.type') = 'Hashtag' AND lower(json_extract(t.value, '$.name')) LIKE ? ESCAPE '\\'"
        " GROUP BY tag ORDER BY n DESC, tag LIMIT ? OFFSET ?", (pattern, limit, offset))
    return [str(r["tag"]) for r in rows]
