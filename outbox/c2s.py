"""ActivityPub client-to-server: a member POSTs activities to their outbox with a bearer token."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_learn.documents import NOTE_CONTEXT
from fediverse_learn.errors import DomainBlocked, FetchError, NotFound, ValidationError
from fediverse_learn.events import publish_boost, publish_delete, publish_new, tell_of_edit
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, lookup_token
from fediverse_learn.store.api_statuses import save_edit
from fediverse_learn.store.follows import delete_follow, get_follow, set_follow
from fediverse_learn.store.notes_query import get_activity, latest_activity, remove_activity
from fediverse_learn.store.notifications import withdraw_notifications
from fediverse_learn.store.objects import StoredNote, get_note
from fediverse_learn.store.reactions import add_reaction, remove_reaction_by_activity
from fediverse_learn.text import ResolvedMention
from fediverse_learn.visibility import visibility_of
from fediverse_learn.vocab import PUBLIC, addressees, as_list, has_type, http_url, id_of, text_of, types_of
from outbox.audience import actor_uri_of, personal_inbox, resolve_audience, without_private_fields
from outbox.compose import (
    actor_mention,
    announce_activity,
    delete_note,
    edit_note,
    follow_activity,
    like_activity,
    note_target,
    publish_note,
    undo_activity,
)
from outbox.publish import kick_workers, publish_tx

__all__ = ["Forbidden", "outbox_routes", "post_activity"]

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
AP_MEDIA_TYPE = "application/activity+json; charset=utf-8"
_LANGUAGE_MAX = 35


def _json(status: int, doc: dict[str, Any], media_type: str = "application/json",
          headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc), status_code=status, media_type=media_type, headers=headers)


def error_response(status: int, message: str) -> Response:
    return _json(status, {"error": message})


class Forbidden(Exception):
    """The member may not do this (another member's note, a token without the scope)."""


C2SHandler = Callable[[Services, LocalActor, dict[str, Any]], Awaitable[dict[str, Any]]]


def _language(obj: dict[str, Any]) -> str | None:
    content_map = obj.get("contentMap")
    if isinstance(content_map, dict):
        for key in content_map:
            if isinstance(key, str) and 0 < len(key) <= _LANGUAGE_MAX and key.replace("-", "").isalnum():
                return key
    return None


def _authored(obj: dict[str, Any]) -> tuple[str, str] | None:
    """(text, media type) of a note from a client: `source` (Markdown...) first, else HTML `content`."""
    source = obj.get("source")
    if isinstance(source, dict) and isinstance(source.get("content"), str):
        media_type = source.get("mediaType")
        return source["content"], media_type if isinstance(media_type, str) else "text/markdown"
    content = text_of(obj.get("content"), obj.get("contentMap"))
    return (content, "text/html") if content is not None else None


async def _explicit_mentions(services: Services, actor: LocalActor, addressed: set[str]) -> list[ResolvedMention]:
    found = []
    for uri in sorted(addressed - {PUBLIC, services.uris.followers(actor.name)}):
        mention = await actor_mention(services, uri)
        if mention is not None:
            found.append(mention)
    return found


async def _create(services: Services, actor: LocalActor, activity: dict[str, Any]) -> dict[str, Any]:
    obj = activity.get("object")
    if not isinstance(obj, dict) or not has_type(obj, "Note"):
        raise ValidationError("Create needs an embedded Note")
    if any(field in doc for doc in (activity, obj) for field in ("bto", "bcc")):
        raise ValidationError("bto and bcc are not supported on notes")
    authored = _authored(obj)
    if authored is None:
        raise ValidationError("a Note needs `content` or `source`")
    to = [a for doc in (activity, obj) for a in as_list(doc.get("to")) if isinstance(a, str)]
    cc = [a for doc in (activity, obj) for a in as_list(doc.get("cc")) if isinstance(a, str)]
    addressed = addressees(activity) | addressees(obj)
    visibility = visibility_of(to, cc, services.uris.followers(actor.name)) if addressed else "public"
    summary = obj.get("summary")
    note = await publish_note(
        services, actor, source=authored[0], media_type=authored[1], visibility=visibility,
        summary=summary.strip()[:5000] or None if isinstance(summary, str) else None,
        sensitive=obj.get("sensitive") is True, in_reply_to=id_of(obj.get("inReplyTo")), language=_language(obj),
        extra_mentions=await _explicit_mentions(services, actor, addressed),
    )
    publish_new(services, note.uri)
    return await _published(services, actor, "Create", note.uri)


async def _published(services: Services, actor: LocalActor, kind: str, object_uri: str) -> dict[str, Any]:
    stored = await latest_activity(services.db, actor.id, kind, object_uri)
    assert stored is not None
    return stored.document


async def _own_note(services: Services, actor: LocalActor, activity: dict[str, Any]) -> StoredNote:
    uri = id_of(activity.get("object"))
    note = await get_note(services.db, uri) if uri is not None else None
    if note is None or not note.is_local or note.deleted_at is not None:
        raise NotFound(f"no note {uri}")
    if note.local_actor_id != actor.id:
        raise Forbidden(f"{uri} is not yours")
    return note


async def _update(services: Services, actor: LocalActor, activity: dict[str, Any]) -> dict[str, Any]:
    before = note = await _own_note(services, actor, activity)
    obj = activity["object"] if isinstance(activity.get("object"), dict) else {}
    authored = _authored(obj)
    summary = obj.get("summary")
    sensitive = obj.get("sensitive")
    note = await edit_note(
        services, actor, note, source=authored[0] if authored else None,
        media_type=authored[1] if authored else "text/markdown",
        summary=(summary.strip()[:5000] if isinstance(summary, str) else "") if "summary" in obj else None,
        sensitive=sensitive if isinstance(sensitive, bool) else None,
    )
    await save_edit(services.db, before)   # the version replaced, for the status's history (once it is)
    update = await _published(services, actor, "Update", note.uri)
    await tell_of_edit(services, before, note, update["id"])
    return update


async def _delete(services: Services, actor: LocalActor, activity: dict[str, Any]) -> dict[str, Any]:
    note = await _own_note(services, actor, activity)
    deleted = await delete_note(services, actor, note)
    publish_delete(services, note)
    return deleted


async def _send(services: Services, actor: LocalActor, activity: dict[str, Any], inboxes: list[str],
                change: Callable[[Any], Awaitable[object]]) -> dict[str, Any]:
    """Resolve the audience, then in one transaction apply the local change and publish."""
    audience = await resolve_audience(services, actor, activity, inboxes)
    async with services.db.transaction() as tx:
        await change(tx)
        await publish_tx(tx, services, actor, activity, audience)
    kick_workers(services)
    return activity


async def _follow(services: Services, actor: LocalActor, activity: dict[str, Any]) -> dict[str, Any]:
    target = http_url(id_of(activity.get("object")))
    own = actor_uri_of(services.uris, actor)
    if target is None or target == own:
        raise ValidationError("Follow needs the uri of another actor")
    try:
        inbox = await personal_inbox(services, target)
    except (ValidationError, NotFound) as exc:
        raise ValidationError(f"cannot follow {target}: {exc}") from exc
    existing = await get_follow(services.db, own, target)
    state = "accepted" if existing is not None and existing.state == "accepted" else "pending"
    follow = follow_activity(services, actor, target)
    return await _send(services, actor, follow, [inbox], lambda tx: set_follow(
        tx, own, target, state, follow["id"], services.clock.time()))


async def _react(services: Services, actor: LocalActor, activity: dict[str, Any]) -> dict[str, Any]:
    kind = "Like" if has_type(activity, "Like") else "Announce"
    object_uri = http_url(id_of(activity.get("object")))
    if object_uri is None:
        raise ValidationError(f"{kind} needs the uri of a note")
    existing = await latest_activity(services.db, actor.id, kind, object_uri)
    if existing is not None:
        return existing.document
    target = await note_target(services, object_uri)
    own = actor_uri_of(services.uris, actor)
    if kind == "Announce":
        if target.visibility not in ("public", "unlisted"):
            raise Forbidden("only public and unlisted notes can be boosted")
        doc, inboxes = announce_activity(services, actor, target.uri, target.author_uri), []
    else:
        doc, inboxes = like_activity(services, actor, target.uri), [await personal_inbox(services, target.author_uri)]
    ref = services.uris.parse(doc["id"])   # our boost's API status id is its activity's (as publish_tx stores it)
    status_id = ref.object_id if kind == "Announce" and ref is not None else None
    sent = await _send(services, actor, doc, inboxes, lambda tx: add_reaction(
        tx, kind.lower(), own, target.uri, doc["id"], services.clock.time(), status_id=status_id))
    if kind == "Announce":
        publish_boost(services, doc["id"])
    return sent


async def _undo(services: Services, actor: LocalActor, activity: dict[str, Any]) -> dict[str, Any]:
    uri = id_of(activity.get("object"))
    original = await get_activity(services.db, uri) if uri is not None else None
    if original is None or original.actor_id != actor.id:
        raise NotFound(f"no activity {uri} of yours")
    if original.type not in ("Follow", "Like", "Announce") or original.object_uri is None:
        raise ValidationError(f"{original.type} cannot be undone")
    own = actor_uri_of(services.uris, actor)
    target = original.object_uri
    inboxes: list[str] = []
    try:
        if original.type == "Follow":
            inboxes = [await personal_inbox(services, target)]
        elif original.type == "Like":
            inboxes = [await personal_inbox(services, (await note_target(services, target)).author_uri)]
    except (FetchError, ValidationError, DomainBlocked) as exc:   # undone here even if they cannot be told
        log.info("undo of %s: its target's inbox is unknown (%s)", original.uri, exc)
    undo = undo_activity(services, actor, original.document)

    async def change(tx: Any) -> None:
        if original.type == "Follow":
            await delete_follow(tx, own, target)
        else:
            await remove_reaction_by_activity(tx, original.uri, own)
        await remove_activity(tx, original.uri, actor.id)
        # what it told a member here goes too (Mastodon's notifications go with their activity)
        await withdraw_notifications(tx, own, original.uri, type=_NOTIFIED.get(original.type), object_uri=target)

    return await _send(services, actor, undo, inboxes, change)


_NOTIFIED = {"Like": "favourite", "Announce": "reblog"}

HANDLERS: dict[str, C2SHandler] = {
    "Create": _create, "Update": _update, "Delete": _delete, "Follow": _follow, "Undo": _undo,
    "Like": _react, "Announce": _react,
}


async def post_activity(services: Services, actor: LocalActor, doc: dict[str, Any]) -> dict[str, Any]:
    """Carry out what a client posted; returns our activity (ids are ours, the client's are ignored)."""
    if has_type(doc, "Note"):
        doc = {"type": "Create", "to": doc.get("to"), "cc": doc.get("cc"), "object": doc}
    handler = next((HANDLERS[t] for t in types_of(doc) if t in HANDLERS), None)
    if handler is None:
        raise ValidationError(f"unsupported activity type {'/'.join(types_of(doc)) or '(none)'}")
    return without_private_fields(await handler(services, actor, doc))


async def _authorize(services: Services, request: Request) -> LocalActor | Response:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = await lookup_token(services.db, token.strip()) if scheme.lower() == "bearer" and token else None
    if found is None:
        response = error_response(401, "a valid bearer token is required")
        response.headers["www-authenticate"] = 'Bearer error="invalid_token"'
        return response
    actor, scopes = found
    if actor.name != request.path_params["name"] or "write" not in scopes:
        return error_response(403, "this token may not post to this outbox")
    return actor


def outbox_routes(services: Services) -> list[Route]:
    async def post_outbox(request: Request) -> Response:
        actor = await _authorize(services, request)
        if isinstance(actor, Response):
            return actor
        body = await request.body()
        if len(body) > MAX_BODY:
            return error_response(413, "body too large")
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return error_response(400, "body is not JSON")
        if not isinstance(doc, dict):
            return error_response(400, "body is not a JSON object")
        try:
            activity = await post_activity(services, actor, doc)
        except Forbidden as exc:
            return error_response(403, str(exc))
        except FetchError as exc:   # a remote server we needed (the followee, a note's author) failed
            return error_response(502, str(exc))
        activity.setdefault("@context", NOTE_CONTEXT)
        return _json(201, activity, AP_MEDIA_TYPE, {"Location": activity["id"]})

    return [Route("/users/{name}/outbox", post_outbox, methods=["POST"])]
