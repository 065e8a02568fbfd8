"""Delivery health per remote host: the UTC days deliveries failed, and the unavailable mark they lead to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from fediverse_learn.store.db import Database

__all__ = [
    "FAILURE_DAYS_THRESHOLD",
    "HostHealth",
    "get_host_health",
    "mark_host_available",
    "record_host_failure",
    "unavailable_hosts",
    "utc_day",
]

FAILURE_DAYS_THRESHOLD = 7  # Mastodon's DeliveryFailureTracker: failing on 7 distinct days -> unavailable
_KEPT_DAYS = 31  # bound the list; the unavailable flag itself is stored, not recounted


@dataclass(frozen=True)
class HostHealth:
    host: str  # as `vocab.host_of` gives it (lowercase, non-default port kept)
    failure_days: tuple[str, ...]
    unavailable: bool


def utc_day(now: float) -> str:
    """'YYYY-MM-DD' of a timestamp, in UTC."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


async def record_host_failure(db: Database, host: str, now: float) -> bool:
    """Record that a delivery to `host` failed today (UTC); return True if the host is (now) unavailable."""
    day = utc_day(now)
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT failure_days, unavailable FROM hosts WHERE host = ?", (host,))
        days = set(_days(row["failure_days"])) if row is not None else set()
        was_unavailable = row is not None and bool(row["unavailable"])
        if day in days:
            return was_unavailable
        days.add(day)
        unavailable = was_unavailable or len(days) >= FAILURE_DAYS_THRESHOLD
        kept = sorted(days)[-_KEPT_DAYS:]
        await tx.execute(
            "INSERT INTO hosts (host, failure_days, unavailable, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (host) DO UPDATE SET failure_days = excluded.failure_days,"
            " unavailable = excluded.unavailable, updated_at = excluded.updated_at",
            (host, orjson.dumps(kept).decode(), int(unavailable), now),
        )
    return unavailable


async def mark_host_available(db: Database, host: str) -> bool:
    """Forget a host's failures (it answered a delivery, or sent us something); True if there were any.

    Cheap when the host is healthy: one read, no write."""
    if await db.fetchone("SELECT 1 FROM hosts WHERE host = ?", (host,)) is None:
        return False
    return await db.execute("DELETE FROM hosts WHERE host = ?", (host,)) > 0


async def unavailable_hosts(db: Database) -> set[str]:
    """Hosts whose deliveries are skipped (left queued) until they answer again."""
    return {r["host"] for r in await db.fetchall("SELECT host FROM hosts WHERE unavailable = 1")}


async def get_host_health(db: Database, host: str) -> HostHealth | None:
    row = await db.fetchone("SELECT failure_days, unavailable FROM hosts WHERE host = ?", (host,))
    if row is None:
        return None
    return HostHealth(
        host=host, failure_days=tuple(sorted(_days(row["failure_days"]))), unavailable=bool(row["unavailable"])
    )


def _days(text: str) -> list[str]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    return [d for d in value if isinstance(d, str)] if isinstance(value, list) else []
