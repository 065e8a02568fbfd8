"""Time-sortable 64-bit ids (Mastodon-style): milliseconds since the epoch << 16 | a per-process counter."""

from __future__ import annotations

import secrets

__all__ = ["IdGenerator", "id_floor"]


class IdGenerator:
    """Ids that sort in creation time; strictly increasing within one process."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, now: float) -> int:
        candidate = (int(now * 1000) << 16) | secrets.randbelow(1 << 8) << 8
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate


def id_floor(ts: float) -> int:
    """The smallest id that could have been made at time ts (for time-based pagination)."""
    return int(ts * 1000) << 16
