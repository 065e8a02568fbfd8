"""Rate limits of the client API and OAuth endpoints, with Mastodon's `X-RateLimit-*` headers and 429 answers:
the table of limits, the middleware that counts every write, and `enforce` for limits counted inside a view."""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fediverse_learn.api.auth import COUNT_ACTIONS, bearer_token
from fediverse_learn.api.errors import ApiError
from fediverse_learn.services import Services
from fediverse_learn.store.api_limits import Allowance, Counter, hit, hit_all, prune, unhit
from fediverse_learn.store.oauth import find_token

__all__ = ["ACTIONS", "DELETES", "FOLLOWS", "LIMITS", "PER_ADDRESS", "PER_TOKEN", "REPORTS", "SIGN_IN", "SIGN_UP",
           "STATUSES", "ApiLimits", "Limit", "client_address", "enforce", "rate_limit_headers"]

MINUTE, HOUR = 60.0, 3600.0


@dataclass(frozen=True)
class Limit:
    bucket: str
    limit: int
    window: float

    def counter(self, subject: str) -> Counter:
        return Counter(self.bucket, subject, self.limit, self.window)


# Every limit, with Mastodon's numbers (config/initializers/rack_attack.rb, app/lib/rate_limiter.rb). Windows are
# fixed and aligned to the epoch, as Mastodon's are.
#                                                           per         counts
SIGN_IN = Limit("sign_in", 25, 5 * MINUTE)                  # address   password attempts (oauth.py)
PER_TOKEN = Limit("writes_token", 300, 5 * MINUTE)          # token     writes to /api/ with a token
PER_ADDRESS = Limit("writes_address", 300, 5 * MINUTE)      # address   other writes to /api/ and /oauth/
SIGN_UP = Limit("sign_up", 5, 30 * MINUTE)                  # address   POST /api/v1/accounts
STATUSES = Limit("statuses", 300, 3 * HOUR)                 # account   statuses posted, edited, boosted
DELETES = Limit("deletes", 30, 30 * MINUTE)                 # account   statuses deleted, boosts undone
FOLLOWS = Limit("follows", 400, 24 * HOUR)                  # account   follows
REPORTS = Limit("reports", 400, 24 * HOUR)                  # account   reports
LIMITS = (SIGN_IN, PER_TOKEN, PER_ADDRESS, SIGN_UP, STATUSES, DELETES, FOLLOWS, REPORTS)

# The per-account actions: (method, path, limit). Only those that succeed (2xx) stay counted, as with Mastodon's
# RateLimiter, so a client that gets a 422 is not locked out for hours.
ACTIONS: tuple[tuple[str, re.Pattern[str], Limit], ...] = (
    ("POST", re.compile(r"/api/v1/statuses/?"), STATUSES),
    ("PUT", re.compile(r"/api/v1/statuses/[^/]+"), STATUSES),
    ("POST", re.compile(r"/api/v1/statuses/[^/]+/reblog"), STATUSES),
    ("DELETE", re.compile(r"/api/v1/statuses/[^/]+"), DELETES),
    ("POST", re.compile(r"/api/v1/statuses/[^/]+/unreblog"), DELETES),
    ("POST", re.compile(r"/api/v1/accounts/[^/]+/follow"), FOLLOWS),
    ("POST", re.compile(r"/api/v1/reports/?"), REPORTS),
)

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PREFIXES = ("/api/", "/oauth/")
# Endpoints that need no token: a made-up bearer token must not move their requests out of the address's count.
_BY_ADDRESS = re.compile(r"/oauth/.*|/api/v1/apps/?")

_SIGN_UP = re.compile(r"/api/v1/accounts/?")
PRUNE_EVERY = 5 * MINUTE


def client_address(request: Request) -> str:
    """The caller's address as limits count it (uvicorn applies X-Forwarded-For from the trusted proxy); an IPv6
    address by its /64, which one host usually holds whole (as Mastodon's `throttleable_remote_ip`)."""
    host = request.client.host if request.client is not None else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return host


def _reset_text(reset_at: float) -> str:
    """ISO 8601 in UTC with milliseconds, as Mastodon's `X-RateLimit-Reset`."""
    return datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def rate_limit_headers(allowance: Allowance) -> dict[str, str]:
    return {"x-ratelimit-limit": str(allowance.limit), "x-ratelimit-remaining": str(allowance.remaining),
            "x-ratelimit-reset": _reset_text(allowance.reset_at)}


