"""Create(Note | Article | Page | Question): store a remote post once, on its author's origin only."""

from __future__ import annotations

import logging

from fediverse_learn.converters import NOTE_TYPES
from fediverse_learn.errors import ValidationError
from fediverse_learn.events import event_bus
from fediverse_learn.registrations import direct_message_refused, reply_accepted
from fediverse_learn.services import Services
from fediverse_learn.store.follows import notified_followers
from fediverse_learn.store.objects import StoredNote, get_note
from fediverse_learn.vocab import has_type, same_origin
from inbox.handlers.common import (
    activity_id,
    embedded_object,
    fetch_note,
    note_from_document,
    object_uri,
    store_new_note_alone,
)
from inbox.handlers.community import share_with_communities
from inbox.handlers.notify import notify_uri
from inbox.incoming import Incoming

__all__ = ["handle_create"]

log = logging.getLogger(__name__)


async def handle_create(services: Services, incoming: Incoming) -> None:
    """Store the created post. An embedded object is trusted only as far as `note_from_ap` allows (its id on
    the actor's origin, attributed to the actor); a bare id is fetched from the actor's origin."""
    activity = incoming.activity
    obj = embedded_object(activity)
    if obj is not None:
        if not has_type(obj, *NOTE_TYPES):
            log.info("Create %s of a %s: ignored", activity.get("id"), str(obj.get("type"))[:40])
            return
        resolved = await note_from_document(services, obj, incoming.actor_uri)
    else:
        uri = object_uri(activity)
        if not same_origin(uri, incoming.actor_uri):
            raise ValidationError(f"Create by {incoming.actor_uri} of {uri} on another origin")
        fetched = await fetch_note(services, uri, incoming.actor_uri)
        if fetched is None:
            return
        resolved = fetched
    note = resolved.note
    if resolved.visibility == "direct" and await direct_message_refused(services, incoming.actor_uri,
                                                                        (*note.to, *note.cc)):
        log.info("direct message %s from %s: nobody here accepts it; dropped", note.uri, incoming.actor_uri)
        return
    parent = await get_note(services.db, note.in_reply_to) if note.in_reply_to else None
    if parent is not None and not await reply_accepted(services, incoming.actor_uri, parent):
        log.info("reply %s from %s: its author does not accept it; dropped", note.uri, incoming.actor_uri)
        return
    now = services.clock.time()
    stored = await store_new_note_alone(services, resolved, now)
    if stored is not None:
        log.info("stored %s %s by %s", stored.type, stored.uri, stored.author_uri)
        event_bus(services).publish("note", uri=stored.uri)
    current = stored or await get_note(services.db, note.uri)   # ours is stored already: still notify
    if current is not None and current.deleted_at is None and current.author_uri == incoming.actor_uri:
        for href in {str(t["href"]) for t in current.tags if t.get("type") == "Mention" and t.get("href")}:
            await notify_uri(services, href, "mention", current.author_uri, current.uri, activity_id(incoming))
        if stored is not None or current.is_local:
            await _notify_subscribers(services, current, activity_id(incoming))
    await share_with_communities(services, incoming, resolved.note.uri)


async def _notify_subscribers(services: Services, note: StoredNote, activity_uri: str | None) -> None:
    """A `status` notification to each follower who asked for one (Mastodon's follow `notify`): for a new
    post or a reply to oneself, not for a direct message (its recipients have a mention)."""
    if note.visibility == "direct":
        return
    if note.in_reply_to_uri is not None:
        parent = await get_note(services.db, note.in_reply_to_uri)
        if parent is None or parent.author_uri != note.author_uri:
            return
    for follower in await notified_followers(services.db, note.author_uri):
        await notify_uri(services, follower, "status", note.author_uri, note.uri, activity_uri)
