"""Admin reports (Mastodon's /api/v1/admin/reports): the moderation queue, resolve, reopen, assign."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn import moderation
from fediverse_learn.api.admin_common import AdminPresenter, admin_auth, moderator_uri, row_of_account_id
from fediverse_learn.api.auth import Auth
from fediverse_learn.api.errors import api_view, json_response, not_found
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import read_params
from fediverse_learn.services import Services
from fediverse_learn.store.admin_queries import reopen_report, reports_page, set_assignment
from fediverse_learn.store.moderation import ReportRecord, get_report

__all__ = ["admin_report_routes"]


async def _account_uri(services: Services, account_id: str | None) -> str | None:
    if not account_id:
        return None
    row = await row_of_account_id(services, account_id)
    if row is None or row.uri is None:
        raise not_found()
    return row.uri


async def _list(services: Services, request: Request) -> Response:
    params = await read_params(request, body=False)
    auth = await admin_auth(services, request, "admin:read:reports", params)
    page = page_of(params, default=100, maximum=200)
    # Mastodon: `resolved=true` gives resolved reports only, otherwise the open ones.
    resolved = params.flag("resolved")
    ids = await reports_page(services.db, page, resolved=resolved,
                             reporter_uri=await _account_uri(services, params.text("account_id")),
                             target_uri=await _account_uri(services, params.text("target_account_id")))
    present = AdminPresenter(services, auth)
    items = []
    for report_id in ids:
        report = await get_report(services.db, report_id)
        if report is not None:
            items.append(await present.report(report))
    return json_response(items, headers=link_header(request, services.uris.base, ids, page))


async def _report(services: Services, report_id: str) -> ReportRecord:
    report = await get_report(services.db, int(report_id)) if report_id.isdigit() and len(report_id) < 19 else None
    if report is None:
        raise not_found()
    return report


async def _show(services: Services, request: Request, report_id: str) -> Response:
    auth = await admin_auth(services, request, "admin:read:reports")
    return json_response(await AdminPresenter(services, auth).report(await _report(services, report_id)))


async def _act(services: Services, request: Request, report_id: str, name: str) -> Response:
    auth: Auth = await admin_auth(services, request, "admin:write:reports")
    report = await _report(services, report_id)
    me, now = moderator_uri(services, auth), services.clock.time()
    if name == "resolve":
        if report.resolved_at is None:
            report = await moderation.resolve_report(services, report.id, "none", moderator=me)
    elif name == "reopen":
        reopened = await reopen_report(services.db, report.id, me, now)
        if reopened is None:
            raise not_found()
        report = reopened
    else:
        await set_assignment(services.db, report, me, now, assign=name == "assign_to_self")
    return json_response(await AdminPresenter(services, auth).report(report))


def admin_report_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def index(request: Request) -> Response:
        return await _list(services, request)

    @api_view
    async def show(request: Request) -> Response:
        return await _show(services, request, request.path_params["id"])

    @api_view
    async def act(request: Request) -> Response:
        name = request.path_params["action"]
        if name not in ("resolve", "reopen", "assign_to_self", "unassign"):
            raise not_found()
        return await _act(services, request, request.path_params["id"], name)

    return [
        Route("/api/v1/admin/reports", index, methods=["GET"]),
        Route("/api/v1/admin/reports/{id}", show, methods=["GET"]),
        Route("/api/v1/admin/reports/{id}/{action}", act, methods=["POST"]),
    ]
