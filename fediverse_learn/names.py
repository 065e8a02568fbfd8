"""Validation of local actor names (members and communities share one namespace)."""

from __future__ import annotations

import re

from fediverse_learn.errors import InvalidName

__all__ = ["RESERVED_NAMES", "validate_name"]

_NAME = re.compile(r"[a-z0-9_]{1,30}")

# Names that would be confusing as handles or collide with routes and well-known accounts.
RESERVED_NAMES = frozenset({"actor", "admin", "inbox", "instance", "root", "support", "webmaster"})


def validate_name(name: str) -> str:
    """Return the name if it is allowed, else raise InvalidName with the reason."""
    if not _NAME.fullmatch(name):
        raise InvalidName(f"invalid name {name!r}: use 1 to 30 characters of a-z, 0-9 and _")
    if name in RESERVED_NAMES:
        raise InvalidName(f"invalid name {name!r}: reserved")
    return name
