"""The one place that maps our exceptions to HTTP statuses and log lines."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from fediverse_learn.errors import (
    DomainBlocked,
    KeyFetchUnavailable,
    NotFound,
    SignatureError,
    ValidationError,
)
from fediverse_learn.web.responses import error_response

__all__ = ["EXCEPTION_HANDLERS"]

log = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (KeyFetchUnavailable, 503),
    (SignatureError, 401),
    (DomainBlocked, 403),
    (NotFound, 404),
    (ValidationError, 400),
)


async def _handle(request: Request, exc: Exception) -> Response:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            log.info("%s %s -> %d: %s", request.method, request.url.path, status, exc)
            response = error_response(status, str(exc))
            if status == 503:
                response.headers["retry-after"] = "60"
            return response
    raise exc


EXCEPTION_HANDLERS = {cls: _handle for cls, _ in _STATUS}
