"""Update: edits of stored posts by their owner (newer `updated` only), and profile refreshes of the actor."""

from __future__ import annotations

import logging

from fediverse_learn.converters import ACTOR_TYPES, NOTE_TYPES
from fediverse_learn.events import tell_of_edit
from fediverse_learn.services import Services
from fediverse_learn.store.api_statuses import save_edit
from fediverse_learn.store.objects import StoredNote, get_note, is_tombstoned, save_note
from fediverse_learn.vocab import has_type
from inbox.handlers.common import (
    ResolvedNote,
    activity_id,
    embedded_object,
    fetch_note,
    note_from_document,
    object_uri,
    stored_note,
)
from inbox.handlers.community import relay_to_communities
from inbox.incoming import Incoming, Reject

__all__ = ["apply_edit", "handle_update", "handle_update_actor", "handle_update_note"]

log = logging.getLogger(__name__)

_PUBLISHED_SLACK = 1.0   # seconds: servers round `published` differently between renderings


async def handle_update(services: Services, incoming: Incoming) -> None:
    """An Update whose object is a bare id (or of a type the table does not name): an actor or a note."""
    uri = object_uri(incoming.activity)
    obj = embedded_object(incoming.activity)
    if uri == incoming.actor_uri or has_type(obj, *ACTOR_TYPES):
        await handle_update_actor(services, incoming)
    elif obj is None or has_type(obj, *NOTE_TYPES):
        await handle_update_note(services, incoming)
    else:
        log.info("Update %s of a %s: ignored", incoming.activity.get("id"), str(obj.get("type"))[:40])


async def handle_update_actor(services: Services, incoming: Incoming) -> None:
    """Refresh the actor's profile from its origin; the embedded copy is never stored as such."""
    uri = object_uri(incoming.activity)
    if uri != incoming.actor_uri:
        raise Reject(f"{incoming.actor_uri} may not update the profile of {uri}")
    actor = await services.resolver.actor(uri, refresh=True)
    log.info("refreshed profile of %s", actor.uri)


async def handle_update_note(services: Services, incoming: Incoming) -> None:
    """Apply an edit: only the stored owner, only with a newer `updated`, and `published` may not change."""
    uri = object_uri(incoming.activity)
    stored = await get_note(services.db, uri)
    if stored is None or stored.deleted_at is not None:
        log.info("Update of %s, which we do not have: ignored", uri)
        return
    if stored.author_uri != incoming.actor_uri:
        raise Reject(f"{incoming.actor_uri} may not update {uri}, which belongs to {stored.author_uri}")
    obj = embedded_object(incoming.activity)
    resolved: ResolvedNote | None
    if obj is not None:
        resolved = await note_from_document(services, obj, incoming.actor_uri)
    else:
        resolved = await fetch_note(services, uri, incoming.actor_uri)
    if resolved is not None and await apply_edit(services, resolved, activity_id(incoming)):
        await relay_to_communities(services, incoming, uri)


def _significant(before: StoredNote, after: StoredNote) -> bool:
    """Whether an edit changed what readers see (Mastodon's `significant_changes?`): only those are told."""
    return any(getattr(before, f) != getattr(after, f) for f in ("content_html", "summary", "sensitive", "language",
                                                                  "name"))


async def apply_edit(services: Services, resolved: ResolvedNote, activity_uri: str | None = None) -> bool:
    """Store a newer version of a note its author edited; False if stale, not an edit, or not stored.
    A significant edit is streamed and told to local boosters (and to members it newly mentions)."""
    note = resolved.note
    if note.updated is None:
        log.info("Update of %s without `updated`: not an edit, ignored", note.uri)
        return False
    edited_at = note.updated.timestamp()
    now = services.clock.time()
    async with services.db.transaction() as tx:
        current = await get_note(tx, note.uri)
        if current is None or current.deleted_at is not None or await is_tombstoned(tx, note.uri):
            return False
        if current.author_uri != note.attributed_to:
            raise Reject(f"{note.attributed_to} may not update {note.uri}, which belongs to {current.author_uri}")
        if note.published is not None and abs(note.published.timestamp() - current.published) > _PUBLISHED_SLACK:
            raise Reject(f"Update of {note.uri} changes its published time")
        if current.updated is not None and edited_at <= current.updated:
            log.info("Update of %s is not newer than the stored version: ignored", note.uri)
            return False
        edited = stored_note(note, note_id=current.id, visibility=current.visibility, now=now)
        if _significant(current, edited):
            await save_edit(tx, current)    # the version replaced, for the status's history
        await save_note(tx, edited)
    log.info("applied edit of %s", note.uri)
    if _significant(current, edited):
        await tell_of_edit(services, current, edited, activity_uri)
    return True
