"""Hooks of the handlers that notify local members of what happened to them (the rules are in
`fediverse_learn.events.notify_member`; the rows in store/notifications.py)."""

from __future__ import annotations

from fediverse_learn.events import notify_member
from fediverse_learn.services import Services
from fediverse_learn.store.actors import get_actor_by_id
from fediverse_learn.store.objects import StoredNote
from inbox.handlers.common import local_actor

__all__ = ["notify_author", "notify_member", "notify_uri"]


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
