"""ActivityPub client-to-server: POST to a member's outbox with a bearer token; the outbox collection."""

from __future__ import annotations

from starlette.routing import Route

from fediverse_learn.services import Services

__all__ = ["outbox_routes"]


def outbox_routes(services: Services) -> list[Route]:
    return []
