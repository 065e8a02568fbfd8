"""Like and Announce of stored notes; a boosted note we lack is fetched from its origin, never taken embedded."""

from __future__ import annotations

import logging
from typing import Any

from fediverse_learn.converters import NOTE_TYPES
from fediverse_learn.events import publish_boost
from fediverse_learn.services import Services
from fediverse_learn.store.objects import StoredNote, get_note, is_tombstoned, pop_early_undo
from fediverse_learn.store.reactions import add_reaction
from fediverse_learn.vocab import has_type, id_of, same_origin
from inbox.handlers.common import (
    ResolvedNote,
    activity_id,
    author_on_origin,
    embedded_object,
    fetch_note,
    note_from_document,
    object_uri,
    store_new_note,
)
from inbox.handlers.notify import notify_author
from inbox.handlers.update import apply_edit
from inbox.incoming import Incoming

__all__ = ["handle_announce", "handle_like"]

log = logging.getLogger(__name__)

# Activities a community (FEP-1b12 Group) announces that carry a post we may store after fetching it.
_RELAYED_POSTS = ("Create", "Update")


async def handle_like(services: Services, incoming: Incoming) -> None:
    """Count a like of a note we have (ours or a known remote one); likes of unknown notes are ignored."""
    uri = object_uri(incoming.activity)
    like_id = activity_id(incoming)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if await pop_early_undo(tx, like_id, incoming.actor_uri):
            log.info("Like %s was undone before it arrived: dropped", like_id)
            return
        note = await get_note(tx, uri)
        if note is None or note.deleted_at is not None:
            log.info("Like of %s, which we do not have: ignored", uri)
            return
        await add_reaction(tx, "like", incoming.actor_uri, uri, like_id, now)
    await notify_author(services, note, "favourite", incoming.actor_uri, like_id)


async def handle_announce(services: Services, incoming: Incoming) -> None:
    """A boost of a note, or a community relaying a member's Create/Update (FEP-1b12)."""
    obj = embedded_object(incoming.activity)
    if obj is not None and has_type(obj, *_RELAYED_POSTS):
        await _relayed_post(services, obj)
        return
    uri = object_uri(incoming.activity)
    stored = await get_note(services.db, uri)
    resolved: ResolvedNote | None = None
    if stored is None:
        if services.uris.is_local(uri) or await is_tombstoned(services.db, uri):
            log.info("Announce of %s, which we do not have: ignored", uri)
            return
        resolved = await _boosted_note(services, incoming.actor_uri, uri, obj)
        if resolved is None:
            return
    announce_id = activity_id(incoming)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if await pop_early_undo(tx, announce_id, incoming.actor_uri):
            log.info("Announce %s was undone before it arrived: dropped", announce_id)
            return
        if resolved is not None:
            await store_new_note(tx, services, resolved, now)
            stored = await get_note(tx, uri)
        if stored is None or stored.deleted_at is not None or not _boostable(stored, incoming.actor_uri):
            log.info("Announce %s of %s, which may not be boosted: ignored", announce_id, uri)
            return
        added = await add_reaction(tx, "announce", incoming.actor_uri, uri, announce_id, now,
                                   status_id=services.ids.next(now))
    if added:
        publish_boost(services, announce_id)
    await notify_author(services, stored, "reblog", incoming.actor_uri, announce_id)


def _boostable(note: StoredNote, booster: str) -> bool:
    """Public and unlisted notes; followers-only ones by their own author only."""
    return note.visibility in ("public", "unlisted") or (note.visibility == "private" and note.author_uri == booster)


async def _boosted_note(services: Services, booster: str, uri: str, obj: dict[str, Any] | None) -> ResolvedNote | None:
    """The boosted note from its origin. An embedded copy counts only when the booster's own origin is the
    note's origin (SECURITY.md b.5.4); one attributed to anyone elsewhere is ignored and the id fetched."""
    if obj is not None and has_type(obj, *NOTE_TYPES) and same_origin(uri, booster):
        return await note_from_document(services, obj, author_on_origin(obj, uri))
    return await fetch_note(services, uri)


async def _relayed_post(services: Services, inner: dict[str, Any]) -> None:
    """A community's Announce(Create|Update): the inner activity is not signed by its actor, so only its
    object's id is used: the post is fetched from its origin, stored if new, or its edit applied."""
    uri = id_of(inner.get("object"))
    if uri is None or services.uris.is_local(uri) or await is_tombstoned(services.db, uri):
        return
    resolved = await fetch_note(services, uri)
    if resolved is None:
        return
    if await get_note(services.db, uri) is not None:
        await apply_edit(services, resolved)
        return
    async with services.db.transaction() as tx:
        await store_new_note(tx, services, resolved, services.clock.time())
