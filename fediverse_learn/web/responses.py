"""Response types and content negotiation shared by the HTTP routes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["ActivityJSONResponse", "JSONResponse", "error_response", "wants_activitypub"]

AP_MEDIA_TYPE = "application/activity+json"


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ActivityJSONResponse(JSONResponse):
    """An ActivityPub document, as Mastodon serves it."""

    media_type = AP_MEDIA_TYPE

    def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(content, status_code=status_code, headers=headers)
        self.headers["content-type"] = "application/activity+json; charset=utf-8"
        self.headers["vary"] = "Accept"


class JRDResponse(JSONResponse):
    media_type = "application/jrd+json"


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def wants_activitypub(request: Request) -> bool:
    """True when the Accept header asks for ActivityPub JSON rather than a page."""
    accept = request.headers.get("accept", "")
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in (AP_MEDIA_TYPE, "application/ld+json", "application/json"):
            return True
        if media in ("text/html", "application/xhtml+xml"):
            return False
    return False
