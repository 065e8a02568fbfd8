"""Schema migration 4: institutional control: moderation, registrations, invites, roles (issue 6)."""

from __future__ import annotations

__all__ = ["SQL"]

SQL = """
-- (no tables yet)
SELECT 1;
"""
