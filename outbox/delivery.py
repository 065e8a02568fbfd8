"""The delivery worker: claims due deliveries with a lease, signs at send time, retries with backoff."""

from __future__ import annotations

from fediverse_learn.services import Services

__all__ = ["DeliveryWorker"]


class DeliveryWorker:
    name = "delivery"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def step(self) -> int:
        return 0
