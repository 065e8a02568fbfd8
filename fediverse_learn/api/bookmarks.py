"""A member's saved statuses: bookmark/unbookmark and GET /api/v1/bookmarks, pin/unpin, GET /api/v1/favourites."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import authenticate
from fediverse_learn.api.errors import api_view, json_response, not_found, unprocessable
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import read_params
from fediverse_learn.api.present import Presenter
from fediverse_learn.api.statuses import visible_note
from fediverse_learn.services import Services
from fediverse_learn.store.api_social import (
    add_bookmark,
    add_pin,
    bookmark_page,
    favourite_page,
    remove_bookmark,
    remove_pin,
)

__all__ = ["MAX_PINS", "bookmark_routes"]

MAX_PINS = 5


async def _act(services: Services, request: Request, name: str) -> Response:
    scope = "write:bookmarks" if name.endswith("bookmark") else "write:accounts"
    auth = await authenticate(services, request, scope)
    actor, now = auth.member, services.clock.time()
    presenter = Presenter(services, actor)
    note = await visible_note(presenter, request.path_params["id"])
    if name == "bookmark":
        await add_bookmark(services.db, actor.id, note.uri, now)
    elif name == "unbookmark":
        await remove_bookmark(services.db, actor.id, note.uri)
    elif name == "pin":
        if note.local_actor_id != actor.id or note.visibility == "direct":
            raise unprocessable("Only your own public, unlisted or followers-only statuses can be pinned")
        if not await add_pin(services.db, actor.id, note.uri, now, MAX_PINS):
            raise unprocessable(f"You can pin {MAX_PINS} statuses at most")
    else:
        await remove_pin(services.db, actor.id, note.uri)
    status = await Presenter(services, actor).status(note)
    if status is None:
        raise not_found()
    return json_response(status)


def bookmark_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def action(request: Request) -> Response:
        return await _act(services, request, request.url.path.rsplit("/", 1)[-1])

    @api_view
    async def bookmarks(request: Request) -> Response:
        params = await read_params(request)
        auth = await authenticate(services, request, "read:bookmarks", params=params)
        presenter = Presenter(services, auth.member)
        page = page_of(params)
        ids, notes = await bookmark_page(services.db, auth.member.id, page)
        statuses = await presenter.statuses(notes)
        return json_response(statuses, headers=link_header(request, services.uris.base, ids, page))

    @api_view
    async def favourites(request: Request) -> Response:
        params = await read_params(request)
        auth = await authenticate(services, request, "read:favourites", params=params)
        presenter = Presenter(services, auth.member)
        assert presenter.viewer_uri is not None
        page = page_of(params)
        ids, notes = await favourite_page(services.db, presenter.viewer_uri, page)
        statuses = await presenter.statuses(notes)
        return json_response(statuses, headers=link_header(request, services.uris.base, ids, page))

    return [
        *(Route(f"/api/v1/statuses/{{id}}/{name}", action, methods=["POST"])
          for name in ("bookmark", "unbookmark", "pin", "unpin")),
        Route("/api/v1/bookmarks", bookmarks, methods=["GET"]),
        Route("/api/v1/favourites", favourites, methods=["GET"]),
    ]
