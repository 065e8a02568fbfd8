"""Domain policies (blocks with severity, allows) as stored, and the check every door uses."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.policy import host_allowed, normalize_domain
from fediverse_learn.store.db import Database

__all__ = ["DomainPolicy", "DomainRules", "load_rules", "set_rule"]


@dataclass(frozen=True)
class DomainRules:
    mode: str
    blocked: frozenset[str]
    allowed: frozenset[str]

    def allows(self, host: str) -> bool:
        return host_allowed(host, self.mode, self.blocked, self.allowed)


@dataclass(frozen=True)
class DomainPolicy:
    domain: str
    kind: str
    severity: str
    public_comment: str


async def load_rules(db: Database, mode: str) -> DomainRules:
    rows = await db.fetchall("SELECT domain, kind FROM domain_policies")
    return DomainRules(
        mode=mode,
        blocked=frozenset(r["domain"] for r in rows if r["kind"] == "block"),
        allowed=frozenset(r["domain"] for r in rows if r["kind"] == "allow"),
    )


async def set_rule(db: Database, domain: str, kind: str | None, now: float, severity: str = "suspend") -> None:
    """Set (or with kind=None remove) the rule for a domain."""
    d = normalize_domain(domain)
    if kind is None:
        await db.execute("DELETE FROM domain_policies WHERE domain = ?", (d,))
        return
    await db.execute(
        "INSERT INTO domain_policies (domain, kind, severity, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (domain) DO UPDATE SET kind = excluded.kind, severity = excluded.severity",
        (d, kind, severity, now),
    )
