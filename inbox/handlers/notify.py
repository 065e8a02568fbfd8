"""Hooks of the handlers that notify local members of what happened to them (see store/notifications.py)."""

from __future__ import annotations

from fediverse_learn.events import event_bus
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor_by_id
from fediverse_learn.store.blocks import block_between
from fediverse_learn.store.notifications import add_notification, boosters, mutes_notifications
from fediverse_learn.store.objects import StoredNote
from inbox.handlers.common import local_actor

__all__ = ["notify_author", "notify_boosters", "notify_member", "notify_uri"]


async def notify_member(services: Services, member: LocalActor | None, type: str, from_uri: str,
                        object_uri: str | None = None, activity_uri: str | None = None) -> bool:
    """Notify a member (not a community, nor of their own doings, nor from an account blocked or muted)."""
    if member is None or member.kind != "person" or member.removed_at is not None:
        return False
    member_uri = services.uris.actor(member.name)
    if member_uri == from_uri or await block_between(services.db, member_uri, from_uri) \
            or await mutes_notifications(services.db, member.id, from_uri, services.clock.time()):
        return False
    now = services.clock.time()
    notification_id = services.ids.next(now)
    added = await add_notification(services.db, notification_id=notification_id, actor_id=member.id, type=type,
                                   from_uri=from_uri, object_uri=object_uri, activity_uri=activity_uri, now=now)
    if added:
        event_bus(services).publish("notification", actor_id=member.id, id=notification_id)
    return added


async def notify_uri(services: Services, member_uri: str, type: str, from_uri: str, object_uri: str | None = None,
                     activity_uri: str | None = None) -> bool:
    """Notify the local member a URL names, if it names one."""
    return await notify_member(services, await local_actor(services, member_uri), type, from_uri, object_uri,
                               activity_uri)


async def notify_author(services: Services, note: StoredNote, type: str, from_uri: str,
                        activity_uri: str | None = None) -> bool:
    """Notify the local author of a note (favourite, reblog)."""
    if note.local_actor_id is None:
        return False
    return await notify_member(services, await get_actor_by_id(services.db, note.local_actor_id), type, from_uri,
                               note.uri, activity_uri)


async def notify_boosters(services: Services, note_uri: str, author_uri: str) -> None:
    """Tell local members who boosted a note that its author edited it."""
    for booster in await boosters(services.db, note_uri):
        if services.uris.is_local(booster):
            await notify_uri(services, booster, "update", author_uri, note_uri)
