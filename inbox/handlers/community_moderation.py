"""Moderation inside a local community: honoured only from its listed moderators, then announced by it.

Block with the community as `target` bans (and ends the membership of) an actor; Undo(Block) lifts it.
Delete by a moderator, or Remove with the community as `target`, removes a post from the community; Lock and
Undo(Lock) lock a thread; Add/Remove with `featured` as `target` pin and unpin it; Add/Remove with
`moderators` as `target` change the moderators. The activity is announced to the community's group-aware
followers exactly as received; a removed thread's boost is taken back from the others. Our moderators act
through the same path: their activities are delivered to the community locally (`outbox.community_actions`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fediverse_learn.communities import Target, classify_target
from fediverse_learn.events import publish_delete
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor_by_id
from fediverse_learn.store.communities import (
    add_ban,
    add_moderator,
    communities_of_post,
    community_named,
    forget_post,
    is_moderator,
    remove_ban,
    remove_moderator,
    set_thread_state,
)
from fediverse_learn.store.db import Transaction
from fediverse_learn.store.follows import delete_follow
from fediverse_learn.store.objects import get_note, tombstone
from fediverse_learn.vocab import has_type, http_url, id_of, parse_datetime, text_of
from inbox.handlers.block import handle_block
from inbox.handlers.common import embedded_object, object_uri
from inbox.handlers.undo import handle_undo
from inbox.incoming import Incoming, Reject
from outbox.community import announce_tx, follower_fanout, undo_boost_tx
from outbox.publish import kick_workers

__all__ = [
    "announce_author_delete",
    "handle_add",
    "handle_block_or_ban",
    "handle_lock",
    "handle_remove",
    "handle_undo_moderation",
    "moderator_delete",
]

log = logging.getLogger(__name__)

Change = Callable[[Transaction], Awaitable[object]]


async def _moderated(services: Services, community: LocalActor, incoming: Incoming, change: Change, *,
                     take_back: str | None = None) -> None:
    """Apply a moderator's change and announce their activity, in one transaction; `take_back`: a removed
    post whose boost the community withdraws. A non-moderator's activity is refused."""
    actor = incoming.actor_uri
    if not await is_moderator(services.db, community.id, actor):
        raise Reject(f"{actor} is not a moderator of {community.name}")
    fanout = await follower_fanout(services, community)
    async with services.db.transaction() as tx:
        await change(tx)
        await announce_tx(tx, services, community, incoming.activity, fanout.group_aware)
        if take_back is not None:
            await undo_boost_tx(tx, services, community, take_back, fanout.others)
    kick_workers(services)
    log.info("community %s: %s %s by %s", community.name, str(incoming.activity.get("type"))[:20],
             incoming.activity.get("id"), actor)


async def _target_community(services: Services, activity: dict[str, Any]) -> tuple[LocalActor, Target] | None:
    target = classify_target(services.uris, activity.get("target"))
    community = await community_named(services.db, target.community) if target is not None else None
    return (community, target) if community is not None and target is not None else None


async def _post_community(services: Services, activity: dict[str, Any],
                          note_uri: str) -> tuple[LocalActor, str] | None:
    """The local community a post belongs to (the one the activity names, if several) and its thread."""
    named = {t.community for f in ("target", "audience") if (t := classify_target(services.uris, activity.get(f)))}
    for post in await communities_of_post(services.db, note_uri):
        community = await get_actor_by_id(services.db, post.community_id)
        if community is not None and community.removed_at is None and (not named or community.name in named):
            return community, post.root_uri
    return None


async def handle_block_or_ban(services: Services, incoming: Incoming) -> None:
    """Block with a local community as `target`: a ban; any other Block is a member's block."""
    found = await _target_community(services, incoming.activity)
    if found is None:
        await handle_block(services, incoming)
        return
    community, _ = found
    activity = incoming.activity
    banned = object_uri(activity)
    community_uri = services.uris.actor(community.name)
    if banned in (community_uri, incoming.actor_uri):
        raise Reject(f"{banned} cannot be banned from {community.name}")
    expires = parse_datetime(activity.get("expires"))
    reason = text_of(activity.get("summary")) or ""

    async def ban(tx: Transaction) -> None:
        await add_ban(tx, community.id, banned, services.clock.time(), activity_uri=str(activity["id"]),
                      reason=reason, expires_at=expires.timestamp() if expires is not None else None)
        await delete_follow(tx, banned, community_uri)

    await _moderated(services, community, incoming, ban)


