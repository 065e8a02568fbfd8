"""Registrations as stored: invites, sign-ups awaiting approval, new members, member safety settings."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from fediverse_learn.errors import NameTaken
from fediverse_learn.keys import KeyPair
from fediverse_learn.store.db import Database, Transaction

__all__ = [
    "Invite",
    "MemberSettings",
    "NewMember",
    "SignUp",
    "add_sign_up",
    "consume_invite",
    "decide_sign_up",
    "get_invite",
    "get_member_settings",
    "insert_invite",
    "insert_member",
    "link_sign_up",
    "list_invites",
    "list_sign_ups",
    "name_in_use",
    "pending_sign_up",
    "record_sign_up",
    "revoke_invite",
    "save_member_settings",
    "set_role",
]


# --- invites -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Invite:
    id: int
    code: str
    created_by: str | None
    max_uses: int | None
    uses: int
    expires_at: float | None
    revoked_at: float | None
    created_at: float

    def state(self, now: float) -> str:
        """active, revoked, expired or exhausted."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "exhausted"
        return "active"


_INVITE = "id, code, created_by, max_uses, uses, expires_at, revoked_at, created_at"


async def insert_invite(db: Database, code: str, created_by: str | None, max_uses: int | None,
                        expires_at: float | None, now: float) -> Invite:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO invites (code, created_by, max_uses, expires_at, created_at)"
                         " VALUES (?, ?, ?, ?, ?)", (code, created_by, max_uses, expires_at, now))
        found = await get_invite(tx, code)
    assert found is not None
    return found


async def get_invite(db: Database | Transaction, code: str) -> Invite | None:
    row = await db.fetchone(f"SELECT {_INVITE} FROM invites WHERE code = ?", (code,))
    return Invite(**dict(row)) if row is not None else None


async def list_invites(db: Database) -> list[Invite]:
    return [Invite(**dict(r)) for r in await db.fetchall(f"SELECT {_INVITE} FROM invites ORDER BY id")]


async def revoke_invite(tx: Transaction, code: str, now: float) -> bool:
    return await tx.execute("UPDATE invites SET revoked_at = ? WHERE code = ? AND revoked_at IS NULL",
                            (now, code)) > 0


async def consume_invite(tx: Transaction, invite_id: int, now: float) -> bool:
    """Count one use, only if the invite is still usable (checked and counted in one statement)."""
    return await tx.execute(
        "UPDATE invites SET uses = uses + 1 WHERE id = ? AND revoked_at IS NULL"
        " AND (max_uses IS NULL OR uses < max_uses) AND (expires_at IS NULL OR expires_at > ?)",
        (invite_id, now)) > 0


# --- sign-ups ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignUp:
    id: int
    name: str
    password_hash: str | None
    email: str | None
    reason: str
    invite_id: int | None
    state: str
    actor_id: int | None
    created_at: float
    decided_at: float | None
    decided_by: str | None


_SIGN_UP = "id, name, password_hash, email, reason, invite_id, state, actor_id, created_at, decided_at, decided_by"


async def name_in_use(db: Database | Transaction, name: str) -> str | None:
    """Why a name cannot be taken ("taken": an actor, even a removed one, has it; "pending": a sign-up awaits
    approval), or None if it is free."""
    if await db.fetchone("SELECT 1 FROM actors WHERE name = ?", (name,)) is not None:
        return "taken"
    if await db.fetchone("SELECT 1 FROM sign_ups WHERE name = ? AND state = 'pending'", (name,)) is not None:
        return "pending"
    return None


async def add_sign_up(db: Database, *, name: str, password_hash: str | None, email: str | None, reason: str,
                      invite_id: int | None, now: float) -> SignUp:
    """Queue a sign-up for approval; NameTaken if the name is in use or already awaits approval."""
    try:
        async with db.transaction() as tx:
            if await name_in_use(tx, name) is not None:
                raise NameTaken(f"the name {name!r} is already taken")
            await tx.execute(
                "INSERT INTO sign_ups (name, password_hash, email, reason, invite_id, state, created_at)"
                " VALUES (?, ?, ?, ?, ?, 'pending', ?)", (name, password_hash, email, reason, invite_id, now))
    except sqlite3.IntegrityError:
        raise NameTaken(f"the name {name!r} is already taken") from None
    found = await pending_sign_up(db, name)
    assert found is not None
    return found


async def pending_sign_up(db: Database | Transaction, name: str) -> SignUp | None:
    row = await db.fetchone(f"SELECT {_SIGN_UP} FROM sign_ups WHERE name = ? AND state = 'pending'", (name,))
    return SignUp(**dict(row)) if row is not None else None


