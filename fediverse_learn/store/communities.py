"""Community state: settings, moderators, bans, accepted posts, thread locks and pins, announces, host software."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fediverse_learn.communities import SCOPES, Membership, Scope
from fediverse_learn.keys import KeyPair
from fediverse_learn.store.actors import LocalActor, create_actor, get_actor
from fediverse_learn.store.db import Database, Transaction

__all__ = [
    "CommunityPost",
    "CommunitySettings",
    "add_ban",
    "add_moderator",
    "communities_of_post",
    "community_named",
    "create_community",
    "featured_uris",
    "forget_post",
    "get_settings",
    "has_thread",
    "host_software",
    "is_banned",
    "is_locked",
    "is_moderator",
    "list_moderators",
    "record_announce",
    "record_post",
    "recorded_announce",
    "remove_ban",
    "remove_moderator",
    "save_host_software",
    "save_settings",
    "set_thread_state",
]

Reader = Database | Transaction


@dataclass(frozen=True)
class CommunitySettings:
    membership: Membership = "open"
    posting_restricted_to_mods: bool = False
    rules: str = ""
    scope: Scope = "public"


@dataclass(frozen=True)
class CommunityPost:
    """A post a community accepted: which community, and the top-level post of its thread."""

    community_id: int
    object_uri: str
    root_uri: str


async def create_community(db: Database, *, name: str, keys: KeyPair, now: float, display_name: str = "",
                           summary: str = "", moderators: Sequence[str] = (), membership: Membership = "open",
                           posting_restricted_to_mods: bool = False, rules: str = "",
                           scope: Scope = "public") -> LocalActor:
    """A new community actor with its settings and moderators (actor uris); NameTaken if the name is used."""
    actor = await create_actor(db, name=name, kind="group", keys=keys, now=now, display_name=display_name,
                               summary=summary, manually_approves_followers=membership == "approval")
    async with db.transaction() as tx:
        await save_settings(tx, actor.id, now, posting_restricted_to_mods=posting_restricted_to_mods, rules=rules,
                            scope=scope)
        for uri in moderators:
            await add_moderator(tx, actor.id, uri, now)
    return actor


async def get_settings(db: Reader, community: LocalActor) -> CommunitySettings:
    row = await db.fetchone(
        "SELECT posting_restricted_to_mods, rules, scope FROM community_settings WHERE actor_id = ?", (community.id,))
    membership: Membership = "approval" if community.manually_approves_followers else "open"
    if row is None:
        return CommunitySettings(membership=membership)
    scope: Scope = next((s for s in SCOPES if s == row["scope"]), "public")
    return CommunitySettings(membership, bool(row["posting_restricted_to_mods"]), str(row["rules"]), scope)


async def save_settings(tx: Transaction, community_id: int, now: float, *, membership: Membership | None = None,
                        posting_restricted_to_mods: bool | None = None, rules: str | None = None,
                        summary: str | None = None, display_name: str | None = None,
                        scope: Scope | None = None) -> None:
    """Change the settings given (None keeps a setting); membership, summary and name live on the actor."""
    await tx.execute(
        "INSERT INTO community_settings (actor_id, updated_at) VALUES (?, ?) ON CONFLICT (actor_id) DO NOTHING",
        (community_id, now))
    await tx.execute(
        "UPDATE community_settings SET posting_restricted_to_mods = coalesce(?, posting_restricted_to_mods),"
        " rules = coalesce(?, rules), scope = coalesce(?, scope), updated_at = ? WHERE actor_id = ?",
        (None if posting_restricted_to_mods is None else int(posting_restricted_to_mods), rules, scope, now,
         community_id))
    approval = None if membership is None else int(membership == "approval")
    await tx.execute(
        "UPDATE actors SET manually_approves_followers = coalesce(?, manually_approves_followers),"
        " summary = coalesce(?, summary), display_name = coalesce(?, display_name) WHERE id = ? AND kind = 'group'",
        (approval, summary, display_name, community_id))


# --- moderators and bans ------------------------------------------------------------------------------

async def add_moderator(tx: Transaction, community_id: int, actor_uri: str, now: float) -> bool:
    return await tx.insert(
        "INSERT INTO community_moderators (community_id, actor_uri, added_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING", (community_id, actor_uri, now)) is not None


async def remove_moderator(tx: Transaction, community_id: int, actor_uri: str) -> bool:
    return await tx.execute("DELETE FROM community_moderators WHERE community_id = ? AND actor_uri = ?",
                            (community_id, actor_uri)) > 0


async def list_moderators(db: Reader, community_id: int) -> list[str]:
    rows = await db.fetchall(
        "SELECT actor_uri FROM community_moderators WHERE community_id = ? ORDER BY added_at, actor_uri",
        (community_id,))
    return [str(r["actor_uri"]) for r in rows]


async def is_moderator(db: Reader, community_id: int, actor_uri: str) -> bool:
    return await db.fetchone("SELECT 1 FROM community_moderators WHERE community_id = ? AND actor_uri = ?",
                             (community_id, actor_uri)) is not None


async def add_ban(tx: Transaction, community_id: int, actor_uri: str, now: float, *, activity_uri: str | None = None,
                  reason: str = "", expires_at: float | None = None) -> None:
    await tx.execute(
        "INSERT INTO community_bans (community_id, actor_uri, activity_uri, reason, expires_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (community_id, actor_uri) DO UPDATE SET"
        " activity_uri = excluded.activity_uri, reason = excluded.reason, expires_at = excluded.expires_at",
        (community_id, actor_uri, activity_uri, reason[:1000], expires_at, now))


async def remove_ban(tx: Transaction, community_id: int, actor_uri: str) -> bool:
    return await tx.execute("DELETE FROM community_bans WHERE community_id = ? AND actor_uri = ?",
                            (community_id, actor_uri)) > 0


async def is_banned(db: Reader, community_id: int, actor_uri: str, now: float) -> bool:
    """True while a ban of the actor holds (bans without an expiry hold until lifted)."""
    return await db.fetchone(
        "SELECT 1 FROM community_bans WHERE community_id = ? AND actor_uri = ? AND (expires_at IS NULL OR"
        " expires_at > ?)", (community_id, actor_uri, now)) is not None


# --- posts and threads --------------------------------------------------------------------------------

async def record_post(tx: Transaction, community_id: int, object_uri: str, root_uri: str, author_uri: str,
                      now: float) -> bool:
    """Remember an accepted post; False if the community had accepted it already (nothing changed)."""
    return await tx.insert(
        "INSERT INTO community_posts (community_id, object_uri, root_uri, author_uri, accepted_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (community_id, object_uri, root_uri, author_uri, now)) is not None


async def forget_post(tx: Transaction, community_id: int, object_uri: str) -> bool:
    """Take a post out of a community (a moderator removed it)."""
    return await tx.execute("DELETE FROM community_posts WHERE community_id = ? AND object_uri = ?",
                            (community_id, object_uri)) > 0


async def communities_of_post(db: Reader, object_uri: str) -> list[CommunityPost]:
    """The communities of ours that accepted a post, with its thread's top-level post."""
    rows = await db.fetchall(
        "SELECT community_id, object_uri, root_uri FROM community_posts WHERE object_uri = ? ORDER BY community_id",
        (object_uri,))
    return [CommunityPost(int(r["community_id"]), str(r["object_uri"]), str(r["root_uri"])) for r in rows]


