"""Admin accounts (Mastodon's /api/v1/admin/accounts): list and show, moderate, approve or reject sign-ups."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn import moderation, registrations
from fediverse_learn.api.admin_common import (
    SIGN_UP_BASE,
    AdminPresenter,
    admin_auth,
    moderator_uri,
    row_of_account_id,
)
from fediverse_learn.api.entities import REMOTE_ACCOUNT_BASE
from fediverse_learn.api.errors import ApiError, api_view, json_response, not_found, unprocessable
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import Params, read_params
from fediverse_learn.services import Services
from fediverse_learn.store.admin_queries import AccountFilter, AccountRow, find_accounts
from fediverse_learn.store.moderation import get_report

__all__ = ["ACCOUNT_ACTIONS", "admin_account_routes"]

ACCOUNT_ACTIONS = {"none": "warn", "silence": "silence", "suspend": "suspend"}
"""Mastodon's action types we carry out, and our moderation action for each (`sensitive` and `disable` are
refused: media is not marked sensitive here, and a member is signed out by suspending them)."""

_STATES = ("active", "pending", "disabled", "silenced", "suspended")


def _filter(params: Params) -> AccountFilter:
    local, remote = params.flag("local"), params.flag("remote")
    state = next((s for s in _STATES if params.flag(s)), None)
    return AccountFilter(local=local or not remote, remote=remote or not local, state=state,
                         username=params.text("username") or None, display_name=params.text("display_name") or None,
                         by_domain=(params.text("by_domain") or "").strip().lower() or None,
                         staff=params.flag("staff"))


async def _list(services: Services, request: Request) -> Response:
    params = await read_params(request, body=False)
    auth = await admin_auth(services, request, "admin:read:accounts", params)
    page = page_of(params, default=100, maximum=200)
    rows = await find_accounts(services.db, services.uris.actor(""), _filter(params), page,
                               remote_base=REMOTE_ACCOUNT_BASE, sign_up_base=SIGN_UP_BASE)
    present = AdminPresenter(services, auth)
    items = [await present.account(r) for r in rows]
    return json_response(items, headers=link_header(request, services.uris.base, [r.id for r in rows], page))


async def _row(services: Services, account_id: str) -> AccountRow:
    row = await row_of_account_id(services, account_id)
    if row is None:
        raise not_found()
    return row


async def _show(services: Services, request: Request, account_id: str) -> Response:
    auth = await admin_auth(services, request, "admin:read:accounts")
    return json_response(await AdminPresenter(services, auth).account(await _row(services, account_id)))


async def _action(services: Services, request: Request, account_id: str) -> Response:
    """POST .../action: warn (type none), silence or suspend; with report_id, also resolve that report."""
    params = await read_params(request)
    auth = await admin_auth(services, request, "admin:write:accounts", params)
    row = await _row(services, account_id)
    kind = params.text("type") or "none"
    if kind not in ACCOUNT_ACTIONS:
        raise unprocessable(f"type {kind!r} is not supported (none, silence, suspend)")
    if row.uri is None:
        raise unprocessable("this account awaits approval: approve or reject it")
    action, text, me = ACCOUNT_ACTIONS[kind], (params.text("text") or "").strip(), moderator_uri(services, auth)
    report_id = params.text("report_id")
    if report_id:
        report = await get_report(services.db, int(report_id)) if report_id.isdigit() else None
        if report is None:
            raise not_found()
        if report.target_uri != row.uri:
            raise unprocessable("the report is about another account")
        await moderation.resolve_report(services, report.id, action, moderator=me, comment=text)
    elif action == "warn":
        await moderation.warn_account(services, row.uri, moderator=me, comment=text)
    elif action == "silence":
        await moderation.silence_account(services, row.uri, moderator=me, comment=text)
    else:
        await moderation.suspend_account(services, row.uri, moderator=me, comment=text)
    return json_response({})


async def _lift(services: Services, request: Request, account_id: str, what: str) -> Response:
    """POST .../unsilence or .../unsuspend."""
    auth = await admin_auth(services, request, "admin:write:accounts")
    row = await _row(services, account_id)
    if row.uri is None:
        raise not_found()
    me = moderator_uri(services, auth)
    if what == "unsilence":
        await moderation.silence_account(services, row.uri, silenced=False, moderator=me)
    else:
        await moderation.unsuspend_account(services, row.uri, moderator=me)
    return json_response(await AdminPresenter(services, auth).account(row))


async def _decide(services: Services, request: Request, account_id: str, approve: bool) -> Response:
    """POST .../approve or .../reject: a sign-up awaiting approval."""
    auth = await admin_auth(services, request, "admin:write:accounts")
    row = await _row(services, account_id)
    if row.sign_up is None or row.sign_up.state != "pending":
        raise ApiError(403, "This account is not pending approval")
    present, me = AdminPresenter(services, auth), moderator_uri(services, auth)
    if approve:
        actor = await registrations.approve_sign_up(services, row.sign_up.name, moderator=me)
        uri = services.uris.actor(actor.name)
        return json_response(await present.account(AccountRow(actor.id, uri, actor_id=actor.id)))
    entity = await present.account(row)
    await registrations.reject_sign_up(services, row.sign_up.name, moderator=me)
    return json_response(entity)


def admin_account_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def index(request: Request) -> Response:
        return await _list(services, request)

    @api_view
    async def show(request: Request) -> Response:
        return await _show(services, request, request.path_params["id"])

    @api_view
    async def act(request: Request) -> Response:
        account_id, name = request.path_params["id"], request.path_params["action"]
        if name == "action":
            return await _action(services, request, account_id)
        if name in ("unsilence", "unsuspend"):
            return await _lift(services, request, account_id, name)
        if name in ("approve", "reject"):
            return await _decide(services, request, account_id, name == "approve")
        raise not_found()

    return [
        Route("/api/v1/admin/accounts", index, methods=["GET"]),
        Route("/api/v1/admin/accounts/{id}", show, methods=["GET"]),
        Route("/api/v1/admin/accounts/{id}/{action}", act, methods=["POST"]),
    ]
