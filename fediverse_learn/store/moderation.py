"""Moderation records: the moderation log, account sanctions, report resolution, and purging a domain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from fediverse_learn.errors import ValidationError
from fediverse_learn.policy import domain_covers, normalize_domain
from fediverse_learn.store.db import Database, Row, Transaction
from fediverse_learn.store.follows import Follow
from fediverse_learn.vocab import host_of

__all__ = [
    "LogEntry",
    "Purge",
    "ReportRecord",
    "Sanction",
    "add_member_report",
    "drop_remote_follows",
    "follows_of",
    "get_report",
    "get_sanction",
    "is_silenced",
    "is_suspended",
    "list_log",
    "list_reports",
    "log_action",
    "mark_forwarded",
    "purge_actor",
    "purge_domain",
    "resolve_report_tx",
    "revoke_tokens",
    "set_sanction",
]


# --- the moderation log ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LogEntry:
    id: int
    moderator: str | None
    action: str
    target: str
    report_id: int | None
    comment: str
    detail: dict[str, Any]
    created_at: float


async def log_action(tx: Transaction, *, moderator: str | None, action: str, target: str, now: float,
                     report_id: int | None = None, comment: str = "",
                     detail: Mapping[str, Any] | None = None) -> int:
    """Write one action to the moderation log (in the transaction of the action itself)."""
    rowid = await tx.insert(
        "INSERT INTO moderation_log (moderator, action, target, report_id, comment, detail, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (moderator, action, target, report_id, comment, orjson.dumps(dict(detail or {})).decode(), now),
    )
    assert rowid is not None
    return rowid


async def list_log(db: Database, *, target: str | None = None, limit: int = 100) -> list[LogEntry]:
    """The newest entries first (only those about `target` when given)."""
    where, params = ("WHERE target = ?", [target]) if target is not None else ("", [])
    rows = await db.fetchall(
        "SELECT id, moderator, action, target, report_id, comment, detail, created_at FROM moderation_log"
        f" {where} ORDER BY id DESC LIMIT ?", (*params, limit))
    return [LogEntry(id=r["id"], moderator=r["moderator"], action=r["action"], target=r["target"],
                     report_id=r["report_id"], comment=r["comment"], detail=orjson.loads(r["detail"]),
                     created_at=r["created_at"]) for r in rows]


# --- account sanctions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sanction:
    actor_uri: str
    silenced_at: float | None
    suspended_at: float | None


async def get_sanction(db: Database | Transaction, actor_uri: str) -> Sanction | None:
    row = await db.fetchone("SELECT actor_uri, silenced_at, suspended_at FROM account_sanctions WHERE actor_uri = ?",
                            (actor_uri,))
    return Sanction(row["actor_uri"], row["silenced_at"], row["suspended_at"]) if row is not None else None


async def set_sanction(tx: Transaction, actor_uri: str, now: float, *, silenced: bool | None = None,
                       suspended: bool | None = None) -> Sanction:
    """Set or lift silence/suspension (None leaves that one as it is); returns the sanction before."""
    before = await get_sanction(tx, actor_uri) or Sanction(actor_uri, None, None)
    silenced_at = before.silenced_at if silenced is None else (before.silenced_at or now) if silenced else None
    suspended_at = before.suspended_at if suspended is None else (before.suspended_at or now) if suspended else None
    await tx.execute(
        "INSERT INTO account_sanctions (actor_uri, silenced_at, suspended_at, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (actor_uri) DO UPDATE SET silenced_at = excluded.silenced_at,"
        " suspended_at = excluded.suspended_at, updated_at = excluded.updated_at",
        (actor_uri, silenced_at, suspended_at, now))
    return before


async def is_suspended(db: Database | Transaction, actor_uri: str) -> bool:
    """Whether a moderator suspended this account (local: its documents answer 410; remote: refused)."""
    found = await get_sanction(db, actor_uri)
    return found is not None and found.suspended_at is not None


async def is_silenced(db: Database | Transaction, actor_uri: str) -> bool:
    """Whether a moderator silenced this account (kept off public timelines). Domain silences are in
    `Services.domain_rules().silences(host)`."""
    found = await get_sanction(db, actor_uri)
    return found is not None and found.silenced_at is not None


async def revoke_tokens(tx: Transaction, actor_id: int, now: float) -> int:
    """Sign a suspended member out of every app."""
    return await tx.execute("UPDATE tokens SET revoked_at = ? WHERE actor_id = ? AND revoked_at IS NULL",
                            (now, actor_id))


# --- reports -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRecord:
    id: int
    activity_uri: str | None
    reporter_uri: str
    target_uri: str
    object_uris: tuple[str, ...]
    comment: str
    category: str
    created_at: float
    resolved_at: float | None
    action_taken: str | None
    resolved_by: str | None
    forwarded_as: str | None


_REPORT = ("id, activity_uri, reporter_uri, target_uri, object_uris, comment, category, created_at, resolved_at,"
           " action_taken, resolved_by, forwarded_as")


def _report(row: Row) -> ReportRecord:
    return ReportRecord(**{**dict(row), "object_uris": tuple(orjson.loads(row["object_uris"]))})


async def add_member_report(tx: Transaction, *, reporter_uri: str, target_uri: str, object_uris: Sequence[str],
                            comment: str, category: str, now: float) -> int:
    rowid = await tx.insert(
        "INSERT INTO reports (reporter_uri, target_uri, object_uris, comment, category, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (reporter_uri, target_uri, orjson.dumps(list(object_uris)).decode(), comment, category, now))
    assert rowid is not None
    return rowid


async def mark_forwarded(tx: Transaction, report_id: int, flag_uri: str) -> None:
    await tx.execute("UPDATE reports SET forwarded_as = ? WHERE id = ?", (flag_uri, report_id))


async def get_report(db: Database | Transaction, report_id: int) -> ReportRecord | None:
    row = await db.fetchone(f"SELECT {_REPORT} FROM reports WHERE id = ?", (report_id,))
    return _report(row) if row is not None else None


async def list_reports(db: Database, *, resolved: bool | None = False, limit: int = 100) -> list[ReportRecord]:
    """Reports, oldest first: open ones (resolved=False), resolved ones (True) or all (None)."""
    where = {False: "WHERE resolved_at IS NULL", True: "WHERE resolved_at IS NOT NULL", None: ""}[resolved]
    rows = await db.fetchall(f"SELECT {_REPORT} FROM reports {where} ORDER BY id LIMIT ?", (limit,))
    return [_report(r) for r in rows]


async def resolve_report_tx(tx: Transaction, report_id: int, action: str, moderator: str | None, now: float) -> bool:
    """Close an open report with the action taken; False if it was closed already."""
    return await tx.execute(
        "UPDATE reports SET resolved_at = ?, action_taken = ?, resolved_by = ? WHERE id = ? AND resolved_at IS NULL",
        (now, action, moderator, report_id)) > 0


# --- purging -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Purge:
    """What a suspension removed."""

    follows: int = 0
    notes: int = 0
    reactions: int = 0
    actors: int = 0
    queued_in: int = 0
    queued_out: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class _Scope:
    """A domain (its subdomains, every port) minus the `spared` domains under it."""

    domain: str
    spared: tuple[str, ...] = ()

    def covers_host(self, host: str) -> bool:
        return domain_covers(self.domain, host) and not any(domain_covers(s, host) for s in self.spared)

    def covers(self, uri: str | None) -> bool:
        if not uri:
            return False
        try:
            return self.covers_host(host_of(uri))
        except ValidationError:
            return False


async def _ids_on(tx: Transaction, scope: _Scope, table: str, columns: Sequence[str], where: str = "1") -> list[int]:
    """Ids of the rows of `table` where any of `columns` holds a URL in `scope`."""
    like = " OR ".join(f"instr(lower({c}), ?) > 0" for c in columns)
    rows = await tx.fetchall(f"SELECT id, {', '.join(columns)} FROM {table} WHERE ({where}) AND ({like})",
                             (scope.domain,) * len(columns))
    return [r["id"] for r in rows if any(scope.covers(r[c]) for c in columns)]


async def _delete(tx: Transaction, table: str, ids: Sequence[int]) -> int:
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        await tx.execute(f"DELETE FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    return len(ids)


async def purge_domain(tx: Transaction, domain: str, reason: str, spared: Iterable[str] = ()) -> Purge:
    """Remove everything of a domain no longer spoken to (suspended, or no longer allowed in allowlist mode),
    silently: follows both ways, its notes (deleted, not tombstoned: lifting the block lets them come back),
    reactions by it or on its notes, cached actors and keys, the activities it sent (handled or still queued);
    the deliveries queued to it fail with `reason`. Hosts under a `spared` domain are left alone."""
    scope = _Scope(normalize_domain(domain), tuple(normalize_domain(s) for s in spared))
    follows = await _delete(tx, "follows", await _ids_on(tx, scope, "follows", ("follower_uri", "followee_uri")))
    reactions = await _delete(tx, "reactions", await _ids_on(tx, scope, "reactions", ("actor_uri", "object_uri")))
    notes = await _delete(tx, "objects", await _ids_on(tx, scope, "objects", ("author_uri",),
                                                      "local_actor_id IS NULL"))
    keys = await tx.fetchall("SELECT key_id, owner_uri FROM remote_keys WHERE instr(lower(owner_uri), ?) > 0",
                             (scope.domain,))
    for row in keys:
        if scope.covers(row["owner_uri"]):
            await tx.execute("DELETE FROM remote_keys WHERE key_id = ?", (row["key_id"],))
    actors = await _delete(tx, "remote_actors", await _ids_on(tx, scope, "remote_actors", ("uri",)))
    queued_in = len(await _ids_on(tx, scope, "inbox_queue", ("actor_uri",), "state = 'queued'"))
    await _delete(tx, "inbox_queue", await _ids_on(tx, scope, "inbox_queue", ("actor_uri",)))
    out = await tx.fetchall("SELECT id, host FROM deliveries WHERE state = 'queued' AND instr(host, ?) > 0",
                            (scope.domain,))
    cancelled = [r["id"] for r in out if scope.covers_host(r["host"])]
    for start in range(0, len(cancelled), 500):
        chunk = cancelled[start:start + 500]
        await tx.execute("UPDATE deliveries SET state = 'failed', lease_until = NULL, last_error = ?"
                         f" WHERE id IN ({','.join('?' * len(chunk))})", (reason, *chunk))
    return Purge(follows=follows, notes=notes, reactions=reactions, actors=actors, queued_in=queued_in,
                 queued_out=len(cancelled))


async def drop_remote_follows(tx: Transaction, actor_uri: str, local_prefix: str) -> int:
    """Forget a local actor's follows with remote actors, both ways (their servers were told it is gone)."""
    n = len(local_prefix)
    return await tx.execute(
        "DELETE FROM follows WHERE (follower_uri = ? AND substr(followee_uri, 1, ?) != ?)"
        " OR (followee_uri = ? AND substr(follower_uri, 1, ?) != ?)",
        (actor_uri, n, local_prefix, actor_uri, n, local_prefix))


async def follows_of(db: Database, actor_uri: str) -> list[Follow]:
    """Every follow the actor is part of, either way, in any state."""
    rows = await db.fetchall(
        "SELECT follower_uri, followee_uri, state, activity_uri, created_at FROM follows"
        " WHERE follower_uri = ? OR followee_uri = ? ORDER BY id", (actor_uri, actor_uri))
    return [Follow(**dict(r)) for r in rows]


async def purge_actor(tx: Transaction, actor_uri: str) -> Purge:
    """Remove a suspended remote account's follows (both ways), notes and reactions; its cached document
    stays (its key still verifies what it sends, which is then refused)."""
    follows = await tx.execute("DELETE FROM follows WHERE follower_uri = ? OR followee_uri = ?", (actor_uri, actor_uri))
    reactions = await tx.execute(
        "DELETE FROM reactions WHERE actor_uri = ? OR object_uri IN"
        " (SELECT uri FROM objects WHERE author_uri = ? AND local_actor_id IS NULL)", (actor_uri, actor_uri))
    notes = await tx.execute("DELETE FROM objects WHERE author_uri = ? AND local_actor_id IS NULL", (actor_uri,))
    return Purge(follows=follows, notes=notes, reactions=reactions)
