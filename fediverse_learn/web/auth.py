"""Request authentication for the web edge: HTTP signatures on server-to-server GETs."""

from __future__ import annotations

from starlette.requests import Request

from fediverse_learn.services import Services
from fediverse_learn.verification import is_signed, verify_request

__all__ = ["signed_by"]


async def signed_by(services: Services, request: Request) -> str | None:
    """The verified signer of a GET, None when unsigned; a bad signature raises (-> 401/403/503)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    if not is_signed(headers):
        return None
    return await verify_request(services, request.method, request.url.path, request.url.query, headers, None)
