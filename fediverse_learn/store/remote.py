"""Cached remote actors and keys, and the negative cache of failed fetches."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from fediverse_learn.converters import RemoteActor, RemoteKey
from fediverse_learn.store.db import Database, Transaction

__all__ = [
    "get_key",
    "get_remote_actor",
    "get_remote_actor_by_handle",
    "get_remote_actors",
    "mark_gone",
    "mark_gone_tx",
    "recent_failure",
    "record_failure",
    "save_remote_actor",
]


def _encode(actor: RemoteActor) -> bytes:
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        raise TypeError

    return orjson.dumps(dataclasses.asdict(actor), default=default)


@functools.lru_cache(maxsize=1024)
def _decode(data: str | bytes) -> RemoteActor:
    """The actor a stored `data` column holds; remembered by that text (a RemoteActor is immutable, and a
    refreshed actor has new text), so the hot path (each activity's author) parses it once."""
    raw = orjson.loads(data)
    raw["keys"] = tuple(RemoteKey(**k) for k in raw["keys"])
    raw["also_known_as"] = tuple(raw["also_known_as"])
    if raw.get("published"):
        raw["published"] = datetime.fromisoformat(raw["published"])
    return RemoteActor(**raw)


async def save_remote_actor(db: Database, actor: RemoteActor, now: float) -> None:
    """Store (or refresh) a fetched actor and its keys in one transaction."""
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO remote_actors (uri, domain, username, type, inbox, shared_inbox, followers, data,"
            " fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (uri) DO UPDATE SET domain = excluded.domain, username = excluded.username,"
            " type = excluded.type, inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,"
            " followers = excluded.followers, data = excluded.data, fetched_at = excluded.fetched_at,"
            " gone_at = NULL",
            (actor.uri, actor.domain, actor.username, actor.type, actor.inbox, actor.shared_inbox,
             actor.followers, _encode(actor).decode("utf-8"), now),
        )
        for key in actor.keys:
            await tx.execute(
                "INSERT INTO remote_keys (key_id, owner_uri, public_key_pem, fetched_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key_id) DO UPDATE SET owner_uri = excluded.owner_uri,"
                " public_key_pem = excluded.public_key_pem, fetched_at = excluded.fetched_at",
                (key.key_id, key.owner, key.public_key_pem, now),
            )
        await tx.execute("DELETE FROM fetch_failures WHERE url = ?", (actor.uri,))


async def get_remote_actor(db: Database, uri: str) -> tuple[RemoteActor, float] | None:
    """The cached actor and when it was fetched."""
    row = await db.fetchone("SELECT data, fetched_at FROM remote_actors WHERE uri = ? AND gone_at IS NULL",
                            (uri,))
    return (_decode(row["data"]), float(row["fetched_at"])) if row else None


async def get_remote_actors(db: Database, uris: Sequence[str]) -> dict[str, tuple[RemoteActor, float]]:
    """`get_remote_actor` for many (a page of statuses' authors) in one query; unknown ones are left out."""
    found: dict[str, tuple[RemoteActor, float]] = {}
    for start in range(0, len(uris), 500):
        chunk = list(uris[start:start + 500])
        rows = await db.fetchall(
            f"SELECT uri, data, fetched_at FROM remote_actors WHERE uri IN ({', '.join('?' * len(chunk))})"
            " AND gone_at IS NULL", chunk)
        found.update((str(r["uri"]), (_decode(r["data"]), float(r["fetched_at"]))) for r in rows)
    return found


async def get_remote_actor_by_handle(db: Database, username: str, domain: str) -> RemoteActor | None:
    row = await db.fetchone(
        "SELECT data FROM remote_actors WHERE lower(username) = lower(?) AND domain = ? AND gone_at IS NULL",
        (username, domain),
    )
    return _decode(row["data"]) if row else None


async def get_key(db: Database, key_id: str) -> tuple[RemoteKey, float] | None:
    row = await db.fetchone(
        "SELECT key_id, owner_uri, public_key_pem, fetched_at FROM remote_keys WHERE key_id = ?", (key_id,)
    )
    if row is None:
        return None
    return RemoteKey(key_id=row["key_id"], owner=row["owner_uri"], public_key_pem=row["public_key_pem"]), float(
        row["fetched_at"]
    )


async def record_failure(db: Database, url: str, reason: str, now: float) -> None:
    await db.execute(
        "INSERT INTO fetch_failures (url, failed_at, reason) VALUES (?, ?, ?)"
        " ON CONFLICT (url) DO UPDATE SET failed_at = excluded.failed_at, reason = excluded.reason",
        (url, now, reason[:500]),
    )


async def recent_failure(db: Database, url: str, since: float) -> str | None:
    row = await db.fetchone("SELECT reason FROM fetch_failures WHERE url = ? AND failed_at >= ?", (url, since))
    return str(row["reason"]) if row else None


async def mark_gone(db: Database, uri: str, now: float) -> None:
    async with db.transaction() as tx:
        await mark_gone_tx(tx, uri, now)


async def mark_gone_tx(tx: Transaction, uri: str, now: float) -> None:
    """The actor was deleted: keep the row (its key may still verify its own Delete), hide it."""
    await tx.execute("UPDATE remote_actors SET gone_at = ? WHERE uri = ?", (now, uri))
