"""Who is calling the client API: bearer tokens (header, `access_token` query or form) and scope checks."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from fediverse_learn.api.errors import ApiError
from fediverse_learn.api.params import Params
from fediverse_learn.api.scopes import expand
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor_by_id
from fediverse_learn.store.oauth import TokenInfo, find_token

__all__ = ["COUNT_ACTIONS", "Auth", "Scope", "authenticate", "bearer_token", "optional_auth"]

COUNT_ACTIONS = "fediverse_learn.count_actions"
"""Scope key the rate limits (api/limits.py) set for a counted action whose token they could not see (sent in
the body): `authenticate` calls it with the member's id; it raises the 429 when over the limit."""

Scope = str | tuple[str, ...] | None
"""The scope an endpoint needs: one granular scope, any of several, or None (any valid token)."""

_INVALID = 'Bearer realm="fediverse-learn", error="invalid_token", error_description="The access token is invalid"'


@dataclass(frozen=True)
class Auth:
    token: TokenInfo
    actor: LocalActor | None        # None for an app token (client_credentials)
    scopes: frozenset[str]          # expanded: `read` brings every `read:*`

    @property
    def member(self) -> LocalActor:
        if self.actor is None:
            raise ApiError(422, "This method requires an authenticated user")
        return self.actor


def bearer_token(request: Request, params: Params | None = None) -> str | None:
    """The token of a request: `Authorization: Bearer`, else an `access_token` parameter."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    found = request.query_params.get("access_token")
    if not found and params is not None:
        found = params.text("access_token")
    return found or None


def _invalid() -> ApiError:
    return ApiError(401, "The access token is invalid", {"www-authenticate": _INVALID})


def _check_scope(scopes: frozenset[str], scope: Scope) -> None:
    wanted = (scope,) if isinstance(scope, str) else scope or ()
    if wanted and not any(s in scopes for s in wanted):
        raise ApiError(403, "This action is outside the authorized scopes")


async def _resolve(services: Services, token: str, scope: Scope, member: bool) -> Auth:
    info = await find_token(services.db, token, services.clock.time())
    if info is None:
        raise _invalid()
    actor = await get_actor_by_id(services.db, info.actor_id) if info.actor_id is not None else None
    if info.actor_id is not None and (actor is None or actor.removed_at is not None):
        raise _invalid()
    auth = Auth(info, actor, expand(info.scopes))
    _check_scope(auth.scopes, scope)
    if member:
        auth.member   # noqa: B018 -- raises 422 for app tokens
    return auth


async def authenticate(services: Services, request: Request, scope: Scope, *, member: bool = True,
                       params: Params | None = None) -> Auth:
    """A valid token with `scope` (401 without one, 403 with too few scopes); `member`: of a member (422)."""
    token = bearer_token(request, params)
    if token is None:
        raise _invalid()
    auth = await _resolve(services, token, scope, member)
    count = request.scope.get(COUNT_ACTIONS)
    if count is not None and auth.actor is not None:
        await count(auth.actor.id)
    return auth


async def optional_auth(services: Services, request: Request, scope: Scope,
                        params: Params | None = None) -> Auth | None:
    """For public endpoints: no token is fine (None); a token given must be valid and have `scope`."""
    token = bearer_token(request, params)
    if token is None:
        return None
    return await _resolve(services, token, scope, member=False)
