"""Domain policies (blocks with Mastodon's severities, allows) as stored, and the rules every door checks."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.policy import domain_covers, host_allowed, normalize_domain
from fediverse_learn.store.db import Database, Row, Transaction

__all__ = [
    "DomainPolicy",
    "DomainRules",
    "get_rule",
    "list_rules",
    "load_rules",
    "remove_rule",
    "save_allow",
    "save_block",
    "set_rule",
]


@dataclass(frozen=True)
class DomainRules:
    """What the doors need: `blocked` holds the suspended domains only (silence and noop still federate)."""

    mode: str
    blocked: frozenset[str]
    allowed: frozenset[str]
    silenced: frozenset[str] = frozenset()
    media_rejected: frozenset[str] = frozenset()
    reports_rejected: frozenset[str] = frozenset()

    def allows(self, host: str) -> bool:
        """Whether we talk to `host` at all (inbox, delivery, fetch, WebFinger)."""
        return host_allowed(host, self.mode, self.blocked, self.allowed)

    def silences(self, host: str) -> bool:
        """Content from `host` is kept off public timelines (Mastodon's silence/limit)."""
        return any(domain_covers(d, host) for d in self.silenced)

    def rejects_media(self, host: str) -> bool:
        return any(domain_covers(d, host) for d in self.media_rejected)

    def rejects_reports(self, host: str) -> bool:
        return any(domain_covers(d, host) for d in self.reports_rejected)


@dataclass(frozen=True)
class DomainPolicy:
    domain: str
    kind: str                  # "block" or "allow"
    severity: str              # blocks: suspend, silence, noop
    reject_media: bool
    reject_reports: bool
    obfuscate: bool
    public_comment: str
    private_comment: str
    created_at: float


_COLUMNS = ("domain, kind, severity, reject_media, reject_reports, obfuscate, public_comment, private_comment,"
            " created_at")


def _policy(row: Row) -> DomainPolicy:
    return DomainPolicy(
        domain=row["domain"], kind=row["kind"], severity=row["severity"], reject_media=bool(row["reject_media"]),
        reject_reports=bool(row["reject_reports"]), obfuscate=bool(row["obfuscate"]),
        public_comment=row["public_comment"], private_comment=row["private_comment"], created_at=row["created_at"],
    )


async def load_rules(db: Database, mode: str) -> DomainRules:
    rows = await db.fetchall("SELECT domain, kind, severity, reject_media, reject_reports FROM domain_policies")
    blocks = [r for r in rows if r["kind"] == "block"]
    return DomainRules(
        mode=mode,
        blocked=frozenset(r["domain"] for r in blocks if r["severity"] == "suspend"),
        allowed=frozenset(r["domain"] for r in rows if r["kind"] == "allow"),
        silenced=frozenset(r["domain"] for r in blocks if r["severity"] == "silence"),
        media_rejected=frozenset(r["domain"] for r in blocks if r["reject_media"] or r["severity"] == "suspend"),
        reports_rejected=frozenset(r["domain"] for r in blocks if r["reject_reports"] or r["severity"] == "suspend"),
    )


async def get_rule(db: Database | Transaction, domain: str, kind: str) -> DomainPolicy | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM domain_policies WHERE domain = ? AND kind = ?",
                            (normalize_domain(domain), kind))
    return _policy(row) if row is not None else None


async def list_rules(db: Database | Transaction, kind: str | None = None) -> list[DomainPolicy]:
    """Every rule (or every rule of one kind), by domain."""
    where, params = ("WHERE kind = ?", (kind,)) if kind is not None else ("", ())
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM domain_policies {where} ORDER BY domain, kind", params)
    return [_policy(r) for r in rows]


async def save_block(tx: Transaction, policy: DomainPolicy, now: float) -> DomainPolicy | None:
    """Insert or update a block; returns the block it replaced (None if there was none)."""
    before = await get_rule(tx, policy.domain, "block")
    await tx.execute(
        f"INSERT INTO domain_policies ({_COLUMNS}, updated_at) VALUES (?, 'block', ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (domain, kind) DO UPDATE SET severity = excluded.severity,"
        " reject_media = excluded.reject_media, reject_reports = excluded.reject_reports,"
        " obfuscate = excluded.obfuscate, public_comment = excluded.public_comment,"
        " private_comment = excluded.private_comment, updated_at = excluded.updated_at",
        (normalize_domain(policy.domain), policy.severity, int(policy.reject_media), int(policy.reject_reports),
         int(policy.obfuscate), policy.public_comment, policy.private_comment, now, now),
    )
    return before


async def save_allow(tx: Transaction, domain: str, comment: str, now: float) -> bool:
    """Allow a domain (allowlist mode); False if it was allowed already."""
    return await tx.insert(
        "INSERT INTO domain_policies (domain, kind, severity, private_comment, created_at, updated_at)"
        " VALUES (?, 'allow', 'noop', ?, ?, ?) ON CONFLICT (domain, kind) DO NOTHING",
        (normalize_domain(domain), comment, now, now),
    ) is not None


async def remove_rule(tx: Transaction, domain: str, kind: str) -> bool:
    return await tx.execute("DELETE FROM domain_policies WHERE domain = ? AND kind = ?",
                            (normalize_domain(domain), kind)) > 0


async def set_rule(db: Database, domain: str, kind: str | None, now: float, severity: str = "suspend") -> None:
    """Set (or with kind=None remove every rule of) a domain; the plain form the first CLI used."""
    async with db.transaction() as tx:
        if kind is None:
            await tx.execute("DELETE FROM domain_policies WHERE domain = ?", (normalize_domain(domain),))
        elif kind == "allow":
            await save_allow(tx, domain, "", now)
        else:
            await save_block(tx, DomainPolicy(domain, "block", severity, False, False, False, "", "", now), now)
