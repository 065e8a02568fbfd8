"""Blocks and mutes: accounts/:id/block, unblock, mute, unmute; the lists GET /api/v1/blocks and /mutes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import Auth, authenticate
from fediverse_learn.api.errors import api_view, json_response, not_found, unprocessable
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import read_params
from fediverse_learn.api.present import Presenter, account_uri_by_id
from fediverse_learn.documents import AS_CONTEXT
from fediverse_learn.errors import DomainBlocked, FetchError, ValidationError
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.api_social import add_mute, block_page, mute_page, remove_mute
from fediverse_learn.store.blocks import add_block, remove_block
from fediverse_learn.store.db import Database
from fediverse_learn.store.follows import delete_follow
from fediverse_learn.store.notes_query import latest_activity, remove_activity
from outbox.compose import new_activity_uri, undo_activity
from outbox.publish import kick_workers, publish_tx, resolve_audience

__all__ = ["block_routes"]


async def _inbox_of(services: Services, actor_uri: str) -> str | None:
    """A local actor's personal inbox, or a remote actor's inbox (None if it cannot be found now)."""
    ref = services.uris.parse(actor_uri)
    if ref is not None and ref.collection is None and ref.kind is None:
        return services.uris.inbox(ref.name)
    try:
        return (await services.resolver.actor(actor_uri)).inbox
    except (FetchError, ValidationError, DomainBlocked):
        return None


async def _target(services: Services, auth: Auth, account_id: str) -> tuple[Presenter, str]:
    presenter = Presenter(services, auth.member)
    uri = await account_uri_by_id(services, account_id)
    if uri is None or await presenter.account(uri) is None:
        raise not_found()
    if uri == presenter.viewer_uri:
        raise unprocessable("You cannot do this to yourself")
    return presenter, uri


async def _send(services: Services, actor: LocalActor, doc: dict[str, Any], target: str, change: Any) -> None:
    """Publish `doc` to the target's inbox with `change(tx)` in the same transaction (network first)."""
    inbox = await _inbox_of(services, target)
    audience = await resolve_audience(services, actor, doc, [inbox] if inbox else [])
    async with services.db.transaction() as tx:
        await change(tx)
        await publish_tx(tx, services, actor, doc, audience)
    kick_workers(services)


async def _block(services: Services, request: Request, undo: bool) -> Response:
    auth = await authenticate(services, request, "write:blocks")
    presenter, uri = await _target(services, auth, request.path_params["id"])
    me, actor, now = presenter.viewer_uri, auth.member, services.clock.time()
    assert me is not None
    existing = await latest_activity(services.db, actor.id, "Block", uri)
    if undo and existing is not None:
        async def unblock(tx: Any) -> None:
            await remove_block(tx, me, uri)
            await remove_activity(tx, existing.uri, actor.id)
        await _send(services, actor, undo_activity(services, actor, existing.document), uri, unblock)
    elif undo:
        async with services.db.transaction() as tx:
            await remove_block(tx, me, uri)
    elif existing is None:
        block_id = new_activity_uri(services, actor)
        doc: dict[str, Any] = {"@context": AS_CONTEXT, "id": block_id, "type": "Block", "actor": me, "object": uri,
                               "to": [uri]}

        async def block(tx: Any) -> None:
            await add_block(tx, me, uri, block_id, now)
            await delete_follow(tx, me, uri)
            await delete_follow(tx, uri, me)
        await _send(services, actor, doc, uri, block)
    return json_response(await Presenter(services, actor).relationship(uri))


async def _mute(services: Services, request: Request, undo: bool) -> Response:
    params = await read_params(request)
    auth = await authenticate(services, request, "write:mutes", params=params)
    _, uri = await _target(services, auth, request.path_params["id"])
    db: Database = services.db
    if undo:
        await remove_mute(db, auth.member.id, uri)
    else:
        duration = params.number("duration") or 0
        now = services.clock.time()
        await add_mute(db, auth.member.id, uri, params.flag("notifications", True),
                       now + duration if duration > 0 else None, now)
    return json_response(await Presenter(services, auth.member).relationship(uri))


def block_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def action(request: Request) -> Response:
        name = request.url.path.rsplit("/", 1)[-1]
        if name in ("block", "unblock"):
            return await _block(services, request, undo=name == "unblock")
        return await _mute(services, request, undo=name == "unmute")

    async def _list(request: Request, scope: str, mutes: bool) -> Response:
        params = await read_params(request)
        auth = await authenticate(services, request, scope, params=params)
        presenter = Presenter(services, auth.member)
        assert presenter.viewer_uri is not None
        page = page_of(params, default=40, maximum=80)
        rows = (await mute_page(services.db, auth.member.id, page, services.clock.time()) if mutes
                else await block_page(services.db, presenter.viewer_uri, page))
        accounts = [a for _, uri in rows if (a := await presenter.account(uri)) is not None]
        return json_response(accounts, headers=link_header(request, services.uris.base, [i for i, _ in rows], page))

    @api_view
    async def blocks(request: Request) -> Response:
        return await _list(request, "read:blocks", mutes=False)

    @api_view
    async def mutes(request: Request) -> Response:
        return await _list(request, "read:mutes", mutes=True)

    return [
        *(Route(f"/api/v1/accounts/{{id}}/{name}", action, methods=["POST"])
          for name in ("block", "unblock", "mute", "unmute")),
        Route("/api/v1/blocks", blocks, methods=["GET"]),
        Route("/api/v1/mutes", mutes, methods=["GET"]),
    ]
