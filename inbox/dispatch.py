"""The flat dispatch table: (activity type, object type) -> one small handler."""

from __future__ import annotations

import logging

from fediverse_learn.services import Services
from fediverse_learn.vocab import types_of
from inbox.incoming import Handler, Incoming

__all__ = ["HANDLERS", "dispatch"]

log = logging.getLogger(__name__)

# Keys: (activity type, object type) or (activity type, "*") as a fallback.
HANDLERS: dict[tuple[str, str], Handler] = {}


async def dispatch(services: Services, incoming: Incoming) -> None:
    """Run the handler for this activity; unknown combinations are logged and ignored."""
    activity = incoming.activity
    kinds = types_of(activity)
    obj = activity.get("object")
    obj_kinds = types_of(obj) if isinstance(obj, dict) else ()
    for kind in kinds:
        for obj_kind in (*obj_kinds, "*"):
            handler = HANDLERS.get((kind, obj_kind))
            if handler is not None:
                await handler(services, incoming)
                return
    log.info("ignored %s %s from %s", "/".join(kinds), activity.get("id"), incoming.actor_uri)
