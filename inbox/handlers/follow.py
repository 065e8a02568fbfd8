"""Follow of a local member (auto-Accept, or pending for manual approval); Accept/Reject of our Follows."""

from __future__ import annotations

import logging
from typing import Any

from fediverse_learn.services import Services
from fediverse_learn.store.blocks import block_between
from fediverse_learn.store.communities import is_banned
from fediverse_learn.store.db import Transaction
from fediverse_learn.store.follows import Follow, delete_follow, get_follow, set_follow
from fediverse_learn.store.objects import pop_early_undo
from fediverse_learn.vocab import has_type, http_url, id_of
from inbox.handlers.common import activity_id, embedded_object, local_actor, local_actor_name, object_uri
from inbox.handlers.community import in_scope
from inbox.handlers.notify import notify_member
from inbox.incoming import Incoming, Reject
from outbox.compose import accept_activity, reject_activity
from outbox.publish import kick_workers, publish_tx, resolve_audience

__all__ = ["handle_accept", "handle_follow", "handle_reject"]

log = logging.getLogger(__name__)


async def _inbox_of(services: Services, actor_uri: str) -> str:
    """Where the answer to a Follow goes: a remote actor's own inbox, or a local actor's personal inbox."""
    name = local_actor_name(services, actor_uri)
    if name is not None:
        return services.uris.inbox(name)
    return (await services.resolver.actor(actor_uri)).inbox


async def handle_follow(services: Services, incoming: Incoming) -> None:
    """Store the follow and answer it: Accept at once, or pending when the member approves followers by hand.
    A Follow of a removed member, between blocked actors, or of a community by an actor it banned or its
    scope (local, allowlist) leaves out, is answered with a Reject."""
    target_uri = object_uri(incoming.activity)
    member = await local_actor(services, target_uri, include_removed=True)
    if member is None:
        raise Reject(f"Follow of {target_uri}, which is none of our members or communities")
    follower = incoming.actor_uri
    inbox = await _inbox_of(services, follower)
    follow = incoming.activity
    refused = (member.removed_at is not None or await block_between(services.db, target_uri, follower)
               or await is_banned(services.db, member.id, follower, services.clock.time())
               or (member.kind == "group" and not await in_scope(services, member, follower)))
    manual = member.manually_approves_followers and not refused
    answer: dict[str, Any] | None = None
    if refused:
        answer = reject_activity(services, member, follow)
    elif not manual:
        answer = accept_activity(services, member, follow)
    audience = await resolve_audience(services, member, answer, [inbox]) if answer is not None else None
    follow_id = activity_id(incoming)
    now = services.clock.time()
    state = "rejected"
    async with services.db.transaction() as tx:
        if await pop_early_undo(tx, follow_id, follower):
            log.info("Follow %s was undone before it arrived: dropped", follow_id)
            return
        existing = await get_follow(tx, follower, target_uri)
        if refused:
            await delete_follow(tx, follower, target_uri)
        elif existing is not None and existing.activity_uri == follow_id and existing.state == "accepted":
            return  # this very Follow was handled already: answered once
        else:
            kept = existing is not None and existing.state == "accepted"
            state = "pending" if manual and not kept else "accepted"
            await set_follow(tx, follower, target_uri, state, follow_id, now)
        if answer is not None and audience is not None:
            await publish_tx(tx, services, member, answer, audience)
    if answer is not None:
        kick_workers(services)
    if state != "rejected":
        await notify_member(services, member, "follow_request" if state == "pending" else "follow", follower,
                            None, follow_id)
    log.info("Follow %s of %s by %s: %s", follow_id, member.name, follower,
             "rejected" if refused else "pending" if manual else "accepted")


async def _our_follow(tx: Transaction, services: Services, incoming: Incoming) -> Follow | None:
    """The Follow of ours an Accept/Reject answers: by the Follow's id (one of ours names its follower) or by
    (our follower in the embedded Follow, the answering actor). Only the followee may answer."""
    answerer = incoming.actor_uri
    obj = embedded_object(incoming.activity)
    if obj is not None and not has_type(obj, "Follow"):
        return None
    follow_id = object_uri(incoming.activity)
    follower = http_url(id_of(obj.get("actor"))) if obj is not None else None
    followee = id_of(obj.get("object")) if obj is not None else None
    if followee is not None and followee != answerer:
        raise Reject(f"{answerer} may not answer a Follow of {followee}")
    ref = services.uris.parse(follow_id)
    if ref is not None and ref.kind == "activities" and ref.collection is None:
        owner = services.uris.actor(ref.name)
        if follower is not None and follower != owner:
            raise Reject(f"Follow {follow_id} was sent by {owner}, not {follower}")
        follower = owner
    if follower is None or local_actor_name(services, follower) is None:
        return None
    return await get_follow(tx, follower, answerer)


async def handle_accept(services: Services, incoming: Incoming) -> None:
    """The followee accepted one of our Follows."""
    async with services.db.transaction() as tx:
        follow = await _our_follow(tx, services, incoming)
        if follow is None:
            log.info("Accept %s answers no Follow of ours: ignored", incoming.activity.get("id"))
            return
        if follow.state != "accepted":
            await set_follow(tx, follow.follower_uri, follow.followee_uri, "accepted", None,
                             services.clock.time())
    log.info("%s accepted %s", follow.followee_uri, follow.follower_uri)


async def handle_reject(services: Services, incoming: Incoming) -> None:
    """The followee refused one of our Follows, or removed one of ours from its followers."""
    async with services.db.transaction() as tx:
        follow = await _our_follow(tx, services, incoming)
        if follow is None:
            log.info("Reject %s answers no Follow of ours: ignored", incoming.activity.get("id"))
            return
        await delete_follow(tx, follow.follower_uri, follow.followee_uri)
    log.info("%s rejected %s", follow.followee_uri, follow.follower_uri)
