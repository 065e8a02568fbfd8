"""What every admin endpoint shares: the moderator check and Mastodon's Admin::Account and Admin::Report."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request

from fediverse_learn.api.auth import Auth, authenticate
from fediverse_learn.api.entities import REMOTE_ACCOUNT_BASE, iso
from fediverse_learn.api.errors import ApiError, not_found
from fediverse_learn.api.params import Params
from fediverse_learn.api.present import Presenter
from fediverse_learn.registrations import has_role
from fediverse_learn.services import Services
from fediverse_learn.store.actors import get_actor_by_id
from fediverse_learn.store.admin_queries import (
    AccountRow,
    assigned_to,
    pending_sign_up_by_id,
    sign_up_of_actor,
)
from fediverse_learn.store.api_accounts import remote_actor_id, remote_actor_uri
from fediverse_learn.store.domains import DomainPolicy
from fediverse_learn.store.moderation import ReportRecord, get_sanction
from fediverse_learn.store.objects import get_note
from fediverse_learn.store.registrations import SignUp, get_member_settings

__all__ = [
    "SIGN_UP_BASE",
    "AdminPresenter",
    "admin_auth",
    "domain_allow_entity",
    "domain_block_entity",
    "moderator_uri",
    "row_of_account_id",
]

SIGN_UP_BASE = 2 * REMOTE_ACCOUNT_BASE
"""Admin account ids of pending sign-ups (no actor yet): SIGN_UP_BASE + the sign-up's id."""

_ROLE_IDS = {"member": "-99", "moderator": "2", "admin": "3"}
_ROLE_PERMISSIONS = {"member": "65536", "moderator": "1308", "admin": "1"}   # Mastodon's default role bits


async def admin_auth(services: Services, request: Request, scope: str, params: Params | None = None) -> Auth:
    """A member's token with `scope` (or its `admin:read`/`admin:write` parent) held by a moderator or admin:
    401 without a valid token, 403 with too few scopes or for a plain member."""
    auth = await authenticate(services, request, scope, params=params)
    if not has_role(auth.member, "moderator"):
        raise ApiError(403, "This action is not allowed")
    return auth


def moderator_uri(services: Services, auth: Auth) -> str:
    return services.uris.actor(auth.member.name)


def _role(name: str) -> dict[str, Any]:
    return {"id": _ROLE_IDS.get(name, "-99"), "name": name if name != "member" else "",
            "permissions": _ROLE_PERMISSIONS.get(name, "65536"), "color": "", "highlighted": name != "member"}


async def row_of_account_id(services: Services, account_id: str) -> AccountRow | None:
    """The admin account behind an id: a local actor, a cached remote actor, or a sign-up awaiting approval."""
    if not account_id.isdigit() or len(account_id) > 19:
        return None
    number = int(account_id)
    if number >= SIGN_UP_BASE:
        sign_up = await pending_sign_up_by_id(services.db, number - SIGN_UP_BASE)
        return AccountRow(number, None, sign_up=sign_up) if sign_up is not None else None
    if number >= REMOTE_ACCOUNT_BASE:
        uri = await remote_actor_uri(services.db, number - REMOTE_ACCOUNT_BASE)
        return AccountRow(number, uri) if uri is not None else None
    actor = await get_actor_by_id(services.db, number)
    if actor is None or actor.removed_at is not None or actor.is_instance:
        return None
    return AccountRow(number, services.uris.actor(actor.name), actor_id=actor.id)


