"""Client registration (`POST /api/v1/apps`, `GET /api/v1/apps/verify_credentials`) and the RFC 8414
authorization server metadata."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import authenticate
from fediverse_learn.api.errors import api_view, json_response, unprocessable
from fediverse_learn.api.params import read_params
from fediverse_learn.api.scopes import KNOWN_SCOPES, parse_scopes
from fediverse_learn.services import Services
from fediverse_learn.store.oauth import OAuthApp, create_app, get_app

__all__ = ["OOB", "app_entity", "app_routes", "valid_redirect_uri"]

OOB = "urn:ietf:wg:oauth:2.0:oob"
MAX_NAME = 200
MAX_URI = 2000
MAX_REDIRECTS = 10
_BAD_SCHEMES = {"javascript", "data", "vbscript", "file", "blob", "about"}


def valid_redirect_uri(uri: str) -> bool:
    """An absolute URI without a fragment (custom app schemes allowed), or the out-of-band marker."""
    if uri == OOB:
        return True
    if len(uri) > MAX_URI or any(c.isspace() for c in uri):
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if not parts.scheme or parts.scheme.lower() in _BAD_SCHEMES or parts.fragment:
        return False
    return bool(parts.netloc) or parts.scheme.lower() not in ("http", "https")


def app_entity(app: OAuthApp, *, secret: str | None = None) -> dict[str, Any]:
    """Application (or, with its secret, CredentialApplication) as Mastodon 4.3+ shapes it."""
    doc: dict[str, Any] = {
        "id": str(app.id), "name": app.name, "website": app.website, "scopes": list(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris), "redirect_uris": list(app.redirect_uris),
    }
    if secret is not None:
        doc.update({"client_id": app.client_id, "client_secret": secret, "client_secret_expires_at": 0})
    return doc


def _redirect_uris(values: list[str]) -> tuple[str, ...]:
    uris = tuple(dict.fromkeys(u.strip() for v in values for u in v.split("\n") if u.strip()))
    if not uris:
        raise unprocessable("Redirect URI can't be blank")
    if len(uris) > MAX_REDIRECTS or not all(valid_redirect_uri(u) for u in uris):
        raise unprocessable("Redirect URI must be an absolute URI.")
    return uris


def metadata(services: Services) -> dict[str, Any]:
    """RFC 8414 metadata; the password grant is listed only when the config enables it."""
    base = services.uris.base
    grants = ["authorization_code", "client_credentials", "refresh_token"]
    if services.config.oauth.password_grant:
        grants.append("password")
    return {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": list(KNOWN_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }


def app_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def create(request: Request) -> Response:
        params = await read_params(request)
        name = (params.text("client_name") or "").strip()
        if not name or len(name) > MAX_NAME:
            raise unprocessable(f"Name must have 1 to {MAX_NAME} characters")
        redirect_uris = _redirect_uris(params.texts("redirect_uris"))
        scopes = parse_scopes(params.text("scopes"))
        if scopes is None:
            raise unprocessable("Scopes are invalid")
        website = (params.text("website") or "").strip() or None
        if website is not None and (len(website) > MAX_URI or urlsplit(website).scheme not in ("http", "https")):
            raise unprocessable("Website is invalid")
        app, secret = await create_app(services.db, name=name, website=website, redirect_uris=redirect_uris,
                                       scopes=scopes, now=services.clock.time())
        return json_response(app_entity(app, secret=secret))

    @api_view
    async def verify(request: Request) -> Response:
        auth = await authenticate(services, request, None, member=False)
        app = await get_app(services.db, auth.token.app_id) if auth.token.app_id is not None else None
        if app is None:   # a token from `fediverse-learn token`: no registered app behind it
            return json_response({"id": "0", "name": "fediverse-learn", "website": None,
                                  "scopes": list(auth.token.scopes), "redirect_uri": OOB, "redirect_uris": [OOB]})
        return json_response(app_entity(app))

    async def server_metadata(request: Request) -> Response:
        return json_response(metadata(services), headers={"access-control-allow-origin": "*"})

    return [
        Route("/api/v1/apps", create, methods=["POST"]),
        Route("/api/v1/apps/verify_credentials", verify, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", server_metadata, methods=["GET"]),
    ]
