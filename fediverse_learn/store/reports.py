"""The moderation queue: reports (incoming Flags and members' reports), open until resolved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from fediverse_learn.store.db import Database, Row, Transaction

__all__ = ["Report", "add_report", "list_open_reports", "resolve_report"]


@dataclass(frozen=True)
class Report:
    id: int
    activity_uri: str | None
    reporter_uri: str
    target_uri: str
    object_uris: tuple[str, ...]
    comment: str
    created_at: float
    resolved_at: float | None


def _report(row: Row) -> Report:
    return Report(
        id=row["id"],
        activity_uri=row["activity_uri"],
        reporter_uri=row["reporter_uri"],
        target_uri=row["target_uri"],
        object_uris=tuple(orjson.loads(row["object_uris"])),
        comment=row["comment"],
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
    )


async def add_report(
    tx: Transaction,
    *,
    activity_uri: str | None,
    reporter_uri: str,
    target_uri: str,
    object_uris: Sequence[str],
    comment: str,
    now: float,
) -> int | None:
    """Queue a report; None if a report from this activity is already queued."""
    return await tx.insert(
        "INSERT INTO reports (activity_uri, reporter_uri, target_uri, object_uris, comment, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (activity_uri) DO NOTHING",
        (activity_uri, reporter_uri, target_uri, orjson.dumps(list(object_uris)).decode(), comment, now),
    )


async def list_open_reports(db: Database | Transaction, limit: int = 100) -> list[Report]:
    rows = await db.fetchall(
        "SELECT id, activity_uri, reporter_uri, target_uri, object_uris, comment, created_at, resolved_at"
        " FROM reports WHERE resolved_at IS NULL ORDER BY id LIMIT ?",
        (limit,),
    )
    return [_report(r) for r in rows]


async def resolve_report(tx: Transaction, report_id: int, now: float) -> bool:
    return (
        await tx.execute("UPDATE reports SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL", (now, report_id))
        > 0
    )
