"""Statuses: post (with Idempotency-Key), read, edit, delete, thread context, source, history, favourite, boost."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import Auth, authenticate, optional_auth
from fediverse_learn.api.entities import iso
from fediverse_learn.api.errors import ApiError, api_view, json_response, not_found, unprocessable
from fediverse_learn.api.params import Params, read_params
from fediverse_learn.api.present import Presenter
from fediverse_learn.events import publish_delete, publish_new, tell_of_edit
from fediverse_learn.services import Services
from fediverse_learn.store.api_statuses import (
    descendants,
    edits,
    finish_idempotency,
    release_idempotency,
    reserve_idempotency,
    save_edit,
    set_status_app,
)
from fediverse_learn.store.notes_query import get_activity, get_activity_by_id, latest_activity
from fediverse_learn.store.objects import StoredNote, get_note, get_note_by_id
from fediverse_learn.store.reactions import get_boost
from fediverse_learn.visibility import VISIBILITIES
from outbox.c2s import post_activity
from outbox.compose import MAX_SOURCE, delete_note, edit_note, publish_note

__all__ = ["status_routes"]

MAX_SPOILER = 5000
MAX_ANCESTORS = 40


async def visible_note(presenter: Presenter, status_id: str) -> StoredNote:
    """The note with this API id that the viewer may see; 404 otherwise (also for a hidden one)."""
    note = await get_note_by_id(presenter.services.db, int(status_id)) if status_id.isdigit() and \
        len(status_id) <= 19 else None
    if note is None or not await presenter.can_see(note):
        raise not_found()
    return note


async def _own_note(presenter: Presenter, auth: Auth, status_id: str) -> StoredNote:
    note = await visible_note(presenter, status_id)
    if note.local_actor_id != auth.member.id:
        raise not_found()
    return note


async def _entity(presenter: Presenter, note: StoredNote, **kw: Any) -> dict[str, Any]:
    status = await presenter.status(note, **kw)
    if status is None:
        raise not_found()
    return status


def _authored(params: Params) -> tuple[str, str | None, bool, str | None]:
    """(text, content warning, sensitive, language) of a status being posted or edited."""
    text = params.text("status") or ""
    if not text.strip():
        raise unprocessable("Text can't be blank")
    if len(text) > MAX_SOURCE:
        raise unprocessable(f"Text character limit of {MAX_SOURCE} exceeded")
    if params.texts("media_ids") or "poll" in params:
        raise unprocessable("Media attachments and polls are not supported here")
    spoiler = (params.text("spoiler_text") or "").strip()
    if len(spoiler) > MAX_SPOILER:
        raise unprocessable(f"Spoiler text character limit of {MAX_SPOILER} exceeded")
    language = params.text("language") or None
    if language is not None and (len(language) > 35 or not language.replace("-", "").isalnum()):
        raise unprocessable("Language is not a valid language tag")
    return text, spoiler or None, params.flag("sensitive"), language


async def _create(services: Services, request: Request) -> Response:
    params = await read_params(request)
    auth = await authenticate(services, request, "write:statuses", params=params)
    actor = auth.member
    presenter = Presenter(services, actor)
    text, spoiler, sensitive, language = _authored(params)
    visibility = params.text("visibility") or "public"
    if visibility not in VISIBILITIES:
        raise unprocessable(f"Visibility must be one of {', '.join(VISIBILITIES)}")
    parent_id = params.text("in_reply_to_id")
    parent = await visible_note(presenter, parent_id) if parent_id else None
    key = (request.headers.get("idempotency-key") or "").strip()[:200] or None
    if key is not None:
        fresh, done = await reserve_idempotency(services.db, actor.id, key, services.clock.time())
        if not fresh:
            earlier = await get_note_by_id(services.db, done) if done is not None else None
            if earlier is None:
                raise ApiError(422, "A request with this Idempotency-Key is still being processed")
            return json_response(await _entity(presenter, earlier))
    try:
        note = await publish_note(services, actor, source=text, media_type="text/plain", visibility=visibility,
                                  summary=spoiler, sensitive=sensitive, in_reply_to=parent.uri if parent else None,
                                  language=language)
    except BaseException:
        if key is not None:
            await release_idempotency(services.db, actor.id, key)
        raise
    await set_status_app(services.db, note.uri, auth.token.app_id)
    publish_new(services, note.uri)
    if key is not None:
        await finish_idempotency(services.db, actor.id, key, note.id)
    return json_response(await _entity(presenter, note))


async def _edit(services: Services, request: Request, status_id: str) -> Response:
    params = await read_params(request)
    auth = await authenticate(services, request, "write:statuses", params=params)
    presenter = Presenter(services, auth.member)
    note = await _own_note(presenter, auth, status_id)
    text, spoiler, sensitive, _ = _authored(params)
    edited = await edit_note(services, auth.member, note, source=text, media_type="text/plain",
                             summary=spoiler or "", sensitive=sensitive)
    await save_edit(services.db, note)   # the version replaced, once the edit is made
    update = await latest_activity(services.db, auth.member.id, "Update", edited.uri)
    await tell_of_edit(services, note, edited, update.uri if update is not None else None)
    return json_response(await _entity(presenter, edited))


async def _delete(services: Services, request: Request, status_id: str) -> Response:
    auth = await authenticate(services, request, "write:statuses")
    presenter = Presenter(services, auth.member)
    note = await _own_note(presenter, auth, status_id)
    status = await _entity(presenter, note, with_source=True)
    await delete_note(services, auth.member, note)
    publish_delete(services, note)
    return json_response(status)


async def _context(services: Services, request: Request, status_id: str) -> Response:
    auth = await optional_auth(services, request, "read:statuses")
    presenter = Presenter(services, auth.actor if auth else None)
    note = await visible_note(presenter, status_id)
    chain: list[StoredNote] = []
    parent_uri = note.in_reply_to_uri
    while parent_uri is not None and len(chain) < MAX_ANCESTORS:
        parent = await get_note(services.db, parent_uri)
        if parent is None:
            break
        chain.append(parent)
        parent_uri = parent.in_reply_to_uri
    return json_response({"ancestors": await presenter.statuses(chain[::-1]),
                          "descendants": await presenter.statuses(await descendants(services.db, note.uri))})


async def _history(services: Services, request: Request, status_id: str) -> Response:
    auth = await optional_auth(services, request, "read:statuses")
    presenter = Presenter(services, auth.actor if auth else None)
    note = await visible_note(presenter, status_id)
    account = (await _entity(presenter, note))["account"]
    versions = [(e.content_html, e.summary, e.sensitive, e.created_at) for e in await edits(services.db, note.uri)]
    versions.append((note.content_html, note.summary, note.sensitive, note.updated or note.published))
    return json_response([
        {"content": content, "spoiler_text": summary or "", "sensitive": sensitive, "created_at": iso(at),
         "account": account, "poll": None, "media_attachments": [], "emojis": []}
        for content, summary, sensitive, at in versions])


async def _source(services: Services, request: Request, status_id: str) -> Response:
    auth = await authenticate(services, request, "read:statuses")
    note = await visible_note(Presenter(services, auth.member), status_id)
    return json_response({"id": str(note.id), "text": note.source or "", "spoiler_text": note.summary or ""})


async def _react(services: Services, request: Request, status_id: str, kind: str, undo: bool) -> Response:
    scope = "write:favourites" if kind == "Like" else "write:statuses"
    auth = await authenticate(services, request, scope)
    actor = auth.member
    presenter = Presenter(services, actor)
    note = await visible_note(presenter, status_id)
    existing = await latest_activity(services.db, actor.id, kind, note.uri)
    if undo:
        if existing is not None:
            await post_activity(services, actor, {"type": "Undo", "object": existing.uri})
    elif existing is None:
        doc = await post_activity(services, actor, {"type": kind, "object": note.uri})
        existing = await get_activity(services.db, doc["id"])
    if kind == "Announce" and not undo and existing is not None:
        reblog = await Presenter(services, actor).reblog(existing)
        if reblog is not None:
            return json_response(reblog)
    return json_response(await _entity(Presenter(services, actor), note))


async def _show(services: Services, request: Request, status_id: str) -> Response:
    auth = await optional_auth(services, request, "read:statuses")
    presenter = Presenter(services, auth.actor if auth else None)
    if status_id.isdigit() and len(status_id) <= 19 and await get_note_by_id(services.db, int(status_id)) is None:
        reblog = await get_boost(services.db, int(status_id))    # a boost (ours or remote) has its own id
        shown = await presenter.boost(reblog) if reblog is not None else None
        if shown is not None:
            return json_response(shown)
        boost = await get_activity_by_id(services.db, int(status_id))
        if boost is not None and boost.type == "Announce":
            entity = await presenter.reblog(boost)
            if entity is not None:
                return json_response(entity)
    return json_response(await _entity(presenter, await visible_note(presenter, status_id)))


def status_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def create(request: Request) -> Response:
        return await _create(services, request)

    @api_view
    async def one(request: Request) -> Response:
        status_id = request.path_params["id"]
        if request.method == "DELETE":
            return await _delete(services, request, status_id)
        if request.method == "PUT":
            return await _edit(services, request, status_id)
        return await _show(services, request, status_id)

    @api_view
    async def action(request: Request) -> Response:
        status_id, name = request.path_params["id"], request.path_params["action"]
        if request.method == "GET":
            views = {"context": _context, "history": _history, "source": _source}
            if name not in views:
                raise not_found()
            return await views[name](services, request, status_id)
        reactions = {"favourite": ("Like", False), "unfavourite": ("Like", True),
                     "reblog": ("Announce", False), "unreblog": ("Announce", True)}
        if name not in reactions:
            raise not_found()
        return await _react(services, request, status_id, *reactions[name])

    return [
        Route("/api/v1/statuses", create, methods=["POST"]),
        Route("/api/v1/statuses/{id}", one, methods=["GET", "PUT", "DELETE"]),
        Route("/api/v1/statuses/{id}/{action}", action, methods=["GET", "POST"]),
    ]
