"""The inbox worker: claims queued activities with a lease and runs their handlers."""

from __future__ import annotations

from fediverse_learn.services import Services

__all__ = ["InboxWorker"]


class InboxWorker:
    name = "inbox"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def step(self) -> int:
        return 0
