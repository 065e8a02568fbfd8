"""A member's report (Mastodon's POST /api/v1/reports): queued for moderators, optionally forwarded as a Flag."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn import moderation
from fediverse_learn.api.auth import authenticate
from fediverse_learn.api.entities import iso
from fediverse_learn.api.errors import api_view, json_response, not_found, unprocessable
from fediverse_learn.api.params import read_params
from fediverse_learn.api.present import Presenter, account_uri_by_id
from fediverse_learn.services import Services
from fediverse_learn.store.api_statuses import ids_by_uri
from fediverse_learn.store.moderation import ReportRecord
from fediverse_learn.store.objects import get_note_by_id

__all__ = ["report_entity", "report_routes"]


async def report_entity(presenter: Presenter, report: ReportRecord) -> dict[str, Any]:
    """Mastodon's Report, as its reporter sees it."""
    status_ids = []
    for uri in report.object_uris:
        found = await ids_by_uri(presenter.services.db, uri)
        if found is not None:
            status_ids.append(str(found[0]))
    return {
        "id": str(report.id), "action_taken": report.resolved_at is not None,
        "action_taken_at": iso(report.resolved_at), "category": report.category, "comment": report.comment,
        "forwarded": report.forwarded_as is not None, "created_at": iso(report.created_at),
        "status_ids": status_ids, "rule_ids": [], "target_account": await presenter.account(report.target_uri),
    }


async def _file(services: Services, request: Request) -> Response:
    params = await read_params(request)
    auth = await authenticate(services, request, "write:reports", params=params)
    target = await account_uri_by_id(services, params.text("account_id") or "")
    if target is None:
        raise not_found()
    if target == services.uris.actor(auth.member.name):
        raise unprocessable("you cannot report yourself")
    uris = []
    for status_id in params.texts("status_ids"):
        note = await get_note_by_id(services.db, int(status_id)) if status_id.isdigit() and len(status_id) < 19 \
            else None
        if note is None or note.author_uri != target:
            raise unprocessable("the statuses must be the reported account's")
        uris.append(note.uri)
    category = params.text("category") or "other"
    if category not in moderation.CATEGORIES:
        raise unprocessable(f"category must be one of {', '.join(moderation.CATEGORIES)}")
    report = await moderation.file_report(services, auth.member, target, uris, params.text("comment") or "",
                                          params.flag("forward"), category=category)
    return json_response(await report_entity(Presenter(services, auth.member), report))


def report_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def create(request: Request) -> Response:
        return await _file(services, request)

    # Mastodon.py posts to `/api/v1/reports/`, with a slash: both forms answer.
    return [Route("/api/v1/reports", create, methods=["POST"]), Route("/api/v1/reports/", create, methods=["POST"])]
