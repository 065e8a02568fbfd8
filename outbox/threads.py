"""The thread fields of a note we author: `audience` (its community, FEP-1b12) and `context` (FEP-7888)."""

from __future__ import annotations

from dataclasses import replace

from fediverse_learn.communities import local_names, thread_context_uri
from fediverse_learn.services import Services
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.objects import StoredNote, get_note
from fediverse_learn.store.remote import get_remote_actor

__all__ = ["community_addressed", "with_thread"]


async def community_addressed(services: Services, note: StoredNote) -> str | None:
    """The first community a note addresses or mentions: one of ours, or a remote `Group` we know."""
    mentions = [str(t["href"]) for t in note.tags if t.get("type") == "Mention" and isinstance(t.get("href"), str)]
    for uri in dict.fromkeys([*note.to, *note.cc, *mentions]):
        if services.uris.is_local(uri):
            names = local_names(services.uris, [uri])
            actor = await get_actor(services.db, names[0]) if names else None
            if actor is not None and actor.kind == "group":
                return uri
            continue
        cached = await get_remote_actor(services.db, uri)   # mentions were resolved: no fetch needed
        if cached is not None and cached[0].type == "Group":
            return uri
    return None


async def with_thread(services: Services, note: StoredNote) -> StoredNote:
    """`note` (ours, not yet stored) with its thread fields: a reply takes its parent's `audience` and
    `context`; a thread's top-level post takes the community it addresses and its own `context` collection."""
    parent = await get_note(services.db, note.in_reply_to_uri) if note.in_reply_to_uri is not None else None
    audience = parent.audience_uri if parent is not None else None
    context = parent.context_uri if parent is not None else None
    if audience is None:
        audience = await community_addressed(services, note)
    if context is None and note.in_reply_to_uri is None:
        ref = services.uris.parse(note.author_uri)
        if ref is not None:
            context = thread_context_uri(services.uris, ref.name, note.id)
    return replace(note, audience_uri=note.audience_uri or audience, context_uri=note.context_uri or context)
