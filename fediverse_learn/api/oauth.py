"""OAuth 2 endpoints: `/oauth/authorize` (sign in, consent, code), `/oauth/token` and `/oauth/revoke`."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.apps import OOB
from fediverse_learn.api.errors import ApiError, json_response
from fediverse_learn.api.limits import SIGN_IN, client_address, enforce
from fediverse_learn.api.oauth_pages import consent_page, error_page, oob_page, sign_in_page
from fediverse_learn.api.params import Params, read_params
from fediverse_learn.api.scopes import covers, parse_scopes
from fediverse_learn.passwords import verify_password
from fediverse_learn.services import Services
from fediverse_learn.store.actors import get_actor_by_id
from fediverse_learn.store.oauth import (
    Grant,
    OAuthApp,
    check_client,
    consume_grant,
    create_grant,
    find_refresh,
    get_app_by_client_id,
    issue_token,
    member_password,
    revoke_token,
    token_row_by_secret,
)

__all__ = ["oauth_routes"]

CODE_TTL = 600.0        # an authorization code, and a sign-in awaiting consent, live ten minutes
_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class OAuthError(ApiError):
    """An RFC 6749 error answer: `{"error": code, "error_description": ...}`."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(status, code, _NO_STORE, error_description=description)


def _invalid_grant() -> OAuthError:
    return OAuthError("invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not "
                      "match the redirection URI used in the authorization request, or was issued to another client.")


# --- /oauth/authorize ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuthorizeRequest:
    app: OAuthApp
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None

    def fields(self) -> dict[str, str | None]:
        """The hidden fields that carry the request through the sign-in form."""
        return {"client_id": self.app.client_id, "redirect_uri": self.redirect_uri, "response_type": "code",
                "scope": " ".join(self.scopes), "state": self.state, "code_challenge": self.code_challenge,
                "code_challenge_method": "S256" if self.code_challenge else None}


class PageError(Exception):
    """The request cannot even be sent back to the app (unknown client or redirect URI): show a page."""


def redirect_with(redirect_uri: str, params: dict[str, str | None]) -> Response:
    parts = urlsplit(redirect_uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302, headers=_NO_STORE)


