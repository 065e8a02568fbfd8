"""Telling members what happened: notifications (stored, then streamed) and the in-process publish/subscribe
of what the streaming API sends: new statuses, edits, deletions, notifications."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.blocks import block_between
from fediverse_learn.store.notifications import add_notification, boosters, mutes_notifications

if TYPE_CHECKING:
    from fediverse_learn.services import Services
    from fediverse_learn.store.objects import StoredNote

__all__ = [
    "Event",
    "EventBus",
    "event_bus",
    "mentioned_uris",
    "notify_member",
    "publish_boost",
    "publish_delete",
    "publish_edit",
    "publish_new",
    "tell_of_edit",
]

QUEUE_SIZE = 200


@dataclass(frozen=True)
class Event:
    # "note" (uri): a new status; "edit" (uri): an edited one; "boost" (activity_uri): a reblog; "delete" (id,
    # note: the StoredNote as it was before its deletion, to know whose streams had it); "notification"
    # (actor_id, id)
    kind: str
    data: dict[str, Any]


class EventBus:
    """Fan-out to every subscriber's bounded queue; a subscriber too slow to keep up loses events, never blocks."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()

    def publish(self, kind: str, **data: Any) -> None:
        event = Event(kind, data)
        for queue in list(self._queues):
            if not queue.full():
                queue.put_nowait(event)

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)


def event_bus(services: Services) -> EventBus:
    """The bus of one Services (one per running app)."""
    return services.events


def publish_new(services: Services, uri: str) -> None:
    """A new status was stored (streamed as `update`)."""
    services.events.publish("note", uri=uri)


def publish_edit(services: Services, uri: str) -> None:
    """A stored status was edited (streamed as `status.update`)."""
    services.events.publish("edit", uri=uri)


def publish_boost(services: Services, activity_uri: str) -> None:
    """A boost was recorded (streamed as `update` with the reblog to the home streams that show it)."""
    services.events.publish("boost", activity_uri=activity_uri)


def publish_delete(services: Services, note: StoredNote) -> None:
    """A status was deleted; `note` is how it was before (streamed as `delete` with its id)."""
    services.events.publish("delete", id=note.id, note=note)


async def notify_member(services: Services, member: LocalActor | None, type: str, from_uri: str,
                        object_uri: str | None = None, activity_uri: str | None = None) -> bool:
    """Notify a member (not a community, nor of their own doings, nor from an account blocked or muted), then
    stream it to them."""
    if member is None or member.kind != "person" or member.removed_at is not None:
        return False
    member_uri = services.uris.actor(member.name)
    now = services.clock.time()
    if member_uri == from_uri or await block_between(services.db, member_uri, from_uri) \
            or await mutes_notifications(services.db, member.id, from_uri, now):
        return False
    notification_id = services.ids.next(now)
    added = await add_notification(services.db, notification_id=notification_id, actor_id=member.id, type=type,
                                   from_uri=from_uri, object_uri=object_uri, activity_uri=activity_uri, now=now)
    if added:
        services.events.publish("notification", actor_id=member.id, id=notification_id)
    return added


async def _local_member(services: Services, uri: str) -> LocalActor | None:
    ref = services.uris.parse(uri)
    if ref is None or ref.collection is not None or ref.kind is not None:
        return None
    return await get_actor(services.db, ref.name)


def mentioned_uris(note: StoredNote) -> set[str]:
    """Who a note mentions (its Mention tags)."""
    return {str(t["href"]) for t in note.tags if t.get("type") == "Mention" and isinstance(t.get("href"), str)}


async def tell_of_edit(services: Services, before: StoredNote | None, after: StoredNote,
                       activity_uri: str | None = None) -> None:
    """After an edit (local or remote) is stored, as Mastodon's FanOutOnWriteService does with `update`: stream
    `status.update`, notify local members who boosted the note (`update`, replacing earlier ones), and local
    members the edit mentions for the first time (`mention`; those mentioned before were told already)."""
    publish_edit(services, after.uri)
    for booster in await boosters(services.db, after.uri):
        if services.uris.is_local(booster):
            await notify_member(services, await _local_member(services, booster), "update", after.author_uri,
                                after.uri, activity_uri)
    known = mentioned_uris(before) if before is not None else set()
    for href in sorted(mentioned_uris(after) - known):
        if services.uris.is_local(href):
            await notify_member(services, await _local_member(services, href), "mention", after.author_uri,
                                after.uri, activity_uri)
