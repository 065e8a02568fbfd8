"""Community routes: thread context collections, moderators collections (issue 4)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fediverse_learn.services import Services

__all__ = ["community_routes"]


def community_routes(services: Services) -> list[BaseRoute]:
    return []
