"""What several handlers share: reading the activity's object, local actors, fetching and storing notes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fediverse_learn.converters import NOTE_TYPES, RemoteNote, note_from_ap
from fediverse_learn.errors import ValidationError
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.db import Transaction
from fediverse_learn.store.objects import (
    StoredNote,
    get_note,
    insert_new_note,
    is_tombstoned,
    pop_early_undo,
    save_note,
)
from fediverse_learn.visibility import visibility_of
from fediverse_learn.vocab import as_list, has_type, http_url, id_of, ids_of, same_origin
from inbox.incoming import Incoming

__all__ = [
    "ResolvedNote",
    "activity_id",
    "author_on_origin",
    "embedded_object",
    "fetch_note",
    "local_actor",
    "local_actor_name",
    "note_from_document",
    "object_uri",
    "store_new_note",
    "store_new_note_alone",
    "stored_note",
]

log = logging.getLogger(__name__)


def activity_id(incoming: Incoming) -> str:
    """The activity's id (the endpoint has checked it is a string)."""
    ident = id_of(incoming.activity.get("id"))
    if ident is None:
        raise ValidationError("activity has no id")
    return ident


def object_uri(activity: Mapping[str, Any]) -> str:
    """The http(s) id of the activity's `object`, whether a bare reference or embedded; else ValidationError."""
    uri = http_url(id_of(activity.get("object")))
    if uri is None:
        raise ValidationError(f"{str(activity.get('type'))[:40]} without an http(s) object id")
    return uri


def embedded_object(activity: Mapping[str, Any]) -> dict[str, Any] | None:
    """The activity's object when it is embedded (not a bare id)."""
    obj = activity.get("object")
    return obj if isinstance(obj, dict) else None


def local_actor_name(services: Services, uri: str) -> str | None:
    """The name of the local actor a URL names (the actor itself, not a collection or object), else None."""
    ref = services.uris.parse(uri)
    if ref is None or ref.collection is not None or ref.kind is not None:
        return None
    return ref.name


async def local_actor(services: Services, uri: str, *, include_removed: bool = False) -> LocalActor | None:
    """The local member or community a URL names; None for remote URLs, unknown names, the instance actor."""
    name = local_actor_name(services, uri)
    if name is None:
        return None
    actor = await get_actor(services.db, name, include_removed=include_removed)
    return None if actor is None or actor.is_instance else actor


@dataclass(frozen=True)
class ResolvedNote:
    """A remote note checked against its author's origin, with the visibility its addressing means."""

    note: RemoteNote
    visibility: str


async def note_from_document(services: Services, doc: Mapping[str, Any], author_uri: str) -> ResolvedNote:
    """Convert a note document `author_uri` created (origin and attribution enforced by `note_from_ap`)."""
    note = note_from_ap(doc, author_uri)
    name = local_actor_name(services, author_uri)
    if name is not None:   # our own note, delivered to a local recipient: never fetch ourselves over HTTP
        followers: str | None = services.uris.followers(name)
    else:
        followers = (await services.resolver.actor(author_uri)).followers
    return ResolvedNote(note, visibility_of(note.to, note.cc, followers))


def author_on_origin(doc: Mapping[str, Any], origin_url: str) -> str:
    """The author an object names on its own origin: several actors may be named (Lemmy: person and
    community), an author elsewhere never is. ValidationError if there is none."""
    for author in ids_of(as_list(doc.get("attributedTo"))[:10]):
        if same_origin(author, origin_url):
            return author
    raise ValidationError(f"{origin_url} is attributed to no actor on its origin")


async def fetch_note(services: Services, uri: str, author_uri: str | None = None) -> ResolvedNote | None:
    """Fetch a note from its origin; None if the document there is not a note.

    It must be attributed to `author_uri` when given, else to an actor on its own origin."""
    fetched = await services.resolver.fetch(uri)
    doc = fetched.document
    if not has_type(doc, *NOTE_TYPES):
        log.info("%s is not a note (type %s): not stored", uri, str(doc.get("type"))[:40])
        return None
    return await note_from_document(services, doc, author_uri or author_on_origin(doc, fetched.url))


def stored_note(note: RemoteNote, *, note_id: int, visibility: str, now: float) -> StoredNote:
    """The row we keep for a remote note."""
    tags: list[dict[str, Any]] = [{"type": "Hashtag", "name": f"#{name}"} for name in note.hashtags]
    tags += [{"type": "Mention", "href": href} for href in note.mentions]
    return StoredNote(
        id=note_id, uri=note.uri, local_actor_id=None, author_uri=note.attributed_to, type=note.type,
        visibility=visibility, content_html=note.content_html, source=None, source_type=None,
        summary=note.summary, name=note.name, sensitive=note.sensitive, language=note.language, url=note.url,
        in_reply_to_uri=note.in_reply_to, context_uri=note.context, audience_uri=note.audience,
        to=note.to, cc=note.cc, tags=tuple(tags),
        published=note.published.timestamp() if note.published is not None else now,
        updated=note.updated.timestamp() if note.updated is not None else None, deleted_at=None,
    )


async def store_new_note(tx: Transaction, services: Services, resolved: ResolvedNote, now: float) -> StoredNote | None:
    """Insert a note not seen before; None (nothing written) if it is tombstoned, was deleted early, or exists.

    A Create of an existing uri changes nothing, whoever sends it (GHSA-xjvf-fm67-4qc3): edits are Updates."""
    note = resolved.note
    if await is_tombstoned(tx, note.uri):
        log.info("%s is tombstoned: dropped", note.uri)
        return None
    if await pop_early_undo(tx, note.uri, note.attributed_to):
        log.info("%s was deleted before it arrived: dropped", note.uri)
        return None
    existing = await get_note(tx, note.uri)
    if existing is not None:
        return None
    row = stored_note(note, note_id=services.ids.next(now), visibility=resolved.visibility, now=now)
    await save_note(tx, row)
    return row


async def store_new_note_alone(services: Services, resolved: ResolvedNote, now: float) -> StoredNote | None:
    """`store_new_note` in its own transaction. The usual case, a new note, is one statement (one call on the
    writer's thread); only when that wrote nothing do the checks run one by one, to drop an early-deleted
    note's marker and log why."""
    row = stored_note(resolved.note, note_id=services.ids.next(now), visibility=resolved.visibility, now=now)
    if await insert_new_note(services.db, row):
        return row
    async with services.db.transaction() as tx:
        return await store_new_note(tx, services, resolved, now)
