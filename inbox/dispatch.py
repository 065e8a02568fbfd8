"""The flat dispatch table: (activity type, object type) -> one small handler."""

from __future__ import annotations

import logging

from fediverse_learn.converters import ACTOR_TYPES, NOTE_TYPES
from fediverse_learn.services import Services
from fediverse_learn.vocab import types_of
from inbox.handlers.community import handle_announced_removal, handle_relayed_create
from inbox.handlers.community_moderation import (
    handle_add,
    handle_block_or_ban,
    handle_lock,
    handle_remove,
    handle_undo_moderation,
)
from inbox.handlers.create import handle_create
from inbox.handlers.delete import handle_delete
from inbox.handlers.flag import handle_flag
from inbox.handlers.follow import handle_accept, handle_follow, handle_reject
from inbox.handlers.move import handle_move
from inbox.handlers.reactions import handle_announce, handle_like
from inbox.handlers.undo import handle_undo
from inbox.handlers.update import handle_update, handle_update_actor, handle_update_note
from inbox.incoming import Handler, Incoming

__all__ = ["HANDLERS", "dispatch"]

log = logging.getLogger(__name__)

# Keys: (activity type, object type) or (activity type, "*") as a fallback.
# A "*" entry also takes objects given as a bare id; the handler fetches or looks up what it needs.
HANDLERS: dict[tuple[str, str], Handler] = {
    ("Follow", "*"): handle_follow,
    ("Accept", "*"): handle_accept,
    ("Reject", "*"): handle_reject,
    ("Undo", "Block"): handle_undo_moderation,   # a community ban is lifted; any other Block as usual
    ("Undo", "Lock"): handle_undo_moderation,
    ("Undo", "*"): handle_undo,
    ("Create", "*"): handle_create,           # Note, Article, Page, Question; other types are ignored
    **{("Update", kind): handle_update_note for kind in NOTE_TYPES},
    **{("Update", kind): handle_update_actor for kind in ACTOR_TYPES},
    ("Update", "*"): handle_update,
    ("Delete", "*"): handle_delete,
    ("Like", "*"): handle_like,
    ("Announce", "Create"): handle_relayed_create,     # a community relays a post (FEP-1b12)
    ("Announce", "Delete"): handle_announced_removal,
    ("Announce", "Remove"): handle_announced_removal,
    ("Announce", "*"): handle_announce,
    ("Block", "*"): handle_block_or_ban,                # with a community of ours as target: a ban
    ("Lock", "*"): handle_lock,
    ("Add", "*"): handle_add,
    ("Remove", "*"): handle_remove,
    ("Flag", "*"): handle_flag,
    ("Move", "*"): handle_move,
}


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
