"""Rate limit counters: fixed windows per (bucket, subject), in the database so every process shares them."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.store.db import Database

__all__ = ["Allowance", "hit"]


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float


async def hit(db: Database, bucket: str, subject: str, *, limit: int, window: float, now: float) -> Allowance:
    """Count one request of `subject` in `bucket`; allowed while the window holds at most `limit`."""
    start = now - now % window
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO rate_limits (bucket, subject, window_start, hits) VALUES (?, ?, ?, 1)"
            " ON CONFLICT (bucket, subject) DO UPDATE SET"
            " hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END,"
            " window_start = excluded.window_start", (bucket, subject, start))
        row = await tx.fetchone("SELECT hits FROM rate_limits WHERE bucket = ? AND subject = ?", (bucket, subject))
    hits = int(row["hits"]) if row is not None else 1
    return Allowance(hits <= limit, limit, max(0, limit - hits), start + window)
