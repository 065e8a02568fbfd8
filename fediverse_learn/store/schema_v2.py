"""Schema migration 2: the Mastodon client API and OAuth 2 (issue 5)."""

from __future__ import annotations

__all__ = ["SQL"]

SQL = """
-- (no tables yet)
SELECT 1;
"""
