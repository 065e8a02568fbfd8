"""Local actors (members, communities, the instance actor) and their bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass

from fediverse_learn.errors import NameTaken, NotFound
from fediverse_learn.keys import KeyPair
from fediverse_learn.store.db import Database, Row

__all__ = [
    "INSTANCE_ACTOR",
    "LocalActor",
    "count_members",
    "create_actor",
    "create_token",
    "get_actor",
    "get_actor_by_id",
    "list_actors",
    "lookup_token",
    "remove_actor",
]

INSTANCE_ACTOR = "instance.actor"   # not a valid member name, so it can never collide


@dataclass(frozen=True)
class LocalActor:
    id: int
    name: str
    kind: str
    display_name: str
    summary: str
    role: str
    private_key_pem: str
    public_key_pem: str
    manually_approves_followers: bool
    discoverable: bool
    indexable: bool
    created_at: float
    removed_at: float | None

    @property
    def is_instance(self) -> bool:
        return self.kind == "application"


_COLUMNS = (
    "id, name, kind, display_name, summary, role, private_key_pem, public_key_pem, "
    "manually_approves_followers, discoverable, indexable, created_at, removed_at"
)


def _actor(row: Row) -> LocalActor:
    return LocalActor(
        id=row["id"], name=row["name"], kind=row["kind"], display_name=row["display_name"],
        summary=row["summary"], role=row["role"], private_key_pem=row["private_key_pem"],
        public_key_pem=row["public_key_pem"],
        manually_approves_followers=bool(row["manually_approves_followers"]),
        discoverable=bool(row["discoverable"]), indexable=bool(row["indexable"]),
        created_at=row["created_at"], removed_at=row["removed_at"],
    )


async def create_actor(
    db: Database, *, name: str, kind: str, keys: KeyPair, now: float, display_name: str = "",
    summary: str = "", role: str = "member", manually_approves_followers: bool = False,
    discoverable: bool = True, indexable: bool = True,
) -> LocalActor:
    """Insert a local actor; NameTaken if the name is in use (or was used by a removed actor)."""
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO actors (name, kind, display_name, summary, role, private_key_pem, public_key_pem,"
                " manually_approves_followers, discoverable, indexable, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, kind, display_name, summary, role, keys.private_pem, keys.public_pem,
                 int(manually_approves_followers), int(discoverable), int(indexable), now),
            )
    except sqlite3.IntegrityError:
        raise NameTaken(f"the name {name!r} is already taken") from None
    actor = await get_actor(db, name)
    assert actor is not None
    return actor


async def get_actor(db: Database, name: str, *, include_removed: bool = False) -> LocalActor | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM actors WHERE name = ?", (name,))
    if row is None or (row["removed_at"] is not None and not include_removed):
        return None
    return _actor(row)


async def get_actor_by_id(db: Database, actor_id: int) -> LocalActor | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM actors WHERE id = ?", (actor_id,))
    return _actor(row) if row is not None else None


async def list_actors(db: Database, kind: str) -> list[LocalActor]:
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM actors WHERE kind = ? AND removed_at IS NULL ORDER BY name", (kind,)
    )
    return [_actor(r) for r in rows]


async def count_members(db: Database) -> int:
    return int(await db.fetchval(
        "SELECT count(*) FROM actors WHERE kind = 'person' AND removed_at IS NULL"
    ))


async def remove_actor(db: Database, name: str, kind: str, now: float) -> None:
    """Mark an actor removed (its name stays reserved: remote servers remember its key) and revoke tokens."""
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT id FROM actors WHERE name = ? AND kind = ? AND removed_at IS NULL", (name, kind)
        )
        if row is None:
            raise NotFound(f"no {'member' if kind == 'person' else kind} named {name!r}")
        await tx.execute("UPDATE actors SET removed_at = ? WHERE id = ?", (now, row["id"]))
        await tx.execute("UPDATE tokens SET revoked_at = ? WHERE actor_id = ? AND revoked_at IS NULL",
                         (now, row["id"]))


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_token(db: Database, actor: LocalActor, scopes: str, now: float) -> str:
    """Create a bearer token; only its SHA-256 is stored. Returns the token text."""
    token = secrets.token_urlsafe(32)
    await db.execute(
        "INSERT INTO tokens (actor_id, token_hash, scopes, created_at) VALUES (?, ?, ?, ?)",
        (actor.id, _hash_token(token), scopes, now),
    )
    return token


async def lookup_token(db: Database, token: str) -> tuple[LocalActor, frozenset[str]] | None:
    """The actor and scopes of a valid bearer token, or None."""
    row = await db.fetchone(
        f"SELECT t.scopes, {', '.join('a.' + c.strip() for c in _COLUMNS.split(','))}"
        " FROM tokens t JOIN actors a ON a.id = t.actor_id"
        " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND a.removed_at IS NULL",
        (_hash_token(token),),
    )
    if row is None:
        return None
    return _actor(row), frozenset(row["scopes"].split())
