"""OAuth scopes as Mastodon defines them: the top-level scopes, their granular scopes, and what grants what."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ADMIN_READ_SCOPES",
    "ADMIN_WRITE_SCOPES",
    "DEFAULT_SCOPES",
    "FOLLOW_SCOPES",
    "KNOWN_SCOPES",
    "READ_SCOPES",
    "WRITE_SCOPES",
    "covers",
    "expand",
    "parse_scopes",
]

READ_SCOPES = tuple(f"read:{s}" for s in (
    "accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes", "notifications",
    "search", "statuses"))
WRITE_SCOPES = tuple(f"write:{s}" for s in (
    "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists", "media",
    "mutes", "notifications", "reports", "statuses"))
FOLLOW_SCOPES = ("read:blocks", "read:follows", "read:mutes", "write:blocks", "write:follows", "write:mutes")
_ADMIN_KINDS = ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks",
                "canonical_email_blocks")
ADMIN_READ_SCOPES = tuple(f"admin:read:{s}" for s in _ADMIN_KINDS)
ADMIN_WRITE_SCOPES = tuple(f"admin:write:{s}" for s in _ADMIN_KINDS)
_IMPLIED: dict[str, tuple[str, ...]] = {"read": READ_SCOPES, "write": WRITE_SCOPES, "follow": FOLLOW_SCOPES,
                                        "admin:read": ADMIN_READ_SCOPES, "admin:write": ADMIN_WRITE_SCOPES}
KNOWN_SCOPES = ("read", "write", "follow", "push", "profile", *READ_SCOPES, *WRITE_SCOPES, "admin:read",
                "admin:write", *ADMIN_READ_SCOPES, *ADMIN_WRITE_SCOPES)
DEFAULT_SCOPES = ("read",)


def parse_scopes(text: str | None) -> tuple[str, ...] | None:
    """Scopes from a space- (or plus-) separated list, in order, without duplicates; None if any is unknown.
    An empty or missing list is the default scope, `read`."""
    items = list(dict.fromkeys((text or "").replace("+", " ").split()))
    if not items:
        return DEFAULT_SCOPES
    if any(s not in KNOWN_SCOPES for s in items):
        return None
    return tuple(items)


def expand(scopes: Iterable[str]) -> frozenset[str]:
    """Every scope that a set of granted scopes includes (`read` covers every `read:*`, and so on)."""
    found: set[str] = set()
    for scope in scopes:
        found.add(scope)
        found.update(_IMPLIED.get(scope, ()))
    return frozenset(found)


def covers(granted: Iterable[str], requested: Iterable[str]) -> bool:
    """True if every requested scope is granted, directly or through a top-level scope."""
    have = expand(granted)
    return all(s in have or (s in _IMPLIED and set(_IMPLIED[s]) <= have) for s in requested)
