"""Follow relationships in both directions (remote -> local and local -> remote, local -> local)."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.store.db import Database, Transaction

__all__ = [
    "Follow",
    "count_followers",
    "count_following",
    "delete_follow",
    "follower_inboxes",
    "get_follow",
    "get_follow_by_activity",
    "list_followers",
    "list_following",
    "notified_followers",
    "set_follow",
    "set_follow_options",
    "shows_boosts_of",
]


@dataclass(frozen=True)
class Follow:
    follower_uri: str
    followee_uri: str
    state: str
    activity_uri: str | None
    created_at: float


async def set_follow(tx: Transaction, follower_uri: str, followee_uri: str, state: str,
                     activity_uri: str | None, now: float) -> None:
    await tx.execute(
        "INSERT INTO follows (follower_uri, followee_uri, state, activity_uri, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (follower_uri, followee_uri) DO UPDATE SET state = excluded.state,"
        " activity_uri = coalesce(excluded.activity_uri, follows.activity_uri)",
        (follower_uri, followee_uri, state, activity_uri, now),
    )


async def get_follow(db: Database | Transaction, follower_uri: str, followee_uri: str) -> Follow | None:
    row = await db.fetchone(
        "SELECT follower_uri, followee_uri, state, activity_uri, created_at FROM follows"
        " WHERE follower_uri = ? AND followee_uri = ?", (follower_uri, followee_uri))
    return Follow(**dict(row)) if row is not None else None


async def get_follow_by_activity(db: Database | Transaction, activity_uri: str, follower_uri: str) -> Follow | None:
    row = await db.fetchone(
        "SELECT follower_uri, followee_uri, state, activity_uri, created_at FROM follows"
        " WHERE activity_uri = ? AND follower_uri = ?", (activity_uri, follower_uri))
    return Follow(**dict(row)) if row is not None else None


async def delete_follow(tx: Transaction, follower_uri: str, followee_uri: str) -> bool:
    return await tx.execute("DELETE FROM follows WHERE follower_uri = ? AND followee_uri = ?",
                            (follower_uri, followee_uri)) > 0


async def count_followers(db: Database, actor_uri: str) -> int:
    return int(await db.fetchval(
        "SELECT count(*) FROM follows WHERE followee_uri = ? AND state = 'accepted'", (actor_uri,)
    ))


async def count_following(db: Database, actor_uri: str) -> int:
    return int(await db.fetchval(
        "SELECT count(*) FROM follows WHERE follower_uri = ? AND state = 'accepted'", (actor_uri,)
    ))


async def list_followers(db: Database | Transaction, actor_uri: str, state: str = "accepted",
                         limit: int = 1000, offset: int = 0) -> list[str]:
    rows = await db.fetchall(
        "SELECT follower_uri FROM follows WHERE followee_uri = ? AND state = ? ORDER BY id LIMIT ? OFFSET ?",
        (actor_uri, state, limit, offset))
    return [r["follower_uri"] for r in rows]


async def list_following(db: Database | Transaction, actor_uri: str, state: str = "accepted",
                         limit: int = 1000, offset: int = 0) -> list[str]:
    rows = await db.fetchall(
        "SELECT followee_uri FROM follows WHERE follower_uri = ? AND state = ? ORDER BY id LIMIT ? OFFSET ?",
        (actor_uri, state, limit, offset))
    return [r["followee_uri"] for r in rows]


async def follower_inboxes(db: Database | Transaction, actor_uri: str) -> list[str]:
    """The inboxes that reach every accepted remote follower, shared inboxes deduplicated."""
    rows = await db.fetchall(
        "SELECT DISTINCT coalesce(r.shared_inbox, r.inbox) AS inbox FROM follows f"
        " JOIN remote_actors r ON r.uri = f.follower_uri"
        " WHERE f.followee_uri = ? AND f.state = 'accepted' AND r.gone_at IS NULL ORDER BY inbox",
        (actor_uri,))
    return [r["inbox"] for r in rows]


async def set_follow_options(db: Database, follower_uri: str, followee_uri: str, *, notify: bool | None = None,
                             reblogs: bool | None = None) -> None:
    """A member's options for a follow (made or requested); None leaves one as it is."""
    await db.execute(
        "UPDATE follows SET notify = coalesce(?, notify), show_reblogs = coalesce(?, show_reblogs)"
        " WHERE follower_uri = ? AND followee_uri = ?",
        (None if notify is None else int(notify), None if reblogs is None else int(reblogs), follower_uri,
         followee_uri))


async def notified_followers(db: Database, author_uri: str) -> list[str]:
    """Followers (accepted) who asked to be told of each new post of `author_uri`."""
    rows = await db.fetchall("SELECT follower_uri FROM follows WHERE followee_uri = ? AND state = 'accepted'"
                             " AND notify = 1", (author_uri,))
    return [str(r["follower_uri"]) for r in rows]


async def shows_boosts_of(db: Database, follower_uri: str, followee_uri: str) -> bool:
    """Whether `follower_uri` follows `followee_uri` (accepted) and wants their boosts in home."""
    return await db.fetchval("SELECT 1 FROM follows WHERE follower_uri = ? AND followee_uri = ?"
                             " AND state = 'accepted' AND show_reblogs = 1", (follower_uri, followee_uri)) is not None
