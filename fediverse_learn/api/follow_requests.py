"""Follow requests of a member who approves followers by hand: list, authorize (Accept), reject (Reject)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import authenticate
from fediverse_learn.api.errors import api_view, json_response, not_found
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import read_params
from fediverse_learn.api.present import Presenter, account_uri_by_id
from fediverse_learn.services import Services
from fediverse_learn.store.api_social import follow_request_page
from fediverse_learn.store.follows import delete_follow, get_follow, set_follow
from outbox.compose import accept_activity, reject_activity
from outbox.publish import kick_workers, publish_tx, resolve_audience

__all__ = ["follow_request_routes"]


async def _inbox_of(services: Services, actor_uri: str) -> str:
    """Where the answer goes: a local actor's personal inbox, or a remote actor's own inbox."""
    ref = services.uris.parse(actor_uri)
    if ref is not None and ref.collection is None and ref.kind is None:
        return services.uris.inbox(ref.name)
    return (await services.resolver.actor(actor_uri)).inbox


async def _answer(services: Services, request: Request, accept: bool) -> Response:
    auth = await authenticate(services, request, "write:follows")
    member = auth.member
    presenter = Presenter(services, member)
    assert presenter.viewer_uri is not None
    follower = await account_uri_by_id(services, request.path_params["id"])
    pending = await get_follow(services.db, follower, presenter.viewer_uri) if follower is not None else None
    if follower is None or pending is None or pending.state != "pending":
        raise not_found()
    follow = {"id": pending.activity_uri, "type": "Follow", "actor": follower, "object": presenter.viewer_uri}
    answer = (accept_activity if accept else reject_activity)(services, member, follow)
    audience = await resolve_audience(services, member, answer, [await _inbox_of(services, follower)])
    async with services.db.transaction() as tx:
        current = await get_follow(tx, follower, presenter.viewer_uri)
        if current is not None and current.state == "pending":
            if accept:
                await set_follow(tx, follower, presenter.viewer_uri, "accepted", None, services.clock.time())
            else:
                await delete_follow(tx, follower, presenter.viewer_uri)
            await publish_tx(tx, services, member, answer, audience)
    kick_workers(services)
    relationship = await Presenter(services, member).relationship(follower)
    if relationship is None:
        raise not_found()
    return json_response(relationship)


def follow_request_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def index(request: Request) -> Response:
        params = await read_params(request)
        auth = await authenticate(services, request, "read:follows", params=params)
        presenter = Presenter(services, auth.member)
        assert presenter.viewer_uri is not None
        page = page_of(params, default=40, maximum=80)
        rows = await follow_request_page(services.db, presenter.viewer_uri, page)
        accounts = [a for _, uri in rows if (a := await presenter.account(uri)) is not None]
        return json_response(accounts, headers=link_header(request, services.uris.base, [i for i, _ in rows], page))

    @api_view
    async def authorize(request: Request) -> Response:
        return await _answer(services, request, accept=True)

    @api_view
    async def reject(request: Request) -> Response:
        return await _answer(services, request, accept=False)

    return [
        Route("/api/v1/follow_requests", index, methods=["GET"]),
        Route("/api/v1/follow_requests/{id}/authorize", authorize, methods=["POST"]),
        Route("/api/v1/follow_requests/{id}/reject", reject, methods=["POST"]),
    ]
