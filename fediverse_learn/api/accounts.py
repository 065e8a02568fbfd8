"""Accounts: the signed-in member (verify and update credentials), look-up, profiles, their statuses,
followers and following, follow/unfollow and relationships."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import Auth, authenticate, optional_auth
from fediverse_learn.api.errors import ApiError, api_view, json_response, not_found, unprocessable
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import Params, read_params
from fediverse_learn.api.present import Presenter, account_uri_by_id
from fediverse_learn.documents import to_ap_actor
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor_by_id
from fediverse_learn.store.api_accounts import ProfileEdit, follow_page, summary_source, update_profile
from fediverse_learn.store.api_statuses import account_page
from fediverse_learn.store.follows import get_follow, list_followers, set_follow_options
from fediverse_learn.store.notes_query import latest_activity
from fediverse_learn.store.remote import get_remote_actor_by_handle
from fediverse_learn.text import render_plain
from fediverse_learn.vocab import PUBLIC
from outbox.c2s import post_activity
from outbox.compose import new_activity_uri
from outbox.publish import publish

__all__ = ["account_routes"]

MAX_DISPLAY_NAME = 100
MAX_NOTE = 5000


async def _credential_account(services: Services, actor: LocalActor) -> dict[str, Any]:
    """The signed-in member's Account with its `source` (the plain profile text) and role."""
    account = await Presenter(services, actor).local_account(actor)
    pending = await list_followers(services.db, services.uris.actor(actor.name), state="pending", limit=1000)
    account["source"] = {"privacy": "public", "sensitive": False, "language": None,
                         "note": await summary_source(services.db, actor.id) or "", "fields": [],
                         "follow_requests_count": len(pending), "hide_collections": False,
                         "discoverable": actor.discoverable, "indexable": actor.indexable}
    account["role"] = {"id": "0", "name": actor.role, "permissions": "0", "color": "", "highlighted": False}
    return account


def _profile_edit(params: Params, uris_tag: Any) -> ProfileEdit:
    display_name = params.text("display_name")
    if display_name is not None and len(display_name) > MAX_DISPLAY_NAME:
        raise unprocessable(f"Display name is too long (maximum is {MAX_DISPLAY_NAME} characters)")
    note = params.text("note")
    if note is not None and len(note) > MAX_NOTE:
        raise unprocessable(f"Note is too long (maximum is {MAX_NOTE} characters)")
    html = render_plain(note, {}, uris_tag).html if note else ("" if note is not None else None)
    return ProfileEdit(
        display_name=display_name.strip() if display_name is not None else None, summary_html=html,
        summary_source=note,
        locked=params.flag("locked") if "locked" in params else None,
        discoverable=params.flag("discoverable") if "discoverable" in params else None,
        indexable=params.flag("indexable") if "indexable" in params else None,
    )


async def _update_credentials(services: Services, request: Request) -> Response:
    params = await read_params(request)
    auth = await authenticate(services, request, "write:accounts", params=params)
    edit = await asyncio.to_thread(_profile_edit, params, services.uris.tag)
    await update_profile(services.db, auth.member.id, edit)
    actor = await get_actor_by_id(services.db, auth.member.id)
    assert actor is not None
    update = {"@context": "https://www.w3.org/ns/activitystreams", "id": new_activity_uri(services, actor),
              "type": "Update", "actor": services.uris.actor(actor.name), "to": [PUBLIC],
              "cc": [services.uris.followers(actor.name)],
              "object": {k: v for k, v in to_ap_actor(actor, services.uris).items() if k != "@context"}}
    await publish(services, actor, update)
    return json_response(await _credential_account(services, actor))


async def _target(services: Services, presenter: Presenter, account_id: str) -> tuple[str, dict[str, Any]]:
    uri = await account_uri_by_id(services, account_id)
    account = await presenter.account(uri) if uri is not None else None
    if uri is None or account is None:
        raise not_found()
    return uri, account


async def _lookup(services: Services, request: Request) -> Response:
    auth = await optional_auth(services, request, "read:accounts")
    presenter = Presenter(services, auth.actor if auth else None)
    acct = (request.query_params.get("acct") or "").strip().lstrip("@")
    username, _, domain = acct.partition("@")
    if not username:
        raise not_found()
    if not domain or domain.lower() == services.uris.domain:
        uri: str | None = services.uris.actor(username.lower())
    else:
        remote = await get_remote_actor_by_handle(services.db, username, domain.lower())
        uri = remote.uri if remote is not None else None
    account = await presenter.account(uri) if uri is not None else None
    if account is None:
        raise not_found()
    return json_response(account)


async def _statuses(services: Services, request: Request, account_id: str) -> Response:
    params = await read_params(request)
    auth = await optional_auth(services, request, "read:statuses")
    presenter = Presenter(services, auth.actor if auth else None)
    uri, _ = await _target(services, presenter, account_id)
    page = page_of(params)
    if params.flag("only_media"):
        return json_response([])
    pinned_by = None
    if params.flag("pinned"):
        owner = await presenter.local_actor(uri)
        if owner is None:
            return json_response([])
        pinned_by = owner.id
    notes = await account_page(services.db, uri, presenter.viewer_uri, page,
                               exclude_replies=params.flag("exclude_replies"), tagged=params.text("tagged"),
                               pinned_by=pinned_by, exclude_reblogs=params.flag("exclude_reblogs"))
    statuses = await presenter.statuses(notes)
    return json_response(statuses, headers=link_header(request, services.uris.base, statuses, page))