async def list_sign_ups(db: Database, state: str = "pending") -> list[SignUp]:
    rows = await db.fetchall(f"SELECT {_SIGN_UP} FROM sign_ups WHERE state = ? ORDER BY id", (state,))
    return [SignUp(**dict(r)) for r in rows]


async def decide_sign_up(tx: Transaction, sign_up_id: int, state: str, actor_id: int | None,
                         decided_by: str | None, now: float) -> bool:
    """Approve or reject a pending sign-up (its password hash is dropped either way: the member has it)."""
    return await tx.execute(
        "UPDATE sign_ups SET state = ?, actor_id = ?, decided_by = ?, decided_at = ?, password_hash = NULL"
        " WHERE id = ? AND state = 'pending'", (state, actor_id, decided_by, now, sign_up_id)) > 0


async def record_sign_up(tx: Transaction, *, name: str, email: str | None, reason: str, invite_id: int | None,
                         actor_id: int, now: float) -> None:
    """Keep the record of a sign-up that needed no approval (which invite let the member in)."""
    await tx.execute(
        "INSERT INTO sign_ups (name, email, reason, invite_id, state, actor_id, created_at, decided_at)"
        " VALUES (?, ?, ?, ?, 'approved', ?, ?, ?)", (name, email, reason, invite_id, actor_id, now, now))


async def link_sign_up(tx: Transaction, sign_up_id: int, actor_id: int) -> None:
    """The member an approved sign-up became."""
    await tx.execute("UPDATE sign_ups SET actor_id = ? WHERE id = ?", (actor_id, sign_up_id))


# --- members -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberSettings:
    """How a member is protected: their default post visibility, who may reply, who on other servers may
    send them direct messages; their e-mail address (from a roster or sign-up)."""

    default_visibility: str
    reply_policy: str
    remote_direct_messages: str
    email: str | None = None


@dataclass(frozen=True)
class NewMember:
    name: str
    keys: KeyPair
    settings: MemberSettings
    display_name: str = ""
    role: str = "member"
    discoverable: bool = False
    password_hash: str | None = None


async def insert_member(tx: Transaction, member: NewMember, now: float) -> int:
    """Insert a member and their settings in the caller's transaction; NameTaken if the name is used."""
    if await name_in_use(tx, member.name) == "pending":
        raise NameTaken(f"the name {member.name!r} awaits approval")
    try:
        rowid = await tx.insert(
            "INSERT INTO actors (name, kind, display_name, role, private_key_pem, public_key_pem, discoverable,"
            " indexable, password_hash, created_at) VALUES (?, 'person', ?, ?, ?, ?, ?, ?, ?, ?)",
            (member.name, member.display_name, member.role, member.keys.private_pem, member.keys.public_pem,
             int(member.discoverable), int(member.discoverable), member.password_hash, now))
    except sqlite3.IntegrityError:
        raise NameTaken(f"the name {member.name!r} is already taken") from None
    assert rowid is not None
    await save_member_settings(tx, rowid, member.settings, now)
    return rowid


async def save_member_settings(tx: Transaction, actor_id: int, settings: MemberSettings, now: float) -> None:
    await tx.execute(
        "INSERT INTO member_settings (actor_id, email, default_visibility, reply_policy, remote_direct_messages,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (actor_id) DO UPDATE SET email = excluded.email,"
        " default_visibility = excluded.default_visibility, reply_policy = excluded.reply_policy,"
        " remote_direct_messages = excluded.remote_direct_messages, updated_at = excluded.updated_at",
        (actor_id, settings.email, settings.default_visibility, settings.reply_policy,
         settings.remote_direct_messages, now))


async def get_member_settings(db: Database | Transaction, actor_id: int) -> MemberSettings | None:
    row = await db.fetchone("SELECT default_visibility, reply_policy, remote_direct_messages, email"
                            " FROM member_settings WHERE actor_id = ?", (actor_id,))
    return MemberSettings(**dict(row)) if row is not None else None


async def set_role(tx: Transaction, name: str, role: str) -> str | None:
    """Give a member a role; returns the role before, None if there is no such member."""
    row = await tx.fetchone("SELECT role FROM actors WHERE name = ? AND kind = 'person' AND removed_at IS NULL",
                            (name,))
    if row is None:
        return None
    await tx.execute("UPDATE actors SET role = ? WHERE name = ? AND kind = 'person'", (role, name))
    return str(row["role"])
