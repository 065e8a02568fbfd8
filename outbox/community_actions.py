"""What our members do as moderators of a local community: approve joins, ban, remove, lock, pin.

Join requests of an approval community are answered by the community itself (Accept or Reject). The other
actions are activities by the moderator (Block, Delete, Lock, Add/Remove, Undo) addressed to the community;
they reach it through the local inbox and take the same checked path as a remote moderator's
(`inbox.handlers.community_moderation`), which applies and announces them.
"""

from __future__ import annotations

from typing import Any

from fediverse_learn.documents import AS_CONTEXT
from fediverse_learn.errors import NotFound, ValidationError
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.communities import is_moderator
from fediverse_learn.store.follows import delete_follow, get_follow, set_follow
from fediverse_learn.store.notes_query import latest_activity
from outbox.audience import personal_inbox, resolve_audience
from outbox.compose import accept_activity, new_activity_uri, reject_activity, undo_activity
from outbox.publish import kick_workers, publish, publish_tx

__all__ = [
    "NotModerator",
    "answer_join",
    "ban",
    "feature_thread",
    "lock_thread",
    "remove_post",
    "unban",
]


class NotModerator(ValidationError):
    """The member is not a moderator of the community."""


async def _check(services: Services, community: LocalActor, moderator: LocalActor | None) -> None:
    """The community is one, and `moderator` one of its moderators (None: the instance admin, at the CLI)."""
    if community.kind != "group":
        raise ValidationError(f"{community.name} is not a community")
    if moderator is not None and not await is_moderator(services.db, community.id, services.uris.actor(moderator.name)):
        raise NotModerator(f"{moderator.name} is not a moderator of {community.name}")


async def answer_join(services: Services, community: LocalActor, moderator: LocalActor | None, follower_uri: str,
                      *, accept: bool) -> dict[str, Any]:
    """A moderator (or, with None, the instance admin) accepts or refuses a pending join request; the
    community answers the Follow."""
    await _check(services, community, moderator)
    community_uri = services.uris.actor(community.name)
    follow = await get_follow(services.db, follower_uri, community_uri)
    if follow is None or follow.state != "pending":
        raise NotFound(f"no pending request of {follower_uri} to join {community.name}")
    request = {"id": follow.activity_uri, "type": "Follow", "actor": follower_uri, "object": community_uri}
    answer = (accept_activity if accept else reject_activity)(services, community, request)
    audience = await resolve_audience(services, community, answer, [await personal_inbox(services, follower_uri)])
    async with services.db.transaction() as tx:
        if accept:
            await set_follow(tx, follower_uri, community_uri, "accepted", None, services.clock.time())
        else:
            await delete_follow(tx, follower_uri, community_uri)
        await publish_tx(tx, services, community, answer, audience)
    kick_workers(services)
    return answer


def _moderation(services: Services, moderator: LocalActor, community: LocalActor, kind: str, obj: Any,
                **extra: Any) -> dict[str, Any]:
    community_uri = services.uris.actor(community.name)
    return {"@context": AS_CONTEXT, "id": new_activity_uri(services, moderator), "type": kind,
            "actor": services.uris.actor(moderator.name), "object": obj, "to": [community_uri],
            "audience": community_uri, **{k: v for k, v in extra.items() if v is not None}}


async def _send(services: Services, moderator: LocalActor, activity: dict[str, Any]) -> dict[str, Any]:
    await publish(services, moderator, activity)
    return activity


async def ban(services: Services, moderator: LocalActor, community: LocalActor, actor_uri: str,
              reason: str | None = None) -> dict[str, Any]:
    """Block with the community as `target`: the actor's posts are refused and their membership ends."""
    await _check(services, community, moderator)
    return await _send(services, moderator, _moderation(
        services, moderator, community, "Block", actor_uri, target=services.uris.actor(community.name),
        summary=reason))


async def unban(services: Services, moderator: LocalActor, community: LocalActor, actor_uri: str) -> dict[str, Any]:
    """Undo of the moderator's last ban of the actor (or of a fresh one with the same meaning)."""
    await _check(services, community, moderator)
    stored = await latest_activity(services.db, moderator.id, "Block", actor_uri)
    block = stored.document if stored is not None else _moderation(
        services, moderator, community, "Block", actor_uri, target=services.uris.actor(community.name))
    undo = undo_activity(services, moderator, block)
    undo.update({"to": [services.uris.actor(community.name)], "audience": services.uris.actor(community.name)})
    return await _send(services, moderator, undo)


async def remove_post(services: Services, moderator: LocalActor, community: LocalActor, note_uri: str,
                      reason: str | None = None) -> dict[str, Any]:
    """Delete by a moderator (as Lemmy sends it): the post leaves the community, which announces it."""
    await _check(services, community, moderator)
    return await _send(services, moderator, _moderation(services, moderator, community, "Delete", note_uri,
                                                        summary=reason))


async def lock_thread(services: Services, moderator: LocalActor, community: LocalActor, note_uri: str, *,
                      locked: bool = True) -> dict[str, Any]:
    """Lock (no more replies but from moderators) or unlock the thread of a post."""
    await _check(services, community, moderator)
    lock = _moderation(services, moderator, community, "Lock", note_uri)
    if locked:
        return await _send(services, moderator, lock)
    undo = undo_activity(services, moderator, lock)
    undo.update({"to": lock["to"], "audience": lock["audience"]})
    return await _send(services, moderator, undo)


async def feature_thread(services: Services, moderator: LocalActor, community: LocalActor, note_uri: str, *,
                         featured: bool = True) -> dict[str, Any]:
    """Pin (Add) or unpin (Remove) a thread in the community's `featured` collection."""
    await _check(services, community, moderator)
    return await _send(services, moderator, _moderation(
        services, moderator, community, "Add" if featured else "Remove", note_uri,
        target=services.uris.featured(community.name)))
