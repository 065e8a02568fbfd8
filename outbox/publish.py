"""Publishing a local activity: resolve its audience, store it, queue one delivery per inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.db import Transaction

__all__ = ["Audience", "publish", "publish_tx", "resolve_audience"]


@dataclass(frozen=True)
class Audience:
    inboxes: tuple[str, ...]     # remote inbox URLs, shared inboxes deduplicated
    local: tuple[str, ...]       # names of local actors who receive the activity directly


async def resolve_audience(services: Services, actor: LocalActor, activity: dict[str, Any],
                           extra_inboxes: Sequence[str] = ()) -> Audience:
    """Who receives an activity (to/cc/bto/bcc/audience): may fetch remote actors, so never inside a tx."""
    raise NotImplementedError


async def publish_tx(tx: Transaction, services: Services, actor: LocalActor, activity: dict[str, Any],
                     audience: Audience) -> None:
    """Inside the caller's transaction: store the activity, one delivery row per inbox, local copies."""
    raise NotImplementedError


async def publish(services: Services, actor: LocalActor, activity: dict[str, Any],
                  extra_inboxes: Sequence[str] = ()) -> None:
    audience = await resolve_audience(services, actor, activity, extra_inboxes)
    async with services.db.transaction() as tx:
        await publish_tx(tx, services, actor, activity, audience)
