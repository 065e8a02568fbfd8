"""Schema migration 3: learning communities: Group settings, moderators, bans, threads (issue 4)."""

from __future__ import annotations

__all__ = ["SQL"]

SQL = """
-- (no tables yet)
SELECT 1;
"""
