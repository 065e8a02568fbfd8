"""Timelines: home (own and followed accounts' statuses and boosts), public (all, local or remote) and hashtag,
newest first; a member's muted and blocked accounts left out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import authenticate, optional_auth
from fediverse_learn.api.errors import api_view, json_response
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import read_params
from fediverse_learn.api.present import Presenter
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.api_statuses import Viewer, home_page, public_page, tag_page

__all__ = ["timeline_routes"]


def timeline_routes(services: Services) -> list[BaseRoute]:
    uris = services.uris

    def viewer(actor: LocalActor | None) -> Viewer | None:
        return Viewer(actor.id, uris.actor(actor.name), services.clock.time()) if actor is not None else None

    @api_view
    async def home(request: Request) -> Response:
        params = await read_params(request)
        auth = await authenticate(services, request, "read:statuses", params=params)
        presenter = Presenter(services, auth.member)
        page = page_of(params)
        me = viewer(auth.member)
        assert me is not None
        statuses = await presenter.statuses(await home_page(services.db, me, page))
        return json_response(statuses, headers=link_header(request, uris.base, statuses, page))

    async def shared(request: Request, hashtag: str | None) -> Response:
        """The public timeline, or one hashtag's: `local`/`remote`, no media here (`only_media` is empty)."""
        params = await read_params(request)
        auth = await optional_auth(services, request, "read:statuses", params)
        presenter = Presenter(services, auth.actor if auth else None)
        page = page_of(params)
        local = True if params.flag("local") else False if params.flag("remote") else None
        if params.flag("only_media"):
            return json_response([])
        seen_by = viewer(presenter.viewer)
        notes = (await public_page(services.db, page, local=local, viewer=seen_by) if hashtag is None else
                 await tag_page(services.db, hashtag, page, local=local, viewer=seen_by))
        statuses = await presenter.statuses(notes)
        return json_response(statuses, headers=link_header(request, uris.base, statuses, page))

    @api_view
    async def public(request: Request) -> Response:
        return await shared(request, None)

    @api_view
    async def tag(request: Request) -> Response:
        return await shared(request, request.path_params["hashtag"])

    return [
        Route("/api/v1/timelines/home", home, methods=["GET"]),
        Route("/api/v1/timelines/public", public, methods=["GET"]),
        Route("/api/v1/timelines/tag/{hashtag}", tag, methods=["GET"]),
    ]
