"""Rate limits of the client API with Mastodon's `X-RateLimit-*` headers and 429 answers."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request

from fediverse_learn.api.errors import ApiError
from fediverse_learn.services import Services
from fediverse_learn.store.api_limits import hit

__all__ = ["SIGN_IN", "Limit", "client_address", "enforce"]


class Limit:
    def __init__(self, bucket: str, limit: int, window: float) -> None:
        self.bucket, self.limit, self.window = bucket, limit, window


SIGN_IN = Limit("sign_in", 25, 300.0)     # password attempts per address in five minutes (Mastodon: 25/5 min)


def client_address(request: Request) -> str:
    """The caller's address (uvicorn applies X-Forwarded-For from the trusted proxy)."""
    return request.client.host if request.client is not None else "unknown"


async def enforce(services: Services, limit: Limit, subject: str) -> None:
    """Count a request; raise 429 with Mastodon's headers once the window is used up."""
    allowance = await hit(services.db, limit.bucket, subject, limit=limit.limit, window=limit.window,
                          now=services.clock.time())
    if not allowance.allowed:
        reset = datetime.fromtimestamp(allowance.reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        raise ApiError(429, "Too many requests", {
            "x-ratelimit-limit": str(allowance.limit), "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset,
            "retry-after": str(max(1, int(allowance.reset_at - services.clock.time())))})
