"""Usage counts for NodeInfo and the instance API."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.store.db import Database

__all__ = ["Usage", "usage"]

DAY = 86400.0


@dataclass(frozen=True)
class Usage:
    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


async def usage(db: Database, now: float) -> Usage:
    row = await db.fetchone(
        "SELECT"
        " (SELECT count(*) FROM actors WHERE kind = 'person' AND removed_at IS NULL) AS users,"
        " (SELECT count(DISTINCT local_actor_id) FROM objects WHERE local_actor_id IS NOT NULL"
        "   AND deleted_at IS NULL AND published >= ?) AS month,"
        " (SELECT count(DISTINCT local_actor_id) FROM objects WHERE local_actor_id IS NOT NULL"
        "   AND deleted_at IS NULL AND published >= ?) AS halfyear,"
        " (SELECT count(*) FROM objects WHERE local_actor_id IS NOT NULL AND deleted_at IS NULL) AS posts",
        (now - 30 * DAY, now - 180 * DAY),
    )
    assert row is not None
    return Usage(users=row["users"], active_month=row["month"], active_halfyear=row["halfyear"],
                 local_posts=row["posts"])
