"""Sign-up through the client API: Mastodon's `POST /api/v1/accounts`, called with an app token
(client_credentials) under `[instance] registrations` (closed, invite, approval, open)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.auth import authenticate
from fediverse_learn.api.errors import ApiError, api_view, json_response
from fediverse_learn.api.params import Params, read_params
from fediverse_learn.errors import InvalidName, NameTaken
from fediverse_learn.names import RESERVED_NAMES, validate_name
from fediverse_learn.passwords import MAX_PASSWORD, MIN_PASSWORD
from fediverse_learn.registrations import InviteInvalid, RegistrationError, RegistrationsClosed, register
from fediverse_learn.services import Services
from fediverse_learn.store.oauth import get_app, issue_token

__all__ = ["registration_routes"]

_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
_MAX_EMAIL = 320


def _detail(code: str, description: str) -> list[dict[str, str]]:
    return [{"error": code, "description": description}]


def _validation_failed(details: dict[str, list[dict[str, str]]]) -> ApiError:
    """Mastodon's 422: `{"error": "Validation failed: ...", "details": {field: [{error, description}]}}`."""
    parts = [f"{field.replace('_', ' ').capitalize()} {d['description']}" for field, ds in details.items() for d in ds]
    error = ApiError(422, f"Validation failed: {', '.join(parts)}")
    error.extra = {"details": details}   # type: ignore[dict-item]  # ApiError's extras are JSON values
    return error


def _check(params: Params) -> dict[str, list[dict[str, str]]]:
    """The problems Mastodon reports per field, before anything is stored."""
    details: dict[str, list[dict[str, str]]] = {}
    username = (params.text("username") or "").strip()
    if not username:
        details["username"] = _detail("ERR_BLANK", "can't be blank")
    elif username.lower() in RESERVED_NAMES:
        details["username"] = _detail("ERR_RESERVED", "is reserved")
    else:
        try:
            validate_name(username)
        except InvalidName:
            details["username"] = _detail("ERR_INVALID", "must contain only a-z, 0-9 and _ (1 to 30 characters)")
    email = (params.text("email") or "").strip()
    if email and ("@" not in email or any(c.isspace() for c in email) or len(email) > _MAX_EMAIL):
        details["email"] = _detail("ERR_INVALID", "is invalid")
    password = params.text("password") or ""
    if not password:
        details["password"] = _detail("ERR_BLANK", "can't be blank")
    elif len(password) < MIN_PASSWORD:
        details["password"] = _detail("ERR_TOO_SHORT", f"is too short (minimum is {MIN_PASSWORD} characters)")
    elif len(password) > MAX_PASSWORD:
        details["password"] = _detail("ERR_TOO_LONG", f"is too long (maximum is {MAX_PASSWORD} characters)")
    if not params.flag("agreement"):
        details["agreement"] = _detail("ERR_ACCEPTED", "must be accepted")
    return details


async def _create(services: Services, request: Request) -> Response:
    params = await read_params(request)
    auth = await authenticate(services, request, ("write:accounts",), member=False, params=params)
    if services.config.instance.registrations == "closed":
        raise ApiError(403, "registrations are closed on this server")
    details = _check(params)
    if details:
        raise _validation_failed(details)
    username = (params.text("username") or "").strip()
    try:
        registration = await register(services, username, params.text("password") or "",
                                      (params.text("invite_code") or "").strip() or None,
                                      params.text("reason") or "",
                                      email=(params.text("email") or "").strip() or None)
    except RegistrationsClosed as exc:
        raise ApiError(403, str(exc)) from exc
    except InviteInvalid as exc:
        raise ApiError(403, str(exc)) from exc
    except NameTaken as exc:
        raise _validation_failed({"username": _detail("ERR_TAKEN", "has already been taken")}) from exc
    except InvalidName as exc:
        raise _validation_failed({"username": _detail("ERR_INVALID", str(exc))}) from exc
    except RegistrationError as exc:
        raise _validation_failed({"base": _detail("ERR_INVALID", str(exc))}) from exc
    app = await get_app(services.db, auth.token.app_id) if auth.token.app_id is not None else None
    scopes = app.scopes if app is not None else auth.token.scopes
    now = services.clock.time()
    if registration.actor is None:
        # Approval mode: no member exists until a moderator approves, so there is nothing to issue a token
        # for. The client gets Mastodon's Token shape without a token; the member signs in once approved.
        body: dict[str, Any] = {"access_token": None, "token_type": "Bearer", "scope": " ".join(scopes),
                                "created_at": int(now), "approval_required": True}
        return json_response(body, headers=_NO_STORE)
    issued = await issue_token(services.db, actor_id=registration.actor.id, app_id=auth.token.app_id,
                               scopes=scopes, now=now, refresh=False)
    return json_response({"access_token": issued.access_token, "token_type": "Bearer",
                          "scope": " ".join(issued.scopes), "created_at": int(issued.created_at)},
                         headers=_NO_STORE)


def registration_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def create(request: Request) -> Response:
        return await _create(services, request)

    return [Route("/api/v1/accounts", create, methods=["POST"])]
