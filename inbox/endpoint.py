"""The inbox endpoints (shared /inbox, per-actor inboxes): verify, check, store durably, answer 202."""

from __future__ import annotations

from starlette.routing import Route

from fediverse_learn.services import Services

__all__ = ["inbox_routes"]


def inbox_routes(services: Services) -> list[Route]:
    return []
