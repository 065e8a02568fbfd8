"""Admin domain blocks and allows (Mastodon's /api/v1/admin/domain_blocks and /domain_allows)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn import moderation
from fediverse_learn.api.admin_common import (
    admin_auth,
    domain_allow_entity,
    domain_block_entity,
    moderator_uri,
)
from fediverse_learn.api.errors import api_view, json_response, not_found, unprocessable
from fediverse_learn.api.pagination import link_header, page_of
from fediverse_learn.api.params import Params, read_params
from fediverse_learn.policy import SEVERITIES, validate_domain
from fediverse_learn.services import Services
from fediverse_learn.store.admin_queries import domain_rule_by_id, domain_rule_id, domain_rules_page
from fediverse_learn.store.domains import DomainPolicy

__all__ = ["admin_domain_routes"]

_SEVERITY_ALIASES = {"limit": "silence"}     # Mastodon's web UI says "limit" for silence


def _severity(params: Params, default: str) -> str:
    severity = params.text("severity") or default
    severity = _SEVERITY_ALIASES.get(severity, severity)
    if severity not in SEVERITIES:
        raise unprocessable(f"severity must be one of {', '.join(SEVERITIES)}")
    return severity


def _flag(params: Params, name: str, current: bool) -> bool:
    return params.flag(name) if name in params else current


def _text(params: Params, name: str, current: str) -> str:
    value = params.text(name)
    return value if value is not None else current


async def _block(services: Services, params: Params, domain: str, current: DomainPolicy | None,
                 moderator: str) -> dict[str, object]:
    await moderation.block_domain(
        services, domain, severity=_severity(params, current.severity if current else "silence"),
        reject_media=_flag(params, "reject_media", current.reject_media if current else False),
        reject_reports=_flag(params, "reject_reports", current.reject_reports if current else False),
        public_comment=_text(params, "public_comment", current.public_comment if current else ""),
        private_comment=_text(params, "private_comment", current.private_comment if current else ""),
        obfuscate=_flag(params, "obfuscate", current.obfuscate if current else False), moderator=moderator)
    saved = await domain_rule_id(services.db, "block", validate_domain(domain))
    assert saved is not None
    return domain_block_entity(*saved)


async def _rules_page(services: Services, request: Request, kind: str) -> Response:
    """A page of domain blocks or allows, newest first, paged by Link headers."""
    params = await read_params(request, body=False)
    await admin_auth(services, request, f"admin:read:domain_{kind}s", params)
    page = page_of(params, default=100, maximum=200)
    rules = await domain_rules_page(services.db, kind, page)
    entity = domain_block_entity if kind == "block" else domain_allow_entity
    return json_response([entity(*r) for r in rules],
                         headers=link_header(request, services.uris.base, [r[0] for r in rules], page))


async def _blocks(services: Services, request: Request) -> Response:
    if request.method == "GET":
        return await _rules_page(services, request, "block")
    params = await read_params(request)
    auth = await admin_auth(services, request, "admin:write:domain_blocks", params)
    domain = validate_domain(params.text("domain") or "")
    existing = await domain_rule_id(services.db, "block", domain)
    if existing is not None:
        return json_response({"error": f"Validation failed: {domain} is blocked already",
                              "existing_domain_block": domain_block_entity(*existing)}, 422)
    return json_response(await _block(services, params, domain, None, moderator_uri(services, auth)))


async def _one_block(services: Services, request: Request, rule_id: str) -> Response:
    scope = "admin:read:domain_blocks" if request.method == "GET" else "admin:write:domain_blocks"
    params = await read_params(request, body=request.method == "PUT")
    auth = await admin_auth(services, request, scope, params)
    found = await domain_rule_by_id(services.db, "block", rule_id)
    if found is None:
        raise not_found()
    if request.method == "GET":
        return json_response(domain_block_entity(*found))
    me = moderator_uri(services, auth)
    if request.method == "DELETE":
        await moderation.unblock_domain(services, found[1].domain, moderator=me)
        return json_response({})
    return json_response(await _block(services, params, found[1].domain, found[1], me))


async def _allows(services: Services, request: Request) -> Response:
    if request.method == "GET":
        return await _rules_page(services, request, "allow")
    params = await read_params(request)
    auth = await admin_auth(services, request, "admin:write:domain_allows", params)
    domain = validate_domain(params.text("domain") or "")
    await moderation.allow_domain(services, domain, moderator=moderator_uri(services, auth))
    saved = await domain_rule_id(services.db, "allow", domain)
    assert saved is not None
    return json_response(domain_allow_entity(*saved))


async def _one_allow(services: Services, request: Request, rule_id: str) -> Response:
    scope = "admin:read:domain_allows" if request.method == "GET" else "admin:write:domain_allows"
    auth = await admin_auth(services, request, scope)
    found = await domain_rule_by_id(services.db, "allow", rule_id)
    if found is None:
        raise not_found()
    if request.method == "GET":
        return json_response(domain_allow_entity(*found))
    await moderation.disallow_domain(services, found[1].domain, moderator=moderator_uri(services, auth))
    return json_response({})


def admin_domain_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def blocks(request: Request) -> Response:
        return await _blocks(services, request)

    @api_view
    async def one_block(request: Request) -> Response:
        return await _one_block(services, request, request.path_params["id"])

    @api_view
    async def allows(request: Request) -> Response:
        return await _allows(services, request)

    @api_view
    async def one_allow(request: Request) -> Response:
        return await _one_allow(services, request, request.path_params["id"])

    # Mastodon.py asks for `/domain_blocks/` with a slash: both forms answer (no redirect for a POST).
    return [
        Route("/api/v1/admin/domain_blocks", blocks, methods=["GET", "POST"]),
        Route("/api/v1/admin/domain_blocks/", blocks, methods=["GET", "POST"]),
        Route("/api/v1/admin/domain_blocks/{id}", one_block, methods=["GET", "PUT", "DELETE"]),
        Route("/api/v1/admin/domain_allows", allows, methods=["GET", "POST"]),
        Route("/api/v1/admin/domain_allows/", allows, methods=["GET", "POST"]),
        Route("/api/v1/admin/domain_allows/{id}", one_allow, methods=["GET", "DELETE"]),
    ]
