"""Note routes: notes (AS2 or HTML), their replies/likes/shares, our activities, the outbox and featured."""

from __future__ import annotations

from functools import partial
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from fediverse_learn.documents import AS_CONTEXT, NOTE_CONTEXT, format_datetime, to_ap_ordered_collection
from fediverse_learn.documents_note import (
    REPLIES_PAGE_SIZE,
    to_ap_collection_page,
    to_ap_count_collection,
    to_ap_note,
    to_ap_ordered_page,
    to_ap_tombstone,
)
from fediverse_learn.errors import DomainBlocked, KeyFetchUnavailable, SignatureError
from fediverse_learn.sanitize import sanitize_html
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor, lookup_token
from fediverse_learn.store.communities import featured_uris
from fediverse_learn.store.follows import get_follow
from fediverse_learn.store.notes_query import (
    StoredActivity,
    count_outbox,
    get_activity_by_id,
    note_stats,
    outbox_page,
    reply_page,
)
from fediverse_learn.store.objects import StoredNote, get_note, get_note_by_id
from fediverse_learn.store.reactions import count_reactions
from fediverse_learn.visibility import may_see
from fediverse_learn.vocab import as_list, ids_of
from fediverse_learn.web.auth import signed_by
from fediverse_learn.web.pages import page
from fediverse_learn.web.responses import ActivityJSONResponse, error_response, wants_activitypub

__all__ = ["OUTBOX_PAGE_SIZE", "note_page_html", "note_routes"]

OUTBOX_PAGE_SIZE = 20


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    return int(value) if value is not None and value.isdigit() and len(value) <= 19 else None


def _addressed(doc_or_note: dict[str, Any] | StoredNote) -> list[str]:
    """Everyone a note or activity names: to, cc and Mention tags (and an activity's object actor)."""
    if isinstance(doc_or_note, StoredNote):
        tags = [t.get("href") for t in doc_or_note.tags if t.get("type") == "Mention"]
        return [*doc_or_note.to, *doc_or_note.cc, *(t for t in tags if isinstance(t, str))]
    doc = doc_or_note
    obj = doc.get("object")
    involved = [*ids_of(doc.get("to")), *ids_of(doc.get("cc")), *ids_of(as_list(obj)[:1])]
    if isinstance(obj, dict) and isinstance(obj.get("actor"), str):
        involved.append(obj["actor"])
    return involved


def note_page_html(note: StoredNote, author: LocalActor, services: Services) -> str:
    """A plain page for one public note: everything escaped but the (sanitised) content."""
    uris = services.uris
    handle = escape(f"@{uris.handle(author.name)}")
    name = escape(author.display_name or author.name)
    content = sanitize_html(note.content_html)
    if note.summary:
        content = f"<details><summary>{escape(note.summary)}</summary>{content}</details>"
    reply = ""
    if note.in_reply_to_uri:
        reply = f'<p>In reply to <a href="{escape(note.in_reply_to_uri, quote=True)}">a note</a></p>'
    when = format_datetime(note.published)
    profile = escape(uris.profile_page(author.name), quote=True)
    body = (
        f'<article class="h-entry"><header><a class="p-author h-card" href="{profile}">'
        f'{name}</a> <span class="handle">{handle}</span></header>{reply}'
        f'<div class="e-content"{_lang(note)}>{content}</div>'
        f'<footer><a class="u-url" href="{escape(note.url or note.uri, quote=True)}">'
        f'<time class="dt-published" datetime="{when}">{when}</time></a></footer></article>'
    )
    return page(f"{author.display_name or author.name}: note", body, alternate=note.uri)


def _lang(note: StoredNote) -> str:
    return f' lang="{escape(note.language, quote=True)}"' if note.language else ""