async def _authorize_request(services: Services, params: Params) -> AuthorizeRequest | Response:
    """Check the authorization request: a page for a bad client or redirect URI, a redirect with an error
    for the rest (RFC 6749 4.1.2.1), else the request."""
    app = await get_app_by_client_id(services.db, params.text("client_id") or "")
    if app is None:
        raise PageError("Client authentication failed: unknown client.")
    redirect_uri = params.text("redirect_uri") or (app.redirect_uris[0] if len(app.redirect_uris) == 1 else "")
    if redirect_uri not in app.redirect_uris:
        raise PageError("The redirect URI included is not valid for this client.")
    state = params.text("state")

    def refuse(code: str, description: str) -> Response:
        return redirect_with(redirect_uri, {"error": code, "error_description": description, "state": state})

    if params.text("response_type") != "code":
        return refuse("unsupported_response_type", "Only response_type=code is supported.")
    scopes = parse_scopes(params.text("scope"))
    if scopes is None or not covers(app.scopes, scopes):
        return refuse("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
    challenge = params.text("code_challenge") or None
    if challenge is not None and (params.text("code_challenge_method") != "S256" or not 43 <= len(challenge) <= 128):
        return refuse("invalid_request", "PKCE needs code_challenge_method=S256 and a valid code_challenge.")
    return AuthorizeRequest(app, redirect_uri, scopes, state, challenge)


async def _sign_in(services: Services, request: AuthorizeRequest, params: Params) -> Response:
    username = (params.text("username") or "").strip().lstrip("@").lower()
    username = username.removesuffix(f"@{services.uris.domain}")
    password = params.text("password") or ""
    found = await member_password(services.db, username) if username else None
    ok = await asyncio.to_thread(verify_password, found[1] if found else None, password)
    instance = services.config.instance.name
    if found is None or not ok:
        return sign_in_page(instance, request.app.name, request.scopes, request.fields(), username=username,
                            error="Wrong username or password.")
    ticket = await create_grant(services.db, Grant(
        kind="consent", app_id=request.app.id, actor_id=found[0], redirect_uri=request.redirect_uri,
        scopes=request.scopes, code_challenge=request.code_challenge, state=request.state,
    ), services.clock.time(), CODE_TTL)
    return consent_page(instance, request.app.name, request.app.website, username, request.scopes, ticket)


async def _consent(services: Services, params: Params) -> Response:
    now = services.clock.time()
    ticket = await consume_grant(services.db, "consent", params.text("ticket") or "", now)
    if ticket is None:
        return error_page("This sign-in has expired or was already used. Go back to the app and start again.")
    if params.text("decision") != "approve":
        return redirect_with(ticket.redirect_uri, {
            "error": "access_denied", "error_description": "The resource owner denied the request.",
            "state": ticket.state})
    code = await create_grant(services.db, Grant(
        kind="code", app_id=ticket.app_id, actor_id=ticket.actor_id, redirect_uri=ticket.redirect_uri,
        scopes=ticket.scopes, code_challenge=ticket.code_challenge, state=None), now, CODE_TTL)
    if ticket.redirect_uri == OOB:
        return oob_page(code)
    return redirect_with(ticket.redirect_uri, {"code": code, "state": ticket.state})


# --- /oauth/token ---------------------------------------------------------------------------------------

async def _client(services: Services, request: Request, params: Params) -> OAuthApp:
    """The client, authenticated by HTTP Basic (client_secret_basic) or form fields (client_secret_post)."""
    client_id, secret = params.text("client_id"), params.text("client_secret")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = None
    app = await check_client(services.db, client_id, secret) if client_id and secret else None
    if app is None:
        raise OAuthError("invalid_client", "Client authentication failed due to unknown client, no client "
                         "authentication included, or unsupported authentication method.", 401)
    return app


def _pkce_ok(challenge: str | None, verifier: str | None) -> bool:
    if challenge is None:
        return True   # Mastodon: PKCE is optional for confidential clients
    if verifier is None or not 43 <= len(verifier) <= 128:
        return False
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    return hmac.compare_digest(digest.rstrip(b"=").decode("ascii"), challenge)


def _requested(app_scopes: tuple[str, ...], params: Params, default: tuple[str, ...]) -> tuple[str, ...]:
    scopes = parse_scopes(params.text("scope")) if params.text("scope") else default
    if scopes is None or not covers(app_scopes, scopes):
        raise OAuthError("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
    return scopes


async def _grant_scopes(services: Services, app: OAuthApp, params: Params,
                        address: str) -> tuple[int | None, tuple[str, ...]]:
    """(member id or None, scopes) for the grant in `params`; OAuthError when it is not good."""
    grant_type = params.text("grant_type")
    now = services.clock.time()
    if grant_type == "authorization_code":
        grant = await consume_grant(services.db, "code", params.text("code") or "", now)
        if grant is None or grant.app_id != app.id or (params.text("redirect_uri") or grant.redirect_uri) != \
                grant.redirect_uri or not _pkce_ok(grant.code_challenge, params.text("code_verifier")):
            raise _invalid_grant()
        return grant.actor_id, grant.scopes
    if grant_type == "client_credentials":
        return None, _requested(app.scopes, params, ("read",))
    if grant_type == "password" and services.config.oauth.password_grant:
        await enforce(services, SIGN_IN, address)
        found = await member_password(services.db, (params.text("username") or "").strip().lower())
        ok = await asyncio.to_thread(verify_password, found[1] if found else None, params.text("password") or "")
        if found is None or not ok:
            raise _invalid_grant()
        return found[0], _requested(app.scopes, params, ("read",))
    if grant_type == "refresh_token":
        old = await find_refresh(services.db, params.text("refresh_token") or "", now)
        if old is None or old.app_id != app.id:
            raise _invalid_grant()
        scopes = _requested(old.scopes, params, old.scopes)
        await revoke_token(services.db, old.id, now)   # rotation: the old pair stops working
        return old.actor_id, scopes
    raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported.")


async def _token(services: Services, request: Request) -> Response:
    params = await read_params(request)
    app = await _client(services, request, params)
    actor_id, scopes = await _grant_scopes(services, app, params, client_address(request))
    if actor_id is not None:
        actor = await get_actor_by_id(services.db, actor_id)
        if actor is None or actor.removed_at is not None:
            raise _invalid_grant()
    issued = await issue_token(services.db, actor_id=actor_id, app_id=app.id, scopes=scopes,
                               now=services.clock.time(), refresh=actor_id is not None)
    body: dict[str, object] = {"access_token": issued.access_token, "token_type": "Bearer",
                               "scope": " ".join(issued.scopes), "created_at": int(issued.created_at)}
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return json_response(body, headers=_NO_STORE)


async def _revoke(services: Services, request: Request) -> Response:
    params = await read_params(request)
    app = await _client(services, request, params)
    token = await token_row_by_secret(services.db, params.text("token") or "")
    if token is not None:
        if token.app_id != app.id:
            raise OAuthError("unauthorized_client", "You are not authorized to revoke this token", 403)
        await revoke_token(services.db, token.id, services.clock.time())
    return json_response({})


def oauth_routes(services: Services) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        params = await read_params(request)
        try:
            if request.method == "POST" and params.text("step") == "consent":
                return await _consent(services, params)
            checked = await _authorize_request(services, params)
            if isinstance(checked, Response):
                return checked
            if request.method == "POST":
                await enforce(services, SIGN_IN, client_address(request))
                return await _sign_in(services, checked, params)
            return sign_in_page(services.config.instance.name, checked.app.name, checked.scopes, checked.fields())
        except PageError as exc:
            return error_page(str(exc))
        except ApiError as exc:
            return error_page(exc.message, exc.status)

    async def token(request: Request) -> Response:
        try:
            return await _token(services, request)
        except ApiError as exc:
            return exc.response()

    async def revoke(request: Request) -> Response:
        try:
            return await _revoke(services, request)
        except ApiError as exc:
            return exc.response()

    return [
        Route("/oauth/authorize", authorize, methods=["GET", "POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/revoke", revoke, methods=["POST"]),
    ]

