"""Rate limit counters: fixed windows per (bucket, subject), in the database so every process shares them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fediverse_learn.store.db import Database, Transaction

__all__ = ["Allowance", "Counter", "hit", "hit_all", "prune", "unhit"]

# One statement per count. A hit from a later window starts the count again; one from an earlier window (a
# process whose clock is a little behind, at the turn of a window) counts in the stored, later one.
_HIT = (
    "INSERT INTO rate_limits (bucket, subject, window_start, hits) VALUES (?, ?, ?, 1)"
    " ON CONFLICT (bucket, subject) DO UPDATE SET"
    " hits = CASE WHEN excluded.window_start > rate_limits.window_start THEN 1 ELSE rate_limits.hits + 1 END,"
    " window_start = max(rate_limits.window_start, excluded.window_start)"
    " RETURNING hits, window_start")


@dataclass(frozen=True)
class Counter:
    """What to count: `subject` (a token hash, an address, an account) in `bucket`, `limit` per `window`."""

    bucket: str
    subject: str
    limit: int
    window: float


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float
    bucket: str
    subject: str
    window_start: float


async def _count(tx: Transaction, counter: Counter, now: float) -> Allowance:
    row = await tx.fetchone(_HIT, (counter.bucket, counter.subject, now - now % counter.window))
    assert row is not None   # an upsert with RETURNING always returns its row
    hits, start = int(row["hits"]), float(row["window_start"])
    return Allowance(hits <= counter.limit, counter.limit, max(0, counter.limit - hits), start + counter.window,
                     counter.bucket, counter.subject, start)


async def hit_all(db: Database, counters: Sequence[Counter], now: float) -> list[Allowance]:
    """Count one request in each counter, in one transaction; an allowance per counter, in order."""
    if not counters:
        return []
    async with db.transaction() as tx:
        return [await _count(tx, counter, now) for counter in counters]


async def hit(db: Database, bucket: str, subject: str, *, limit: int, window: float, now: float) -> Allowance:
    """Count one request of `subject` in `bucket`; allowed while the window holds at most `limit`."""
    return (await hit_all(db, [Counter(bucket, subject, limit, window)], now))[0]


async def unhit(db: Database, allowances: Sequence[Allowance]) -> None:
    """Take back the counts of these allowances (an action that did not happen), in their own windows only."""
    if allowances:
        async with db.transaction() as tx:
            await tx.executemany(
                "UPDATE rate_limits SET hits = hits - 1"
                " WHERE bucket = ? AND subject = ? AND window_start = ? AND hits > 0",
                [(a.bucket, a.subject, a.window_start) for a in allowances])


async def prune(db: Database, windows: Mapping[str, float], now: float) -> int:
    """Delete the counters whose window has ended, for these buckets (name -> window); how many went."""
    async with db.transaction() as tx:
        return await tx.executemany("DELETE FROM rate_limits WHERE bucket = ? AND window_start + ? <= ?",
                                    [(bucket, window, now) for bucket, window in windows.items()])