async def _follows(services: Services, request: Request, account_id: str, which: str) -> Response:
    params = await read_params(request)
    auth = await optional_auth(services, request, "read:accounts")
    presenter = Presenter(services, auth.actor if auth else None)
    uri, _ = await _target(services, presenter, account_id)
    page = page_of(params, default=40, maximum=80)
    rows = await follow_page(services.db, followers_of=uri if which == "followers" else None,
                             following_of=uri if which == "following" else None, max_id=page.max_id,
                             since_id=page.since_id, min_id=page.min_id, limit=page.limit)
    accounts = [a for _, u in rows if (a := await presenter.account(u)) is not None]
    return json_response(accounts, headers=link_header(request, services.uris.base, [i for i, _ in rows], page))


async def _follow(services: Services, request: Request, account_id: str, undo: bool) -> Response:
    auth = await authenticate(services, request, "write:follows")
    actor = auth.member
    presenter = Presenter(services, actor)
    uri, account = await _target(services, presenter, account_id)
    if uri == presenter.viewer_uri:
        raise unprocessable("You cannot follow yourself")
    if undo:
        existing = await latest_activity(services.db, actor.id, "Follow", uri)
        if existing is not None:
            await post_activity(services, actor, {"type": "Undo", "object": existing.uri})
    else:
        params = await read_params(request)
        current = await get_follow(services.db, presenter.viewer_uri or "", uri)
        if current is None:
            await post_activity(services, actor, {"type": "Follow", "object": uri})
        await set_follow_options(services.db, presenter.viewer_uri or "", uri,
                                 notify=params.flag("notify") if "notify" in params else None,
                                 reblogs=params.flag("reblogs") if "reblogs" in params else None)
    relationship = await Presenter(services, actor).relationship(uri)
    if (not undo and relationship is not None and relationship["requested"] and not relationship["blocked_by"]
            and services.uris.is_local(uri) and not account.get("locked")):
        # an unlocked member here accepts at once: the worker takes the Follow from our inbox queue within
        # moments, so answer as Mastodon does for local accounts rather than with a passing `requested`
        relationship = {**relationship, "following": True, "requested": False}
    return json_response(relationship)


async def _relationships(services: Services, request: Request) -> Response:
    params = await read_params(request)
    auth = await authenticate(services, request, "read:follows", params=params)
    if not {"read", "read:follows"} & set(auth.token.scopes):   # Mastodon: not the `follow` scope
        raise ApiError(403, "This action is outside the authorized scopes")
    presenter = Presenter(services, auth.member)
    found = []
    for account_id in params.texts("id")[:100]:
        uri = await account_uri_by_id(services, account_id)
        relationship = await presenter.relationship(uri) if uri is not None else None
        if relationship is not None:
            found.append(relationship)
    return json_response(found)


async def _verify(services: Services, request: Request) -> Response:
    auth: Auth = await authenticate(services, request, ("read:accounts", "profile"))
    return json_response(await _credential_account(services, auth.member))


async def _show(services: Services, request: Request, account_id: str) -> Response:
    auth = await optional_auth(services, request, "read:accounts")
    _, account = await _target(services, Presenter(services, auth.actor if auth else None), account_id)
    return json_response(account)


def account_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def verify(request: Request) -> Response:
        return await _verify(services, request)

    @api_view
    async def update(request: Request) -> Response:
        return await _update_credentials(services, request)

    @api_view
    async def lookup(request: Request) -> Response:
        return await _lookup(services, request)

    @api_view
    async def relationships(request: Request) -> Response:
        return await _relationships(services, request)

    @api_view
    async def show(request: Request) -> Response:
        return await _show(services, request, request.path_params["id"])

    @api_view
    async def sub(request: Request) -> Response:
        account_id, name = request.path_params["id"], request.path_params["action"]
        if request.method == "GET" and name == "statuses":
            return await _statuses(services, request, account_id)
        if request.method == "GET" and name in ("followers", "following"):
            return await _follows(services, request, account_id, name)
        if request.method == "POST" and name in ("follow", "unfollow"):
            return await _follow(services, request, account_id, undo=name == "unfollow")
        raise not_found()

    return [
        Route("/api/v1/accounts/verify_credentials", verify, methods=["GET"]),
        Route("/api/v1/accounts/update_credentials", update, methods=["PATCH", "PUT", "POST"]),
        Route("/api/v1/accounts/lookup", lookup, methods=["GET"]),
        Route("/api/v1/accounts/relationships", relationships, methods=["GET"]),
        Route("/api/v1/accounts/{id}", show, methods=["GET"]),
        Route("/api/v1/accounts/{id}/{action}", sub, methods=["GET", "POST"]),
    ]

