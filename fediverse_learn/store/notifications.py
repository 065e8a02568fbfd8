"""Notifications of local members (mention, follow, follow_request, favourite, reblog, update): rows and pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fediverse_learn.store.api_statuses import Page
from fediverse_learn.store.db import Database, Transaction

__all__ = [
    "NOTIFICATION_TYPES",
    "REPLACED_TYPES",
    "Notification",
    "add_notification",
    "boosters",
    "clear_notifications",
    "dismiss_notification",
    "get_notification",
    "mutes_notifications",
    "notification_page",
    "withdraw_notifications",
]

NOTIFICATION_TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update")
REPLACED_TYPES = ("update",)   # a new one replaces the earlier ones of the same status; others are told once

_COLUMNS = "id, actor_id, type, from_uri, object_uri, activity_uri, created_at"


@dataclass(frozen=True)
class Notification:
    id: int
    actor_id: int          # the member notified
    type: str
    from_uri: str          # who caused it
    object_uri: str | None  # the status concerned
    activity_uri: str | None
    created_at: float


def _row(row: Any) -> Notification:
    return Notification(id=int(row["id"]), actor_id=int(row["actor_id"]), type=str(row["type"]),
                        from_uri=str(row["from_uri"]), object_uri=row["object_uri"],
                        activity_uri=row["activity_uri"], created_at=float(row["created_at"]))


async def add_notification(db: Database | Transaction, *, notification_id: int, actor_id: int, type: str,
                           from_uri: str, object_uri: str | None, activity_uri: str | None, now: float) -> bool:
    """Record a notification once: False if the same (member, type, from, status) exists (even dismissed).
    An `update` instead replaces the member's earlier ones of the same status, as Mastodon's
    LocalNotificationWorker does, so that each edit is told."""
    if type in REPLACED_TYPES:
        if isinstance(db, Database):
            async with db.transaction() as tx:
                return await _replace(tx, notification_id, actor_id, type, from_uri, object_uri, activity_uri, now)
        return await _replace(db, notification_id, actor_id, type, from_uri, object_uri, activity_uri, now)
    sql = ("INSERT INTO notifications (id, actor_id, type, from_uri, object_uri, activity_uri, created_at)"
           " SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM notifications WHERE actor_id = ?"
           " AND type = ? AND from_uri = ? AND object_uri IS ?)")
    params = (notification_id, actor_id, type, from_uri, object_uri, activity_uri, now, actor_id, type, from_uri,
              object_uri)
    return await db.execute(sql, params) > 0


async def _replace(tx: Transaction, notification_id: int, actor_id: int, type: str, from_uri: str,
                   object_uri: str | None, activity_uri: str | None, now: float) -> bool:
    await tx.execute("DELETE FROM notifications WHERE actor_id = ? AND type = ? AND object_uri IS ?",
                     (actor_id, type, object_uri))
    await tx.execute("INSERT INTO notifications (id, actor_id, type, from_uri, object_uri, activity_uri, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (notification_id, actor_id, type, from_uri, object_uri, activity_uri, now))
    return True


async def notification_page(db: Database, actor_id: int, page: Page, *, types: Sequence[str] = (),
                            exclude: Sequence[str] = ()) -> list[Notification]:
    """A member's notifications not dismissed, newest first, optionally of some types only or not of others."""
    where = "actor_id = ? AND dismissed_at IS NULL"
    params: list[Any] = [actor_id]
    if types:
        where += f" AND type IN ({', '.join('?' * len(types))})"
        params += list(types)
    if exclude:
        where += f" AND type NOT IN ({', '.join('?' * len(exclude))})"
        params += list(exclude)
    extra, extra_params, order = page.clause()
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM notifications WHERE {where}{extra} ORDER BY id {order}"
                             " LIMIT ?", [*params, *extra_params, page.limit])
    found = [_row(r) for r in rows]
    return found[::-1] if order == "ASC" else found


async def get_notification(db: Database, actor_id: int, notification_id: int) -> Notification | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM notifications WHERE id = ? AND actor_id = ?"
                            " AND dismissed_at IS NULL", (notification_id, actor_id))
    return _row(row) if row is not None else None


async def dismiss_notification(db: Database, actor_id: int, notification_id: int, now: float) -> bool:
    return await db.execute("UPDATE notifications SET dismissed_at = ? WHERE id = ? AND actor_id = ?"
                            " AND dismissed_at IS NULL", (now, notification_id, actor_id)) > 0


async def clear_notifications(db: Database, actor_id: int, now: float) -> int:
    return await db.execute("UPDATE notifications SET dismissed_at = ? WHERE actor_id = ? AND dismissed_at IS NULL",
                            (now, actor_id))


async def mutes_notifications(db: Database, actor_id: int, target_uri: str, now: float) -> bool:
    """Whether the member muted this account with its notifications (and the mute has not expired)."""
    return await db.fetchone("SELECT 1 FROM mutes WHERE actor_id = ? AND target_uri = ? AND notifications = 1"
                             " AND (expires_at IS NULL OR expires_at > ?)", (actor_id, target_uri, now)) is not None


async def boosters(db: Database, object_uri: str) -> list[str]:
    """Who boosted a note (to tell them of its edits), in the order they did."""
    rows = await db.fetchall("SELECT actor_uri FROM reactions WHERE object_uri = ? AND kind = 'announce' ORDER BY id",
                             (object_uri,))
    return [str(r["actor_uri"]) for r in rows]


async def withdraw_notifications(tx: Transaction, from_uri: str, activity_uri: str, *, type: str | None = None,
                                 object_uri: str | None = None) -> int:
    """An undone Follow, Like or Announce takes back what it caused, as Mastodon's notifications go with their
    activity: by the undone activity's id, or else by (type, status) for servers whose Undo has a fresh id."""
    return await tx.execute(
        "DELETE FROM notifications WHERE from_uri = ? AND (activity_uri = ? OR (type = ? AND object_uri = ?))",
        (from_uri, activity_uri, type, object_uri))
