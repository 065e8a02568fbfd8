"""Schema migration 5: a community's scope: `local`, `allowlist` or `public` (issue 6)."""

from __future__ import annotations

__all__ = ["SQL"]

SQL = "ALTER TABLE community_settings ADD COLUMN scope TEXT NOT NULL DEFAULT 'public';"
