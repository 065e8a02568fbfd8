"""Cross-origin access for browser clients (Elk, Phanpy...) to the client API and the OAuth token endpoints,
as Mastodon allows it: any origin, no cookies (bearer tokens only). A pure ASGI middleware."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ApiCors"]

_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/oauth-authorization-server")
_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
_EXPOSE = "Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Request-Id, Idempotency-Key"


class ApiCors:
    """Answers preflights and adds `Access-Control-Allow-Origin: *` on the API and OAuth token paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            preflight = Response(status_code=204, headers={
                "access-control-allow-origin": "*", "access-control-allow-methods": _METHODS,
                "access-control-allow-headers": headers.get("access-control-request-headers", "*"),
                "access-control-max-age": "86400"})
            await preflight(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"access-control-allow-origin"]
                raw += [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", _EXPOSE.encode())]
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, with_cors)
