"""Markers (GET/POST /api/v1/markers): where a member stopped reading."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import authenticate
from fediverse_learn.api.entities import iso
from fediverse_learn.api.errors import api_view, json_response
from fediverse_learn.api.params import read_params
from fediverse_learn.services import Services
from fediverse_learn.store.api_social import get_markers, set_marker

__all__ = ["marker_routes"]

_TIMELINES = ("home", "notifications")


async def _markers(services: Services, actor_id: int, wanted: list[str]) -> dict[str, Any]:
    return {timeline: {"last_read_id": last, "version": version, "updated_at": iso(at)}
            for timeline, last, version, at in await get_markers(services.db, actor_id)
            if not wanted or timeline in wanted}


def marker_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def markers(request: Request) -> Response:
        params = await read_params(request)
        if request.method == "GET":
            auth = await authenticate(services, request, "read:statuses", params=params)
            return json_response(await _markers(services, auth.member.id, params.texts("timeline")))
        auth = await authenticate(services, request, "write:statuses", params=params)
        changed = []
        for timeline in _TIMELINES:
            last = params.text(f"{timeline}[last_read_id]")
            if last is None and isinstance(found := params.values.get(timeline, [None])[0], dict):
                last = str(found.get("last_read_id") or "") or None   # JSON: {"home": {"last_read_id": ...}}
            if last:
                await set_marker(services.db, auth.member.id, timeline, last[:40], services.clock.time())
                changed.append(timeline)
        return json_response(await _markers(services, auth.member.id, changed))

    return [
        Route("/api/v1/markers", markers, methods=["GET", "POST"]),
    ]
