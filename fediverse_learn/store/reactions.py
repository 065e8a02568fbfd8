"""Likes and Announces (boosts) of notes, local and remote; boosts as timeline entries with their own ids."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.ids import id_floor
from fediverse_learn.store.db import Database, Row, Transaction
from fediverse_learn.store.objects import NOTE_COLUMNS, StoredNote, note_from_row

__all__ = [
    "BOOST_COLUMNS",
    "Boost",
    "add_reaction",
    "boost_from_row",
    "count_reactions",
    "get_boost",
    "get_boost_by_activity",
    "remove_reaction",
    "remove_reaction_by_activity",
]

# Columns of `reactions AS r JOIN objects AS o` that make a Boost (see boost_from_row).
BOOST_COLUMNS = ("r.status_id AS boost_id, r.actor_uri AS booster_uri, r.activity_uri AS boost_uri,"
                 " r.published AS boosted_at, " + ", ".join(f"o.{c.strip()}" for c in NOTE_COLUMNS.split(",")))


@dataclass(frozen=True)
class Boost:
    """An Announce as a status of its own (Mastodon's reblog): its id sorts with note ids by time."""

    status_id: int
    actor_uri: str          # who boosted
    activity_uri: str       # the Announce
    published: float        # when it was boosted (received, for remote ones)
    note: StoredNote        # what was boosted

    @property
    def id(self) -> int:
        return self.status_id


def boost_from_row(row: Row) -> Boost:
    return Boost(status_id=int(row["boost_id"]), actor_uri=str(row["booster_uri"]),
                 activity_uri=str(row["boost_uri"]), published=float(row["boosted_at"]), note=note_from_row(row))


async def _fresh_status_id(tx: Transaction, now: float) -> int:
    """A time-sortable id for a boost whose writer gave none: the first free odd one of its millisecond
    (ids.py's generator makes even ones unless it made several in one millisecond)."""
    candidate = id_floor(now) | 1
    while await tx.fetchone("SELECT 1 FROM objects WHERE id = :id UNION ALL"
                            " SELECT 1 FROM reactions WHERE kind = 'announce' AND status_id = :id",
                            {"id": candidate}) is not None:
        candidate += 2
    return candidate


async def add_reaction(tx: Transaction, kind: str, actor_uri: str, object_uri: str, activity_uri: str,
                       now: float, *, status_id: int | None = None) -> bool:
    """Record a like/announce; False if this actor already reacted so (or the activity was seen). An
    announce gets `status_id` as its API status id (the activities row id for our own; services.ids for
    remote ones), or a fresh time-sortable one."""
    if kind == "announce" and status_id is None:
        status_id = await _fresh_status_id(tx, now)
    return await tx.insert(
        "INSERT INTO reactions (kind, actor_uri, object_uri, activity_uri, published, status_id)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (kind, actor_uri, object_uri, activity_uri, now, status_id if kind == "announce" else None)) is not None


async def remove_reaction(tx: Transaction, kind: str, actor_uri: str, object_uri: str) -> bool:
    return await tx.execute("DELETE FROM reactions WHERE kind = ? AND actor_uri = ? AND object_uri = ?",
                            (kind, actor_uri, object_uri)) > 0


async def remove_reaction_by_activity(tx: Transaction, activity_uri: str, actor_uri: str) -> str | None:
    """Undo by the original activity's id, only for its own actor; returns the kind removed."""
    row = await tx.fetchone("SELECT kind FROM reactions WHERE activity_uri = ? AND actor_uri = ?",
                            (activity_uri, actor_uri))
    if row is None:
        return None
    await tx.execute("DELETE FROM reactions WHERE activity_uri = ?", (activity_uri,))
    return str(row["kind"])


async def count_reactions(db: Database | Transaction, object_uri: str, kind: str) -> int:
    return int((await db.fetchone("SELECT count(*) FROM reactions WHERE object_uri = ? AND kind = ?",
                                  (object_uri, kind)) or [0])[0])


async def get_boost(db: Database | Transaction, status_id: int) -> Boost | None:
    """The boost with this API status id (of a note still stored), or None."""
    row = await db.fetchone(
        f"SELECT {BOOST_COLUMNS} FROM reactions AS r INDEXED BY reactions_boosts CROSS JOIN objects AS o"
        " ON o.uri = r.object_uri WHERE r.kind = 'announce' AND r.status_id = ?", (status_id,))
    return boost_from_row(row) if row is not None else None


async def get_boost_by_activity(db: Database | Transaction, activity_uri: str) -> Boost | None:
    """The boost made by this Announce (of a note still stored), or None."""
    row = await db.fetchone(
        f"SELECT {BOOST_COLUMNS} FROM reactions AS r CROSS JOIN objects AS o ON o.uri = r.object_uri"
        " WHERE r.activity_uri = ? AND r.kind = 'announce' AND r.status_id IS NOT NULL", (activity_uri,))
    return boost_from_row(row) if row is not None else None
