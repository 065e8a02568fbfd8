"""Delete: posts by their stored owner (early ones remembered), and actors by themselves."""

from __future__ import annotations

import logging

from fediverse_learn.events import publish_delete
from fediverse_learn.services import Services
from fediverse_learn.store.departures import recent_notes_of, remove_traces_of
from fediverse_learn.store.objects import get_note, is_tombstoned, record_early_undo, tombstone
from fediverse_learn.store.remote import mark_gone
from fediverse_learn.vocab import same_origin
from inbox.handlers.common import object_uri
from inbox.handlers.community_moderation import announce_author_delete, moderator_delete
from inbox.incoming import Incoming, Reject

__all__ = ["handle_delete"]

log = logging.getLogger(__name__)


async def handle_delete(services: Services, incoming: Incoming) -> None:
    """Delete of an object (embedded, Tombstone or bare id) or of the actor itself."""
    uri = object_uri(incoming.activity)
    if uri == incoming.actor_uri:
        await _delete_actor(services, uri)
        return
    if await moderator_delete(services, incoming):   # a community moderator removing someone else's post
        return
    if not same_origin(uri, incoming.actor_uri):
        raise Reject(f"{incoming.actor_uri} may not delete {uri}, which is on another origin")
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if await is_tombstoned(tx, uri):
            return
        stored = await get_note(tx, uri)
        if stored is None:
            # Not seen yet: remember it, so that a Create arriving late is dropped (SECURITY.md c.4).
            await record_early_undo(tx, uri, incoming.actor_uri, now)
            await tombstone(tx, uri, now)
            log.info("Delete of %s before its Create: tombstoned", uri)
            return
        if stored.author_uri != incoming.actor_uri:
            raise Reject(f"{incoming.actor_uri} may not delete {uri}, which belongs to {stored.author_uri}")
        await tombstone(tx, uri, now)
    log.info("deleted %s", uri)
    publish_delete(services, stored)
    await announce_author_delete(services, incoming, uri)


async def _delete_actor(services: Services, uri: str) -> None:
    """The actor deleted itself: forget its follows and reactions, tombstone its posts, mark it gone."""
    now = services.clock.time()
    shown = await recent_notes_of(services.db, uri)
    async with services.db.transaction() as tx:
        gone = await remove_traces_of(tx, uri, now)
    await mark_gone(services.db, uri, now)
    for note in shown:   # clients drop them from their timelines, as after each Delete
        publish_delete(services, note)
    log.info("actor %s deleted: %d follows, %d reactions, %d notes removed", uri, gone.follows,
             gone.reactions, gone.notes)
