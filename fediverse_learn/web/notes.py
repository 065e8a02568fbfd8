"""Note routes: each note by content negotiation (AS2 or HTML), its replies/likes/shares collections."""

from __future__ import annotations

from starlette.routing import Route

from fediverse_learn.services import Services

__all__ = ["note_routes"]


def note_routes(services: Services) -> list[Route]:
    return []
