"""The admin API's queries: accounts by moderation state, paged reports, domain rules by id, report assignment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fediverse_learn.store.api_statuses import Page
from fediverse_learn.store.db import Database, Transaction
from fediverse_learn.store.domains import DomainPolicy
from fediverse_learn.store.moderation import ReportRecord, get_report, log_action
from fediverse_learn.store.registrations import SignUp

__all__ = [
    "AccountFilter",
    "AccountRow",
    "assigned_to",
    "domain_rule_by_id",
    "domain_rule_id",
    "domain_rules_page",
    "find_accounts",
    "pending_sign_up_by_id",
    "reopen_report",
    "reports_page",
    "set_assignment",
    "sign_up_of_actor",
]

@dataclass(frozen=True)
class AccountFilter:
    """Mastodon's v1 admin account filters."""

    local: bool = True
    remote: bool = True
    state: str | None = None            # active, pending, disabled, silenced, suspended
    username: str | None = None
    display_name: str | None = None
    by_domain: str | None = None
    staff: bool = False


@dataclass(frozen=True)
class AccountRow:
    """One admin account: a local actor (actor_id), a cached remote actor (uri only) or a pending sign-up."""

    id: int
    uri: str | None
    actor_id: int | None = None
    sign_up: SignUp | None = None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _sanction_clause(state: str | None) -> str:
    return {"silenced": " AND s.silenced_at IS NOT NULL", "suspended": " AND s.suspended_at IS NOT NULL",
            "active": " AND s.suspended_at IS NULL"}.get(state or "", "")


async def find_accounts(db: Database, actor_prefix: str, f: AccountFilter, page: Page, *, remote_base: int,
                        sign_up_base: int) -> list[AccountRow]:
    """Accounts matching the filters, newest id first (Mastodon's paging); `actor_prefix` + name is a local
    actor's uri; a remote actor's id is its row id plus `remote_base`, a pending sign-up's plus `sign_up_base`."""
    if f.state == "disabled":
        return []
    if f.state == "pending":
        return await _pending_sign_ups(db, f, page, sign_up_base) if f.local else []
    parts: list[str] = []
    params: list[Any] = []
    sanction = _sanction_clause(f.state)
    if f.local and f.by_domain is None:
        sql = ("SELECT a.id AS aid, ? || a.name AS uri, a.id AS actor_id FROM actors a"
               " LEFT JOIN account_sanctions s ON s.actor_uri = ? || a.name"
               f" WHERE a.kind != 'application' AND a.removed_at IS NULL{sanction}")
        params += [actor_prefix, actor_prefix]
        if f.username:
            sql += " AND a.name LIKE ? ESCAPE '\\'"
            params.append(_like(f.username))
        if f.display_name:
            sql += " AND a.display_name LIKE ? ESCAPE '\\'"
            params.append(_like(f.display_name))
        if f.staff:
            sql += " AND a.role IN ('admin', 'moderator')"
        parts.append(sql)
    if f.remote and not f.staff and not f.display_name:
        sql = ("SELECT r.id + ? AS aid, r.uri AS uri, NULL AS actor_id FROM remote_actors r"
               f" LEFT JOIN account_sanctions s ON s.actor_uri = r.uri WHERE r.gone_at IS NULL{sanction}")
        params.append(remote_base)
        if f.username:
            sql += " AND r.username LIKE ? ESCAPE '\\'"
            params.append(_like(f.username))
        if f.by_domain:
            sql += " AND (r.domain = ? OR r.domain LIKE ?)"
            params += [f.by_domain.lower(), f"%.{f.by_domain.lower()}"]
        parts.append(sql)
    if not parts:
        return []
    where, more, order = page.clause("aid")
    rows = await db.fetchall(f"SELECT aid, uri, actor_id FROM ({' UNION ALL '.join(parts)}) WHERE 1{where}"
                             f" ORDER BY aid {order} LIMIT ?", (*params, *more, page.limit))
    found = [AccountRow(r["aid"], r["uri"], r["actor_id"]) for r in rows]
    return sorted(found, key=lambda a: a.id, reverse=True)


_SIGN_UP = "id, name, password_hash, email, reason, invite_id, state, actor_id, created_at, decided_at, decided_by"


async def _pending_sign_ups(db: Database, f: AccountFilter, page: Page, base: int) -> list[AccountRow]:
    where, params, order = page.clause(f"id + {int(base)}")
    if f.username:
        where += " AND name LIKE ? ESCAPE '\\'"
        params.append(_like(f.username))
    rows = await db.fetchall(f"SELECT {_SIGN_UP} FROM sign_ups WHERE state = 'pending'{where}"
                             f" ORDER BY id {order} LIMIT ?", (*params, page.limit))
    found = [AccountRow(base + r["id"], None, sign_up=SignUp(**dict(r))) for r in rows]
    return sorted(found, key=lambda a: a.id, reverse=True)


