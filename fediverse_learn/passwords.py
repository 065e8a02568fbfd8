"""Member passwords: argon2id hashing and verification (CPU-heavy: call them off the event loop)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "check_password_rules", "hash_password", "verify_password"]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_HASHER = PasswordHasher()   # argon2id with the library's RFC 9106 "low memory" defaults; stateless


def check_password_rules(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a password may have at most {MAX_PASSWORD} characters"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if `password` matches; a missing hash (no password set) never matches. Burns the same work
    either way so that timing does not tell whether a member has a password."""
    if not password or len(password) > MAX_PASSWORD:
        return False
    if stored_hash is None:
        _HASHER.hash(password)
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
