"""The Mastodon client API (/api/v1, /api/v2) and OAuth 2, for the apps members already use."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fediverse_learn.services import Services

__all__ = ["api_routes"]


def api_routes(services: Services) -> list[BaseRoute]:
    """Every route of the client API and OAuth; assembled from the modules of this package."""
    return []
