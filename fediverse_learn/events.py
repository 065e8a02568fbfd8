"""In-process publish/subscribe of what the streaming API tells clients: new notes, notifications, deletions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fediverse_learn.services import Services

__all__ = ["Event", "EventBus", "event_bus"]

QUEUE_SIZE = 200


@dataclass(frozen=True)
class Event:
    kind: str                # "note" (uri), "notification" (actor_id, id), "delete" (id)
    data: dict[str, Any]


class EventBus:
    """Fan-out to every subscriber's bounded queue; a subscriber too slow to keep up loses events, never blocks."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()

    def publish(self, kind: str, **data: Any) -> None:
        event = Event(kind, data)
        for queue in list(self._queues):
            if not queue.full():
                queue.put_nowait(event)

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)


def event_bus(services: Services) -> EventBus:
    """The bus of one Services (one per running app)."""
    return services.events
