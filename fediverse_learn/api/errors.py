"""Errors of the client API in Mastodon's shape, `{"error": "..."}` with its statuses, and the view wrapper
that maps our exceptions to them."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from fediverse_learn.errors import DomainBlocked, FetchError, NotFound, ValidationError
from outbox.c2s import Forbidden

__all__ = [
    "JSON",
    "ApiError",
    "View",
    "api_view",
    "bad_request",
    "json_response",
    "not_found",
    "unprocessable",
]

log = logging.getLogger(__name__)

View = Callable[[Request], Awaitable[Response]]


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSON(content, status_code=status, headers=headers)


class ApiError(Exception):
    """Answer the request with this status and `{"error": message}` (plus `extra` fields)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None,
                 **extra: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> Response:
        return json_response({"error": self.message, **self.extra}, self.status, self.headers)


def not_found() -> ApiError:
    return ApiError(404, "Record not found")


def unprocessable(message: str) -> ApiError:
    return ApiError(422, f"Validation failed: {message}")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def api_view(view: View) -> View:
    """Map what a view raises to Mastodon's statuses: ours (ApiError), a missing record (404), a refused action
    (403), an invalid request (422), a remote server that failed us (502) or refused by policy (403)."""

    @functools.wraps(view)
    async def wrapped(request: Request) -> Response:
        try:
            return await view(request)
        except ApiError as exc:
            return exc.response()
        except NotFound:
            return not_found().response()
        except Forbidden as exc:
            return ApiError(403, str(exc)).response()
        except ValidationError as exc:
            return unprocessable(str(exc)).response()
        except DomainBlocked as exc:
            return ApiError(403, str(exc)).response()
        except FetchError as exc:
            log.info("%s %s: remote fetch failed: %s", request.method, request.url.path, exc)
            return ApiError(502, f"a remote server failed: {exc}").response()

    return wrapped
