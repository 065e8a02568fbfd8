"""Timelines: home (own and followed accounts' statuses) and public (all, local or remote), newest first."""

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
from fediverse_learn.store.api_statuses import home_page, public_page

__all__ = ["timeline_routes"]


def timeline_routes(services: Services) -> list[BaseRoute]:
    uris = services.uris

    @api_view
    async def home(request: Request) -> Response:
        params = await read_params(request)
        auth = await authenticate(services, request, "read:statuses", params=params)
        presenter = Presenter(services, auth.member)
        page = page_of(params)
        assert presenter.viewer_uri is not None
        statuses = await presenter.statuses(await home_page(services.db, presenter.viewer_uri, page))
        return json_response(statuses, headers=link_header(request, uris.base, statuses, page))

    @api_view
    async def public(request: Request) -> Response:
        params = await read_params(request)
        auth = await optional_auth(services, request, "read:statuses", params)
        presenter = Presenter(services, auth.actor if auth else None)
        page = page_of(params)
        local = True if params.flag("local") else False if params.flag("remote") else None
        if params.flag("only_media"):
            return json_response([])
        statuses = await presenter.statuses(await public_page(services.db, page, local=local))
        return json_response(statuses, headers=link_header(request, uris.base, statuses, page))

    return [
        Route("/api/v1/timelines/home", home, methods=["GET"]),
        Route("/api/v1/timelines/public", public, methods=["GET"]),
    ]