async def has_thread(db: Reader, community_id: int, root_uri: str) -> bool:
    """True if the community accepted posts of the thread whose top-level post is `root_uri`."""
    return await db.fetchone("SELECT 1 FROM community_posts WHERE community_id = ? AND root_uri = ? LIMIT 1",
                             (community_id, root_uri)) is not None


async def set_thread_state(tx: Transaction, community_id: int, root_uri: str, now: float, *,
                           locked: bool | None = None, featured: bool | None = None) -> None:
    """Lock or unlock, pin or unpin a thread (None leaves that state as it is)."""
    await tx.execute(
        "INSERT INTO community_threads (community_id, root_uri) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (community_id, root_uri))
    if locked is not None:
        await tx.execute("UPDATE community_threads SET locked_at = ? WHERE community_id = ? AND root_uri = ?",
                         (now if locked else None, community_id, root_uri))
    if featured is not None:
        await tx.execute("UPDATE community_threads SET featured_at = ? WHERE community_id = ? AND root_uri = ?",
                         (now if featured else None, community_id, root_uri))


async def is_locked(db: Reader, community_id: int, root_uri: str) -> bool:
    return await db.fetchone(
        "SELECT 1 FROM community_threads WHERE community_id = ? AND root_uri = ? AND locked_at IS NOT NULL",
        (community_id, root_uri)) is not None


async def featured_uris(db: Reader, community_id: int) -> list[str]:
    """The community's pinned threads, most recently pinned first (its `featured` collection)."""
    rows = await db.fetchall(
        "SELECT root_uri FROM community_threads WHERE community_id = ? AND featured_at IS NOT NULL"
        " AND root_uri NOT IN (SELECT uri FROM tombstones) ORDER BY featured_at DESC", (community_id,))
    return [str(r["root_uri"]) for r in rows]


# --- announces ----------------------------------------------------------------------------------------

async def record_announce(tx: Transaction, community_id: int, inner_uri: str, shape: str, announce_uri: str,
                          now: float) -> bool:
    """Remember that the community announced `inner_uri` in this shape; False if it had already."""
    return await tx.insert(
        "INSERT INTO community_announces (community_id, inner_uri, shape, announce_uri, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (community_id, inner_uri, shape, announce_uri, now)) is not None


async def recorded_announce(db: Reader, community_id: int, inner_uri: str, shape: str) -> str | None:
    """The id of the community's Announce of `inner_uri` in this shape, if it made one."""
    row = await db.fetchone(
        "SELECT announce_uri FROM community_announces WHERE community_id = ? AND inner_uri = ? AND shape = ?",
        (community_id, inner_uri, shape))
    return str(row["announce_uri"]) if row is not None else None


# --- host software (NodeInfo) -------------------------------------------------------------------------

async def host_software(db: Reader, hosts: Iterable[str], since: float) -> dict[str, bool]:
    """Whether each host runs group-aware software, for the hosts checked at or after `since`."""
    wanted = list(dict.fromkeys(hosts))
    found: dict[str, bool] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = await db.fetchall(
            f"SELECT host, group_aware FROM host_software WHERE host IN ({','.join('?' * len(chunk))})"
            " AND checked_at >= ?", (*chunk, since))
        found.update({str(r["host"]): bool(r["group_aware"]) for r in rows})
    return found


async def save_host_software(db: Database, host: str, software: str, group_aware: bool, now: float) -> None:
    await db.execute(
        "INSERT INTO host_software (host, software, group_aware, checked_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (host) DO UPDATE SET software = excluded.software, group_aware = excluded.group_aware,"
        " checked_at = excluded.checked_at", (host, software[:100], int(group_aware), now))


async def community_named(db: Database, name: str) -> LocalActor | None:
    """The community with this name (not a member, not removed), or None."""
    actor = await get_actor(db, name)
    return actor if actor is not None and actor.kind == "group" else None