class AdminPresenter:
    """Admin entities for one moderator (with the viewer's ordinary Presenter for the nested Account)."""

    def __init__(self, services: Services, auth: Auth) -> None:
        self.services = services
        self.presenter = Presenter(services, auth.member)

    async def account(self, row: AccountRow) -> dict[str, Any]:
        """Mastodon's Admin::Account."""
        if row.sign_up is not None:
            return self._sign_up(row.id, row.sign_up)
        assert row.uri is not None
        account = await self.presenter.account(row.uri)
        if account is None:
            raise not_found()
        sanction = await get_sanction(self.services.db, row.uri)
        entity: dict[str, Any] = {
            "id": str(row.id), "username": account["username"], "domain": None, "created_at": account["created_at"],
            "email": "", "ip": None, "ips": [], "locale": "", "invite_request": None, "role": _role("member"),
            "confirmed": True, "approved": True, "disabled": False,
            "silenced": sanction is not None and sanction.silenced_at is not None,
            "suspended": sanction is not None and sanction.suspended_at is not None,
            "sensitized": False, "account": account, "created_by_application_id": None,
            "invited_by_account_id": None,
        }
        if row.actor_id is None:
            entity["domain"] = str(account["acct"]).partition("@")[2] or None
            return entity
        actor = await get_actor_by_id(self.services.db, row.actor_id)
        settings = await get_member_settings(self.services.db, row.actor_id)
        sign_up = await sign_up_of_actor(self.services.db, row.actor_id)
        entity.update(email=(settings.email if settings else None) or "", role=_role(actor.role if actor else ""),
                      invite_request=sign_up.reason if sign_up and sign_up.reason else None)
        return entity

    def _sign_up(self, account_id: int, sign_up: SignUp) -> dict[str, Any]:
        base = self.services.uris.base
        account = {
            "id": str(account_id), "username": sign_up.name, "acct": sign_up.name, "display_name": "",
            "locked": False, "bot": False, "discoverable": False, "indexable": False, "group": False,
            "created_at": iso(sign_up.created_at - sign_up.created_at % 86400), "note": "",
            "url": f"{base}/@{sign_up.name}", "uri": self.services.uris.actor(sign_up.name),
            "avatar": f"{base}/avatars/original/missing.png", "avatar_static": f"{base}/avatars/original/missing.png",
            "header": f"{base}/headers/original/missing.png", "header_static": f"{base}/headers/original/missing.png",
            "followers_count": 0, "following_count": 0, "statuses_count": 0, "last_status_at": None,
            "hide_collections": None, "noindex": True, "emojis": [], "roles": [], "fields": [],
        }
        return {
            "id": str(account_id), "username": sign_up.name, "domain": None, "created_at": iso(sign_up.created_at),
            "email": sign_up.email or "", "ip": None, "ips": [], "locale": "", "invite_request": sign_up.reason or None,
            "role": _role("member"), "confirmed": True, "approved": sign_up.state == "approved", "disabled": False,
            "silenced": False, "suspended": False, "sensitized": False, "account": account,
            "created_by_application_id": None, "invited_by_account_id": None,
        }

    async def account_of_uri(self, uri: str | None) -> dict[str, Any] | None:
        """The Admin::Account of an actor uri (ours or cached); None for nobody (the command line) or unknown."""
        if uri is None:
            return None
        services = self.services
        if services.uris.is_local(uri):
            actor = await self.presenter.local_actor(uri)
            return await self.account(AccountRow(actor.id, uri, actor_id=actor.id)) if actor is not None else None
        row_id = await remote_actor_id(services.db, uri)
        if row_id is None:
            return None
        return await self.account(AccountRow(REMOTE_ACCOUNT_BASE + row_id, uri))

    async def report(self, report: ReportRecord) -> dict[str, Any]:
        """Mastodon's Admin::Report."""
        statuses = []
        for uri in report.object_uris:
            note = await get_note(self.services.db, uri)
            status = await self.presenter.status(note) if note is not None else None
            if status is not None:
                statuses.append(status)
        return {
            "id": str(report.id), "action_taken": report.resolved_at is not None,
            "action_taken_at": iso(report.resolved_at), "category": report.category, "comment": report.comment,
            "forwarded": report.forwarded_as is not None or report.activity_uri is not None,
            "created_at": iso(report.created_at), "updated_at": iso(report.resolved_at or report.created_at),
            "account": await self.account_of_uri(report.reporter_uri),
            "target_account": await self.account_of_uri(report.target_uri),
            "assigned_account": await self.account_of_uri(await assigned_to(self.services.db, report.id)),
            "action_taken_by_account": await self.account_of_uri(report.resolved_by),
            "statuses": statuses, "rules": [],
        }


def domain_block_entity(rule_id: int, p: DomainPolicy) -> dict[str, Any]:
    """Mastodon's Admin::DomainBlock."""
    return {"id": str(rule_id), "domain": p.domain, "digest": hashlib.sha256(p.domain.encode()).hexdigest(),
            "created_at": iso(p.created_at), "severity": p.severity, "reject_media": p.reject_media,
            "reject_reports": p.reject_reports, "private_comment": p.private_comment or None,
            "public_comment": p.public_comment or None, "obfuscate": p.obfuscate}


def domain_allow_entity(rule_id: int, p: DomainPolicy) -> dict[str, Any]:
    """Mastodon's Admin::DomainAllow."""
    return {"id": str(rule_id), "domain": p.domain, "created_at": iso(p.created_at)}
