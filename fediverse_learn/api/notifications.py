"""Notifications: list (types[], exclude_types[], paging with Link), one, dismiss, clear."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import authenticate
from fediverse_learn.api.entities import iso
from fediverse_learn.api.errors import api_view, json_response, not_found
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import read_params
from fediverse_learn.api.present import Presenter
from fediverse_learn.services import Services
from fediverse_learn.store.notifications import (
    Notification,
    clear_notifications,
    dismiss_notification,
    get_notification,
    notification_page,
)
from fediverse_learn.store.objects import get_note

__all__ = ["notification_entity", "notification_routes"]

_WITH_STATUS = ("mention", "status", "reblog", "favourite", "poll", "update")


async def notification_entity(presenter: Presenter, n: Notification) -> dict[str, Any] | None:
    """A Notification; None when its account is unknown or its status gone or hidden from the member."""
    account = await presenter.account(n.from_uri)
    if account is None:
        return None
    doc: dict[str, Any] = {"id": str(n.id), "type": n.type, "created_at": iso(n.created_at), "account": account,
                           "group_key": f"ungrouped-{n.id}"}
    if n.type in _WITH_STATUS:
        note = await get_note(presenter.services.db, n.object_uri) if n.object_uri else None
        status = await presenter.status(note) if note is not None and await presenter.can_see(note) else None
        if status is None:
            return None
        doc["status"] = status
    return doc


def _id(text: str) -> int:
    if not text.isdigit() or len(text) > 19:
        raise not_found()
    return int(text)


def notification_routes(services: Services) -> list[BaseRoute]:
    db, clock = services.db, services.clock

    @api_view
    async def index(request: Request) -> Response:
        params = await read_params(request)
        auth = await authenticate(services, request, "read:notifications", params=params)
        presenter = Presenter(services, auth.member)
        page = page_of(params, default=40, maximum=80)
        found = await notification_page(db, auth.member.id, page, types=params.texts("types"),
                                        exclude=params.texts("exclude_types"))
        entities = [e for n in found if (e := await notification_entity(presenter, n)) is not None]
        return json_response(entities, headers=link_header(request, services.uris.base, [n.id for n in found], page))

    @api_view
    async def one(request: Request) -> Response:
        auth = await authenticate(services, request, "read:notifications")
        found = await get_notification(db, auth.member.id, _id(request.path_params["id"]))
        entity = await notification_entity(Presenter(services, auth.member), found) if found else None
        if entity is None:
            raise not_found()
        return json_response(entity)

    @api_view
    async def dismiss(request: Request) -> Response:
        auth = await authenticate(services, request, "write:notifications")
        if not await dismiss_notification(db, auth.member.id, _id(request.path_params["id"]), clock.time()):
            raise not_found()
        return json_response({})

    @api_view
    async def clear(request: Request) -> Response:
        auth = await authenticate(services, request, "write:notifications")
        await clear_notifications(db, auth.member.id, clock.time())
        return json_response({})

    return [
        Route("/api/v1/notifications", index, methods=["GET"]),
        Route("/api/v1/notifications/clear", clear, methods=["POST"]),
        Route("/api/v1/notifications/{id}", one, methods=["GET"]),
        Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
    ]
