"""Threads as reply trees: a thread's visible posts in date order, its top-level post, thread fields of a post."""

from __future__ import annotations

from fediverse_learn.store.db import Database, Transaction
from fediverse_learn.store.objects import StoredNote, get_note

__all__ = ["MAX_CLIMB", "count_thread", "set_thread_fields", "thread_page", "thread_top"]

MAX_CLIMB = 100     # parents followed up from a post to find its thread's top

# The reply tree under a post; UNION (not UNION ALL) makes a cycle of inReplyTo end instead of loop.
_TREE = (
    "WITH RECURSIVE tree(uri) AS (SELECT ? UNION"
    " SELECT o.uri FROM objects o JOIN tree t ON o.in_reply_to_uri = t.uri)"
)
# Visible posts of the tree; with a community, only the posts it accepted (and always the top-level post).
_VISIBLE = (
    " FROM tree t JOIN objects o ON o.uri = t.uri WHERE o.deleted_at IS NULL"
    " AND o.visibility IN ('public', 'unlisted')"
    " AND (? IS NULL OR o.uri = ? OR o.uri IN (SELECT object_uri FROM community_posts WHERE community_id = ?))"
)


async def thread_page(db: Database, root_uri: str, *, community_id: int | None, limit: int,
                      offset: int = 0) -> list[str]:
    """The uris of a thread's posts (the top-level post and every reply under it), oldest first. Dates are
    compared to the second, as documents carry them (a remote copy has no fraction, our own posts do), and
    posts of the same second in the order we stored them."""
    rows = await db.fetchall(
        f"{_TREE} SELECT o.uri{_VISIBLE} ORDER BY CAST(o.published AS INTEGER), o.id LIMIT ? OFFSET ?",
        (root_uri, community_id, root_uri, community_id, limit, offset))
    return [str(r["uri"]) for r in rows]


async def count_thread(db: Database, root_uri: str, *, community_id: int | None) -> int:
    return int(await db.fetchval(f"{_TREE} SELECT count(*){_VISIBLE}",
                                 (root_uri, community_id, root_uri, community_id)))


async def thread_top(db: Database | Transaction, note: StoredNote, limit: int = MAX_CLIMB) -> StoredNote:
    """The highest post we hold up the `inReplyTo` chain from `note` (the note itself when it starts a thread
    or its parent is missing); at most `limit` steps, and a cycle stops where it closes."""
    current = note
    seen = {note.uri}
    for _ in range(limit):
        parent_uri = current.in_reply_to_uri
        if parent_uri is None or parent_uri in seen:
            break
        parent = await get_note(db, parent_uri)
        if parent is None:
            break
        seen.add(parent_uri)
        current = parent
    return current


async def set_thread_fields(tx: Transaction, uri: str, *, audience: str | None = None, context: str | None = None,
                            name: str | None = None) -> None:
    """Fill a post's `audience`, `context` and title where it has none (what its author said is kept)."""
    await tx.execute(
        "UPDATE objects SET audience_uri = coalesce(audience_uri, ?), context_uri = coalesce(context_uri, ?),"
        " name = coalesce(name, ?) WHERE uri = ?", (audience, context, name, uri))