class _NoteViews:
    """The handlers, sharing the services and the access rules."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.uris = services.uris

    async def viewer_of(self, request: Request, author: LocalActor) -> str | None:
        """Who asks: the author with their own bearer token, else the verified signer; None if anonymous.
        A bad signature counts as anonymous (no 401 that would reveal the note exists)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            found = await lookup_token(self.services.db, token.strip())
            return self.uris.actor(found[0].name) if found is not None and found[0].id == author.id else None
        try:
            return await signed_by(self.services, request)
        except KeyFetchUnavailable:
            raise
        except (SignatureError, DomainBlocked):
            return None

    async def may_view(self, request: Request, author: LocalActor, visibility: str, addressed: list[str]) -> bool:
        if visibility in ("public", "unlisted"):
            return True
        viewer = await self.viewer_of(request, author)
        author_uri = self.uris.actor(author.name)
        follow = await get_follow(self.services.db, viewer, author_uri) if viewer and visibility == "private" else None
        follows = follow is not None and follow.state == "accepted"
        return may_see(visibility, viewer, author_uri, addressed, follows_author=follows)

    async def find_note(self, request: Request) -> tuple[LocalActor, StoredNote] | None:
        """The author and note a URL names, if it exists and the requester may know of it."""
        author = await get_actor(self.services.db, request.path_params["name"])
        note = await get_note_by_id(self.services.db, request.path_params["id"]) if author is not None else None
        if author is None or note is None or note.local_actor_id != author.id:
            return None
        if note.uri != self.uris.note(author.name, note.id):
            return None
        if not await self.may_view(request, author, note.visibility, _addressed(note)):
            return None
        return author, note

    async def note_document(self, author: LocalActor, note: StoredNote, *, with_context: bool = True) -> dict[str, Any]:
        stats = await note_stats(self.services.db, note.uri, REPLIES_PAGE_SIZE)
        return to_ap_note(note, author.name, self.uris, stats, with_context=with_context)

    async def show_note(self, request: Request) -> Response:
        activitypub = wants_activitypub(request)  # both URLs negotiate, as Mastodon's do
        found = await self.find_note(request)
        if found is None:
            return _not_found(activitypub)
        author, note = found
        if note.deleted_at is not None:
            if activitypub:
                return ActivityJSONResponse(to_ap_tombstone(note.uri), status_code=410)
            return HTMLResponse(page("Gone", "<h1>This note was deleted</h1>"), status_code=410)
        if activitypub:
            return ActivityJSONResponse(await self.note_document(author, note))
        if note.visibility not in ("public", "unlisted"):
            return _not_found(False)
        return HTMLResponse(note_page_html(note, author, self.services), headers={"Vary": "Accept"})

    async def replies(self, request: Request) -> Response:
        found = await self.find_note(request)
        if found is None or found[1].deleted_at is not None:
            return error_response(404, "not found")
        author, note = found
        collection = self.uris.note_collection(author.name, note.id, "replies")
        min_id = _int_param(request, "min_id")
        items = await reply_page(self.services.db, note.uri, min_id, REPLIES_PAGE_SIZE + 1)
        next_page = (
            self.uris.collection_page(collection, min_id=items[REPLIES_PAGE_SIZE - 1][0])
            if len(items) > REPLIES_PAGE_SIZE
            else None
        )
        uris_only = [uri for _, uri in items[:REPLIES_PAGE_SIZE]]
        if request.query_params.get("page") == "true":
            page_id = self.uris.collection_page(collection, **({"min_id": min_id} if min_id is not None else {}))
            return ActivityJSONResponse(
                {"@context": AS_CONTEXT, **to_ap_collection_page(collection, page_id, uris_only, next_page)}
            )
        first = to_ap_collection_page(collection, None, uris_only, next_page)
        return ActivityJSONResponse({"@context": AS_CONTEXT, "id": collection, "type": "Collection", "first": first})

    async def reactions(self, request: Request) -> Response:
        found = await self.find_note(request)
        if found is None or found[1].deleted_at is not None:
            return error_response(404, "not found")
        author, note = found
        kind = "likes" if request.url.path.endswith("/likes") else "shares"
        total = await count_reactions(self.services.db, note.uri, "like" if kind == "likes" else "announce")
        doc = to_ap_count_collection(self.uris.note_collection(author.name, note.id, kind), total)
        return ActivityJSONResponse({"@context": AS_CONTEXT, **doc})

    async def activity_document(
        self, author: LocalActor, stored: StoredActivity, with_context: bool = True
    ) -> dict[str, Any] | None:
        """A stored activity as served: a Create or Update carries its note as it is now; None if that note
        was deleted."""
        doc = dict(stored.document)
        if stored.type in ("Create", "Update") and isinstance(doc.get("object"), dict) and stored.object_uri:
            note = await get_note(self.services.db, stored.object_uri)
            if note is None or note.deleted_at is not None:
                return None
            doc["object"] = await self.note_document(author, note, with_context=False)
        if not with_context:
            doc.pop("@context", None)
        return doc

    async def show_activity(self, request: Request) -> Response:
        author = await get_actor(self.services.db, request.path_params["name"])
        stored = await get_activity_by_id(self.services.db, request.path_params["id"])
        if author is None or stored is None or stored.actor_id != author.id:
            return error_response(404, "not found")
        visibility = "public" if stored.public else "direct"
        if not stored.public and self.uris.followers(author.name) in _addressed(stored.document):
            visibility = "private"
        if not await self.may_view(request, author, visibility, _addressed(stored.document)):
            return error_response(404, "not found")
        doc = await self.activity_document(author, stored)
        if doc is None:
            return ActivityJSONResponse(to_ap_tombstone(stored.uri), status_code=410)
        return ActivityJSONResponse(doc)

    async def outbox(self, request: Request) -> Response:
        author = await get_actor(self.services.db, request.path_params["name"])
        if author is None or author.is_instance:
            return error_response(404, "not found")
        collection = self.uris.outbox(author.name)
        if request.query_params.get("page") != "true":
            doc = to_ap_ordered_collection(
                collection, await count_outbox(self.services.db, author.id), self.uris.collection_page(collection)
            )
            doc["last"] = self.uris.collection_page(collection, min_id=0)
            return ActivityJSONResponse(doc)
        max_id, min_id = _int_param(request, "max_id"), _int_param(request, "min_id")
        rows = await outbox_page(self.services.db, author.id, max_id=max_id, min_id=min_id, limit=OUTBOX_PAGE_SIZE)
        items = [item for row in rows if (item := await self.activity_document(author, row, False)) is not None]
        params: dict[str, str | int] = {k: v for k, v in (("max_id", max_id), ("min_id", min_id)) if v is not None}
        page_id = self.uris.collection_page(collection, **params)
        link = partial(self.uris.collection_page, collection)
        next_page = link(max_id=rows[-1].id) if len(rows) == OUTBOX_PAGE_SIZE else None
        prev_page = link(min_id=rows[0].id) if rows else None
        return ActivityJSONResponse(to_ap_ordered_page(collection, page_id, items, next_page, prev_page))

    async def featured(self, request: Request) -> Response:
        author = await get_actor(self.services.db, request.path_params["name"])
        if author is None or author.is_instance:
            return error_response(404, "not found")
        items = await featured_uris(self.services.db, author.id) if author.kind == "group" else []
        return ActivityJSONResponse(
            {
                "@context": NOTE_CONTEXT,
                "id": self.uris.featured(author.name),
                "type": "OrderedCollection",
                "totalItems": len(items),
                "orderedItems": items,
            }
        )


def note_routes(services: Services) -> list[Route]:
    views = _NoteViews(services)
    return [
        Route("/users/{name}/statuses/{id:int}", views.show_note),
        Route("/@{name}/{id:int}", views.show_note),
        Route("/users/{name}/statuses/{id:int}/replies", views.replies),
        Route("/users/{name}/statuses/{id:int}/likes", views.reactions),
        Route("/users/{name}/statuses/{id:int}/shares", views.reactions),
        Route("/users/{name}/activities/{id:int}", views.show_activity),
        Route("/users/{name}/outbox", views.outbox, methods=["GET"]),
        Route("/users/{name}/featured", views.featured),
    ]


def _not_found(activitypub: bool) -> Response:
    if activitypub:
        return error_response(404, "not found")
    return HTMLResponse(page("Not found", "<h1>Not found</h1>"), status_code=404)
