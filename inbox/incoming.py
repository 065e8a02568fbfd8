"""What a handler sees: a verified activity from the durable queue, and the outcomes it may signal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fediverse_learn.services import Services

__all__ = ["Handler", "Incoming", "Reject", "Retry"]


@dataclass(frozen=True)
class Incoming:
    activity: dict[str, Any]     # the raw JSON as received (compact JSON-LD, any server's shape)
    actor_uri: str               # verified: the HTTP signature's key owner, equal to activity["actor"]
    recipient: str | None        # local actor name for a personal inbox, None for the shared inbox
    queue_id: int
    attempts: int                # 1 on the first try


class Reject(Exception):
    """A permanent refusal (origin rule, policy): the queue row is parked with this reason, nothing stored."""


class Retry(Exception):
    """A transient failure (a fetch that may succeed later): the row is retried with backoff."""


Handler = Callable[[Services, Incoming], Awaitable[None]]
