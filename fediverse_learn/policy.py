"""Federation policy as pure functions: does a domain rule cover a host, is a host allowed."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["domain_covers", "host_allowed", "normalize_domain"]


def normalize_domain(host: str) -> str:
    """A host name without port, lowercased, IDNA-encoded, one trailing dot stripped."""
    h = host.strip().lower()
    if h.startswith("["):
        h = h[1:].split("]", 1)[0]
    elif h.count(":") == 1:
        h = h.split(":", 1)[0]
    h = h.removesuffix(".")
    try:
        return h.encode("idna").decode("ascii")
    except UnicodeError:
        return h


def domain_covers(rule: str, host: str) -> bool:
    """A rule for `school.example` covers `school.example`, `a.school.example` and every port of them."""
    rule_d = normalize_domain(rule)
    host_d = normalize_domain(host)
    return host_d == rule_d or host_d.endswith("." + rule_d)


def host_allowed(host: str, mode: str, blocked: Iterable[str], allowed: Iterable[str]) -> bool:
    """Blocklist mode: any host not covered by a block. Allowlist mode: only hosts covered by an allow
    (and never a blocked one)."""
    if any(domain_covers(rule, host) for rule in blocked):
        return False
    if mode == "allowlist":
        return any(domain_covers(rule, host) for rule in allowed)
    return True