async def pending_sign_up_by_id(db: Database, sign_up_id: int) -> SignUp | None:
    row = await db.fetchone(f"SELECT {_SIGN_UP} FROM sign_ups WHERE id = ?", (sign_up_id,))
    return SignUp(**dict(row)) if row is not None else None


async def sign_up_of_actor(db: Database, actor_id: int) -> SignUp | None:
    """The approved sign-up a member came from (its reason is Mastodon's `invite_request`)."""
    row = await db.fetchone(f"SELECT {_SIGN_UP} FROM sign_ups WHERE actor_id = ? ORDER BY id DESC LIMIT 1",
                            (actor_id,))
    return SignUp(**dict(row)) if row is not None else None


# --- reports -----------------------------------------------------------------------------------------------

async def reports_page(db: Database, page: Page, *, resolved: bool | None, reporter_uri: str | None = None,
                       target_uri: str | None = None) -> list[int]:
    """Report ids, newest first: open (resolved=False), resolved (True) or all (None)."""
    where, params, order = page.clause()
    where += {False: " AND resolved_at IS NULL", True: " AND resolved_at IS NOT NULL", None: ""}[resolved]
    for column, value in (("reporter_uri", reporter_uri), ("target_uri", target_uri)):
        if value is not None:
            where += f" AND {column} = ?"
            params.append(value)
    rows = await db.fetchall(f"SELECT id FROM reports WHERE 1{where} ORDER BY id {order} LIMIT ?",
                             (*params, page.limit))
    return sorted((int(r["id"]) for r in rows), reverse=True)


async def reopen_report(db: Database, report_id: int, moderator: str | None, now: float) -> ReportRecord | None:
    """Open a resolved report again (logged); None if there is no such report."""
    async with db.transaction() as tx:
        report = await get_report(tx, report_id)
        if report is None:
            return None
        if report.resolved_at is not None:
            await tx.execute("UPDATE reports SET resolved_at = NULL, action_taken = NULL, resolved_by = NULL"
                             " WHERE id = ?", (report_id,))
            await log_action(tx, moderator=moderator, action="reopen_report", target=report.target_uri, now=now,
                             report_id=report_id)
    return await get_report(db, report_id)


async def set_assignment(db: Database, report: ReportRecord, moderator: str, now: float, *, assign: bool) -> None:
    """A moderator assigns a report to themselves (or unassigns it); kept in the moderation log, whose latest
    assign or unassign entry counts."""
    async with db.transaction() as tx:
        await log_action(tx, moderator=moderator, action="assign_report" if assign else "unassign_report",
                         target=report.target_uri, now=now, report_id=report.id)


async def assigned_to(db: Database | Transaction, report_id: int) -> str | None:
    row = await db.fetchone("SELECT moderator, action FROM moderation_log WHERE report_id = ?"
                            " AND action IN ('assign_report', 'unassign_report') ORDER BY id DESC LIMIT 1",
                            (report_id,))
    return str(row["moderator"]) if row is not None and row["action"] == "assign_report" else None


# --- domain rules ------------------------------------------------------------------------------------------

_RULE = ("rowid AS rid, domain, kind, severity, reject_media, reject_reports, obfuscate, public_comment,"
         " private_comment, created_at")


def _rule(row: Any) -> tuple[int, DomainPolicy]:
    return int(row["rid"]), DomainPolicy(
        domain=row["domain"], kind=row["kind"], severity=row["severity"], reject_media=bool(row["reject_media"]),
        reject_reports=bool(row["reject_reports"]), obfuscate=bool(row["obfuscate"]),
        public_comment=row["public_comment"], private_comment=row["private_comment"], created_at=row["created_at"])


async def domain_rules_page(db: Database, kind: str, page: Page) -> list[tuple[int, DomainPolicy]]:
    """Blocks or allows with their ids (the row ids, stable across updates), newest first."""
    where, params, order = page.clause("rowid")
    rows = await db.fetchall(f"SELECT {_RULE} FROM domain_policies WHERE kind = ?{where} ORDER BY rowid {order}"
                             " LIMIT ?", (kind, *params, page.limit))
    return sorted((_rule(r) for r in rows), key=lambda p: p[0], reverse=True)


async def domain_rule_by_id(db: Database, kind: str, rule_id: str) -> tuple[int, DomainPolicy] | None:
    if not rule_id.isdigit() or len(rule_id) > 18:
        return None
    row = await db.fetchone(f"SELECT {_RULE} FROM domain_policies WHERE kind = ? AND rowid = ?", (kind, int(rule_id)))
    return _rule(row) if row is not None else None


async def domain_rule_id(db: Database, kind: str, domain: str) -> tuple[int, DomainPolicy] | None:
    row = await db.fetchone(f"SELECT {_RULE} FROM domain_policies WHERE kind = ? AND domain = ?", (kind, domain))
    return _rule(row) if row is not None else None
