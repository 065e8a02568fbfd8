"""Search v2: accounts, statuses and hashtags we store; `resolve` looks up handles (WebFinger) and URLs."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import optional_auth
from fediverse_learn.api.errors import ApiError, api_view, json_response, unprocessable
from fediverse_learn.api.params import read_params
from fediverse_learn.api.present import Presenter
from fediverse_learn.converters import ACTOR_TYPES, NOTE_TYPES
from fediverse_learn.errors import DomainBlocked, FetchError, IdMismatch, NotFound, ValidationError
from fediverse_learn.http import FetchedDocument
from fediverse_learn.services import Services
from fediverse_learn.store.api_search import search_accounts, search_hashtags, search_statuses
from fediverse_learn.store.objects import get_note
from fediverse_learn.store.remote import get_remote_actor_by_handle
from fediverse_learn.vocab import has_type, http_url
from inbox.handlers.common import author_on_origin, note_from_document, store_new_note

__all__ = ["search_routes", "tag_entity"]

log = logging.getLogger(__name__)

_HANDLE = re.compile(r"^@?([^@\s/]+)@([^@\s/]+)$")
_TYPES = ("accounts", "statuses", "hashtags")
_UNRESOLVED = (DomainBlocked, FetchError, NotFound, ValidationError)


def tag_entity(services: Services, name: str) -> dict[str, Any]:
    return {"name": name, "url": services.uris.tag(name), "history": []}


async def _fetch_named(services: Services, url: str) -> FetchedDocument:
    """The document a URL names. A page URL (Mastodon's `/@user/1`, what people paste) may answer with the
    object under its canonical id: then that id is fetched, checked, from its own origin, as Mastodon does."""
    try:
        return await services.resolver.fetch(url)
    except IdMismatch:
        # the URL's host passed the domain policy already (resolver.fetch checks before fetching)
        loose = await services.http.fetch_activitypub(url, services.signer_for(services.instance), exact_id=False)
        claimed = http_url(loose.document.get("id"))
        if claimed is None or claimed == loose.url:
            raise
        return await services.resolver.fetch(claimed)


async def _resolve_url(services: Services, presenter: Presenter, url: str) -> tuple[str | None, Any]:
    """(actor uri, note) a URL names: stored already, or fetched (signed) and stored; (None, None) if neither."""
    note = await get_note(services.db, url)
    if note is not None:
        return None, note
    if services.uris.is_local(url):
        return (url, None) if await presenter.account(url) is not None else (None, None)
    fetched = await _fetch_named(services, url)
    if fetched.url != url and (note := await get_note(services.db, fetched.url)) is not None:
        return None, note
    doc = fetched.document
    if has_type(doc, *ACTOR_TYPES):
        return (await services.resolver.actor(fetched.url)).uri, None
    if not has_type(doc, *NOTE_TYPES):
        return None, None
    resolved = await note_from_document(services, doc, author_on_origin(doc, fetched.url))
    await services.resolver.actor(resolved.note.attributed_to)   # the author, for the Status' account
    async with services.db.transaction() as tx:
        await store_new_note(tx, services, resolved, services.clock.time())
    return None, await get_note(services.db, resolved.note.uri)


async def _accounts(services: Services, presenter: Presenter, q: str, limit: int,
                    offset: int) -> list[dict[str, Any]]:
    """A full handle: that account if we know it; else accounts whose username or display name starts with q."""
    text = q.strip().lstrip("@")
    username, _, domain = text.partition("@")
    if domain:
        if offset:
            return []
        if domain.lower() == services.uris.domain:
            uri: str | None = services.uris.actor(username.lower())
        else:
            remote = await get_remote_actor_by_handle(services.db, username, domain.lower())
            uri = remote.uri if remote is not None else None
        account = await presenter.account(uri) if uri is not None else None
        return [account] if account is not None else []
    found = []
    for name, remote_uri in await search_accounts(services.db, username, limit, offset):
        account = await presenter.account(remote_uri or services.uris.actor(str(name)))
        if account is not None:
            found.append(account)
    return found


async def _search(services: Services, request: Request) -> Response:
    params = await read_params(request)
    auth = await optional_auth(services, request, "read:search", params)
    presenter = Presenter(services, auth.actor if auth else None)
    q = (params.text("q") or "").strip()
    kind = params.text("type")
    if kind is not None and kind not in _TYPES:
        raise unprocessable(f"type must be one of {', '.join(_TYPES)}")
    limit = max(1, min(params.number("limit") or 20, 40))
    offset = max(0, params.number("offset") or 0)
    result: dict[str, list[dict[str, Any]]] = {"accounts": [], "statuses": [], "hashtags": []}
    if not q:
        return json_response(result)
    if auth is None and (params.flag("resolve") or offset):
        raise ApiError(401, "Search queries that resolve remote resources or page are only for signed-in users")
    resolve = params.flag("resolve") and auth is not None and auth.actor is not None
    url, handle = http_url(q), _HANDLE.match(q)
    if handle is not None and handle.group(2).lower() == services.uris.domain:
        resolve = False   # our own member or community: nothing to look up, `_accounts` knows them
    if resolve and (url or handle) and offset == 0:
        try:
            if url is not None:
                actor_uri, note = await _resolve_url(services, presenter, url)
            else:
                actor_uri, note = (await services.resolver.actor_by_handle(q.lstrip("@"))).uri, None
        except _UNRESOLVED as exc:
            log.info("search: %s not resolved: %s", q, exc)
            actor_uri, note = None, None
        account = await presenter.account(actor_uri) if actor_uri is not None else None
        if account is not None and kind in (None, "accounts"):
            result["accounts"].append(account)
        if note is not None and kind in (None, "statuses") and await presenter.can_see(note):
            result["statuses"] += await presenter.statuses([note])
        return json_response(result)
    if url is not None:
        return json_response(result)
    if kind in (None, "accounts"):
        result["accounts"] = await _accounts(services, presenter, q, limit, offset)
    if kind in (None, "statuses") and not handle:
        result["statuses"] = await presenter.statuses(await search_statuses(services.db, q, limit, offset))
    if kind in (None, "hashtags") and not handle:
        names = await search_hashtags(services.db, q, limit, offset)
        result["hashtags"] = [tag_entity(services, n) for n in names]
    return json_response(result)


def search_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def search(request: Request) -> Response:
        return await _search(services, request)

    return [Route("/api/v2/search", search, methods=["GET"])]
