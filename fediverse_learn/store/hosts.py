"""Delivery health per remote host: the UTC days deliveries failed, and the unavailable mark they lead to."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from fediverse_learn.store.db import Database

__all__ = [
    "FAILURE_DAYS_THRESHOLD",
    "HostHealth",
    "get_host_health",
    "mark_host_available",
    "mark_hosts_available",
    "record_host_failure",
    "unavailable_hosts",
    "utc_day",
]

FAILURE_DAYS_THRESHOLD = 7  # Mastodon's DeliveryFailureTracker: failing on 7 distinct days -> unavailable
_KEPT_DAYS = 31  # bound the list; the unavailable flag itself is stored, not recounted
_HEALTHY_TTL = 30.0  # seconds a host seen without a row is taken as healthy without asking the database
_BATCH = 500  # hosts per IN (...) query (SQLite's bound-parameter limit is far above)

# Hosts known to have no row in `hosts`, per database file: host -> when that was seen (monotonic).
# record_host_failure drops the host here; a row written by another process is seen within _HEALTHY_TTL.
_known_healthy: dict[str, dict[str, float]] = {}
_failures_recorded: dict[str, int] = {}   # per database file: bumped by record_host_failure


def _healthy(db: Database) -> dict[str, float]:
    return _known_healthy.setdefault(str(db.path), {})


def _still_healthy(known: dict[str, float], host: str, now: float) -> bool:
    seen = known.get(host)
    return seen is not None and now - seen < _HEALTHY_TTL


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
    _healthy(db).pop(host, None)
    _failures_recorded[str(db.path)] = _failures_recorded.get(str(db.path), 0) + 1
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

    Cheap when the host is healthy: no database work while it is known healthy, else one read."""
    return host in await mark_hosts_available(db, (host,))


async def mark_hosts_available(db: Database, hosts: Iterable[str]) -> set[str]:
    """Forget the failures of each host; the hosts that had any. One read for all (none for hosts known
    healthy), one write only when some had failures."""
    known, clock = _healthy(db), time.monotonic()
    if len(known) > 100_000:   # bound the memory; it only costs a read per host again
        known.clear()
    failures_before = _failures_recorded.get(str(db.path), 0)
    unknown = sorted({h for h in hosts if not _still_healthy(known, h, clock)})
    had: set[str] = set()
    for start in range(0, len(unknown), _BATCH):
        chunk = unknown[start:start + _BATCH]
        rows = await db.fetchall(f"SELECT host FROM hosts WHERE host IN ({','.join('?' * len(chunk))})", chunk)
        had.update(r["host"] for r in rows)
    cleared: set[str] = set()
    if had:
        async with db.transaction() as tx:
            for host in sorted(had):
                if await tx.execute("DELETE FROM hosts WHERE host = ?", (host,)) > 0:
                    cleared.add(host)
    if _failures_recorded.get(str(db.path), 0) == failures_before:   # else a failure may have raced the read
        for host in unknown:
            known[host] = clock
    return cleared


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
