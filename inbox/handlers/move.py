"""Move of a remote account: recorded; our members' follows move to the target if it names the old account."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fediverse_learn.errors import ValidationError
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.follows import delete_follow, get_follow, list_followers, set_follow
from fediverse_learn.store.moves import record_move
from fediverse_learn.vocab import http_url, id_of
from inbox.handlers.common import local_actor, object_uri
from inbox.incoming import Incoming, Reject
from outbox.compose import follow_activity
from outbox.publish import Audience, kick_workers, publish_tx, resolve_audience

__all__ = ["handle_move"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Refollow:
    member: LocalActor
    follow: dict[str, Any]
    audience: Audience


async def handle_move(services: Services, incoming: Incoming) -> None:
    """Only an actor may move itself, and only to an account whose freshly fetched `alsoKnownAs` names it
    (the consent comes from the target's own document). Our members following the old account then follow
    the target: their follows are rewritten as pending and a Follow is sent."""
    old = incoming.actor_uri
    if object_uri(incoming.activity) != old:
        raise Reject(f"{old} may only move itself")
    target_uri = http_url(id_of(incoming.activity.get("target")))
    if target_uri is None:
        raise ValidationError("Move without an http(s) target")
    if target_uri == old or services.uris.is_local(target_uri):
        raise Reject(f"Move of {old} to {target_uri} is not supported")
    target = await services.resolver.actor(target_uri, refresh=True)
    accepted = old in target.also_known_as
    plans = await _refollows(services, old, target.uri, target.inbox) if accepted else []
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if not await record_move(tx, old, target.uri, accepted, now):
            return   # processed before
        for plan in plans:
            member_uri = services.uris.actor(plan.member.name)
            if not await delete_follow(tx, member_uri, old):
                continue
            if await get_follow(tx, member_uri, target.uri) is None:
                await set_follow(tx, member_uri, target.uri, "pending", plan.follow["id"], now)
                await publish_tx(tx, services, plan.member, plan.follow, plan.audience)
    if plans:
        kick_workers(services)
    log.info("%s moved to %s: %s, %d follows moved", old, target.uri,
             "accepted" if accepted else "refused (not in alsoKnownAs)", len(plans))


async def _refollows(services: Services, old: str, target_uri: str, inbox: str) -> list[_Refollow]:
    """A Follow of the target, with its audience, for each of our members following the old account."""
    plans: list[_Refollow] = []
    for state in ("accepted", "pending"):
        for follower in await list_followers(services.db, old, state):
            member = await local_actor(services, follower)
            if member is None:
                continue
            follow = follow_activity(services, member, target_uri)
            plans.append(_Refollow(member, follow, await resolve_audience(services, member, follow, [inbox])))
    return plans