async def handle_undo_moderation(services: Services, incoming: Incoming) -> None:
    """Undo(Block) of a ban and Undo(Lock); any other Undo goes to the plain Undo handler."""
    inner = embedded_object(incoming.activity) or {}
    if id_of(inner.get("actor")) not in (None, incoming.actor_uri):
        raise Reject(f"{incoming.actor_uri} may not undo an activity of {id_of(inner.get('actor'))}")
    if has_type(inner, "Lock"):
        await _lock(services, incoming, inner, locked=False)
        return
    found = await _target_community(services, inner) if has_type(inner, "Block") else None
    if found is None:
        await handle_undo(services, incoming)
        return
    community, _ = found
    unbanned = http_url(id_of(inner.get("object")))
    if unbanned is None:
        raise Reject("Undo(Block) without the banned actor")
    await _moderated(services, community, incoming, lambda tx: remove_ban(tx, community.id, unbanned))


async def handle_lock(services: Services, incoming: Incoming) -> None:
    await _lock(services, incoming, incoming.activity, locked=True)


async def _lock(services: Services, incoming: Incoming, lock: dict[str, Any], *, locked: bool) -> None:
    """Lock (or unlock) the thread of a post in a local community."""
    note_uri = http_url(id_of(lock.get("object")))
    found = await _post_community(services, lock, note_uri) if note_uri is not None else None
    if found is None:
        log.info("%s of %s, not in a community of ours: ignored", "Lock" if locked else "Unlock", note_uri)
        return
    community, root = found
    await _moderated(services, community, incoming, lambda tx: set_thread_state(
        tx, community.id, root, services.clock.time(), locked=locked))


async def handle_add(services: Services, incoming: Incoming) -> None:
    """Add to a community's `featured` (pin a thread) or `moderators` collection."""
    await _collection_change(services, incoming, added=True)


async def handle_remove(services: Services, incoming: Incoming) -> None:
    """Remove from `featured` or `moderators`, or (target the community, or none) remove a post from it."""
    found = await _target_community(services, incoming.activity)
    if found is not None and found[1].collection != "community":
        await _collection_change(services, incoming, added=False)
        return
    note_uri = object_uri(incoming.activity)
    if not await _remove_post(services, incoming, note_uri):
        log.info("Remove of %s, not a post in a community of ours: ignored", note_uri)


async def _collection_change(services: Services, incoming: Incoming, *, added: bool) -> None:
    found = await _target_community(services, incoming.activity)
    if found is None or found[1].collection == "community":
        log.info("%s %s to no collection of ours: ignored", "Add" if added else "Remove", incoming.activity.get("id"))
        return
    community, target = found
    obj = object_uri(incoming.activity)
    now = services.clock.time()
    if target.collection == "moderators":
        change: Change = (lambda tx: add_moderator(tx, community.id, obj, now)) if added else (
            lambda tx: remove_moderator(tx, community.id, obj))
        await _moderated(services, community, incoming, change)
        return
    thread = await _post_community(services, {"target": incoming.activity.get("target")}, obj)
    if thread is None or thread[1] != obj:
        raise Reject(f"{obj} is not a thread of {community.name}: it cannot be pinned")
    await _moderated(services, community, incoming, lambda tx: set_thread_state(
        tx, community.id, obj, now, featured=added))


async def _remove_post(services: Services, incoming: Incoming, note_uri: str) -> bool:
    """A moderator takes a post out of its community: our copy of a remote post is tombstoned (a post of
    ours stays with its author, out of the community); False when the post is in no community of ours."""
    found = await _post_community(services, incoming.activity, note_uri)
    note = await get_note(services.db, note_uri)
    if found is None or note is None:
        return False
    community, _ = found

    async def remove(tx: Transaction) -> None:
        await forget_post(tx, community.id, note_uri)
        if not note.is_local:
            await tombstone(tx, note_uri, services.clock.time())

    await _moderated(services, community, incoming, remove, take_back=note_uri)
    if not note.is_local:
        publish_delete(services, note)
    return True


async def moderator_delete(services: Services, incoming: Incoming) -> bool:
    """A Delete of someone else's post by a moderator of its community: removed and announced (True);
    False for anything else, which the Delete handler treats as usual."""
    uri = object_uri(incoming.activity)
    note = await get_note(services.db, uri)
    if uri == incoming.actor_uri or note is None or note.author_uri == incoming.actor_uri:
        return False
    found = await _post_community(services, incoming.activity, uri)
    if found is None or not await is_moderator(services.db, found[0].id, incoming.actor_uri):
        return False
    return await _remove_post(services, incoming, uri)


async def announce_author_delete(services: Services, incoming: Incoming, uri: str) -> None:
    """After an author deleted a post of a community of ours: the community announces the Delete."""
    for post in await communities_of_post(services.db, uri):
        community = await get_actor_by_id(services.db, post.community_id)
        if community is None or community.removed_at is not None:
            continue
        fanout = await follower_fanout(services, community)
        async with services.db.transaction() as tx:
            await announce_tx(tx, services, community, incoming.activity, fanout.group_aware)
            await undo_boost_tx(tx, services, community, uri, fanout.others)
        kick_workers(services)
