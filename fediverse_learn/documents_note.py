"""The AS2 documents of local notes, shaped exactly like Mastodon's statuses: Note, Tombstone, collections."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from fediverse_learn.documents import AS_CONTEXT, NOTE_CONTEXT, format_datetime
from fediverse_learn.store.objects import StoredNote
from fediverse_learn.uris import Uris

__all__ = [
    "REPLIES_PAGE_SIZE",
    "NoteStats",
    "to_ap_collection_page",
    "to_ap_count_collection",
    "to_ap_note",
    "to_ap_ordered_page",
    "to_ap_tombstone",
]


REPLIES_PAGE_SIZE = 20    # reply uris per page, the first page embedded in the note


@dataclass(frozen=True)
class NoteStats:
    """What a note's document says about its reactions and replies (read from the store by the caller)."""

    likes: int = 0
    shares: int = 0
    replies: tuple[str, ...] = ()  # the first page of reply uris, oldest first
    replies_after: int | None = None  # the min_id of the next replies page; None when there is none


def to_ap_count_collection(collection_id: str, total: int) -> dict[str, Any]:
    """A `likes`/`shares` collection as Mastodon publishes it: a count, no items."""
    return {"id": collection_id, "type": "Collection", "totalItems": total}


def to_ap_collection_page(
    collection_id: str, page_id: str | None, items: list[Any], next_page: str | None
) -> dict[str, Any]:
    """A CollectionPage of a `replies` collection (no `id` when embedded as `first`, as Mastodon does)."""
    page: dict[str, Any] = {"type": "CollectionPage"}
    if page_id is not None:
        page["id"] = page_id
    if next_page is not None:
        page["next"] = next_page
    page["partOf"] = collection_id
    page["items"] = items
    return page


def to_ap_ordered_page(
    collection_id: str, page_id: str, items: list[Any], next_page: str | None, prev_page: str | None
) -> dict[str, Any]:
    """An OrderedCollectionPage (outbox pages), with @context: it is served on its own."""
    page: dict[str, Any] = {"@context": AS_CONTEXT, "id": page_id, "type": "OrderedCollectionPage"}
    if next_page is not None:
        page["next"] = next_page
    if prev_page is not None:
        page["prev"] = prev_page
    page["partOf"] = collection_id
    page["orderedItems"] = items
    return page


def _replies(replies_id: str, uris: Uris, stats: NoteStats) -> dict[str, Any]:
    next_page = None
    if stats.replies_after is not None:
        next_page = uris.collection_page(replies_id, min_id=stats.replies_after)
    return {
        "id": replies_id,
        "type": "Collection",
        "first": to_ap_collection_page(replies_id, None, list(stats.replies), next_page),
    }


def to_ap_note(
    note: StoredNote, author_name: str, uris: Uris, stats: NoteStats | None = None, *, with_context: bool = True
) -> dict[str, Any]:
    """A local note as a Mastodon-shaped Note; `with_context=False` for one embedded in an activity."""
    stats = stats or NoteStats()
    doc: dict[str, Any] = {"@context": NOTE_CONTEXT} if with_context else {}
    doc.update(
        {
            "id": note.uri,
            "type": note.type,
            "summary": note.summary or None,
            "inReplyTo": note.in_reply_to_uri,
            "published": format_datetime(note.published),
            "url": note.url or uris.note_page(author_name, note.id),
            "attributedTo": note.author_uri,
            "to": list(note.to),
            "cc": list(note.cc),
            "sensitive": note.sensitive,
            "atomUri": note.uri,
            "inReplyToAtomUri": note.in_reply_to_uri,
            "content": note.content_html,
        }
    )
    if note.audience_uri:
        doc["audience"] = note.audience_uri       # the community (FEP-1b12)
    if note.context_uri:
        doc["context"] = note.context_uri         # the thread (FEP-7888), a collection of its posts (FEP-f228)
    if note.language:
        doc["contentMap"] = {note.language: note.content_html}
    if note.updated is not None:
        doc["updated"] = format_datetime(note.updated)
    if note.source is not None and note.source_type:
        doc["source"] = {"content": note.source, "mediaType": note.source_type}
    doc["attachment"] = []
    doc["tag"] = [dict(t) for t in note.tags]
    collection = partial(uris.note_collection, author_name, note.id)
    doc["replies"] = _replies(collection("replies"), uris, stats)
    doc["likes"] = to_ap_count_collection(collection("likes"), stats.likes)
    doc["shares"] = to_ap_count_collection(collection("shares"), stats.shares)
    return doc


def to_ap_tombstone(uri: str, *, with_context: bool = True) -> dict[str, Any]:
    """A deleted note, as the object of a Delete (Mastodon's shape) or the body of a 410."""
    doc: dict[str, Any] = {"@context": NOTE_CONTEXT} if with_context else {}
    doc.update({"id": uri, "type": "Tombstone", "atomUri": uri})
    return doc