def _too_many(allowance: Allowance, now: float) -> ApiError:
    return ApiError(429, "Too many requests", {
        **rate_limit_headers(allowance), "x-ratelimit-remaining": "0",
        "retry-after": str(max(1, math.ceil(allowance.reset_at - now)))})


def _tightest(allowances: list[Allowance]) -> Allowance:
    """The one with the fewest requests left; on a tie the later (more specific) one."""
    return min(reversed(allowances), key=lambda a: a.remaining)


async def enforce(services: Services, limit: Limit, subject: str) -> None:
    """Count a request; raise 429 with Mastodon's headers once the window is used up."""
    now = services.clock.time()
    allowance = await hit(services.db, limit.bucket, subject, limit=limit.limit, window=limit.window, now=now)
    if not allowance.allowed:
        raise _too_many(allowance, now)


class ApiLimits:
    """Counts each write (POST, PUT, PATCH, DELETE) to /api/ and /oauth/: per valid token (by its hash), else per
    address (a made-up token too), per address for sign-ups, and per account for the actions above (a token
    sent in the body is counted by `authenticate` through COUNT_ACTIONS). Over a limit: 429
    `{"error": "Too many requests"}`; otherwise the response gets the headers of the tightest limit. Reads,
    websockets and other paths pass untouched. Pure ASGI."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self._next_prune = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in _WRITES
                or not str(scope["path"]).startswith(_PREFIXES)):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        db, now = self.services.db, self.services.clock.time()
        await self._prune(now)
        path = str(scope["path"])
        token = None if _BY_ADDRESS.fullmatch(path) else bearer_token(request)
        info = await find_token(db, token, now) if token is not None else None   # made-up: counted by address
        general = await hit_all(db, _general_counters(request, token if info is not None else None), now)
        refused = next((a for a in general if not a.allowed), None)
        limits = [limit for m, pattern, limit in ACTIONS if m == request.method and pattern.fullmatch(path)]
        actions: list[Allowance] = []
        if refused is None and limits and info is not None and info.actor_id is not None:
            refused = await self._count_actions(limits, info.actor_id, now, actions)
        elif refused is None and limits and token is None:
            # A token in the form or JSON body is only known to the view: `authenticate` counts it there.
            async def count(actor_id: int) -> None:
                stopped = await self._count_actions(limits, actor_id, self.services.clock.time(), actions)
                if stopped is not None:
                    raise _too_many(stopped, self.services.clock.time())
            scope[COUNT_ACTIONS] = count
        if refused is not None:
            await _too_many(refused, now).response()(scope, receive, send)
            return
        await self._pass(scope, receive, send, general, actions)

    async def _count_actions(self, limits: list[Limit], actor_id: int, now: float,
                             into: list[Allowance]) -> Allowance | None:
        """Count the per-account actions; the refused allowance (nothing stays counted) or None."""
        allowances = await hit_all(self.services.db, [limit.counter(str(actor_id)) for limit in limits], now)
        refused = next((a for a in allowances if not a.allowed), None)
        if refused is not None:
            await unhit(self.services.db, allowances)
        else:
            into.extend(allowances)
        return refused

    async def _pass(self, scope: Scope, receive: Receive, send: Send, general: list[Allowance],
                    actions: list[Allowance]) -> None:
        """Run the app; add the headers; take back the actions' counts unless they succeeded."""
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                done = 200 <= int(message["status"]) < 300
                if actions and not done:
                    await unhit(self.services.db, actions)
                raw = list(message.get("headers", []))
                if not any(k.lower() == b"x-ratelimit-limit" for k, _ in raw):   # a view's own limit is tighter
                    shown = _tightest(general + actions if done else general)
                    raw += [(k.encode(), v.encode()) for k, v in rate_limit_headers(shown).items()]
                message = {**message, "headers": raw}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except BaseException:
            if actions and not started:
                await unhit(self.services.db, actions)
            raise

    async def _prune(self, now: float) -> None:
        """Every few minutes, drop the counters of windows that have ended (a row per token and address would
        otherwise stay forever)."""
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY
            await prune(self.services.db, {limit.bucket: limit.window for limit in LIMITS}, now)


def _general_counters(request: Request, token: str | None) -> list[Counter]:
    """Per token (a valid one's hash), else per address; and sign-ups per address."""
    path = str(request.scope["path"])
    address = client_address(request)
    counters = [PER_TOKEN.counter(hashlib.sha256(token.encode()).hexdigest()) if token is not None
                else PER_ADDRESS.counter(address)]
    if request.method == "POST" and _SIGN_UP.fullmatch(path):
        counters.append(SIGN_UP.counter(address))
    return counters
