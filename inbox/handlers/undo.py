"""Undo of Follow, Like, Announce and Block, looked up by (uri, actor); early ones are remembered."""

from __future__ import annotations

import logging

from fediverse_learn.services import Services
from fediverse_learn.store.blocks import remove_block, remove_block_by_activity
from fediverse_learn.store.db import Transaction
from fediverse_learn.store.follows import delete_follow, get_follow, list_following
from fediverse_learn.store.notifications import withdraw_notifications
from fediverse_learn.store.objects import record_early_undo
from fediverse_learn.store.reactions import remove_reaction, remove_reaction_by_activity
from fediverse_learn.vocab import http_url, id_of, types_of
from inbox.handlers.common import embedded_object, object_uri
from inbox.incoming import Incoming, Reject

__all__ = ["handle_undo"]

log = logging.getLogger(__name__)

_REACTIONS = {"Like": "like", "Announce": "announce"}


async def handle_undo(services: Services, incoming: Incoming) -> None:
    """Remove what the undone activity did, only if the Undo's actor did it (SECURITY.md b.5.3)."""
    actor = incoming.actor_uri
    target_id = object_uri(incoming.activity)
    obj = embedded_object(incoming.activity)
    if obj is not None and id_of(obj.get("actor")) not in (None, actor):
        raise Reject(f"{actor} may not undo {target_id}, an activity of {id_of(obj.get('actor'))}")
    kinds = types_of(obj) if obj is not None else ()
    target = http_url(id_of(obj.get("object"))) if obj is not None else None
    now = services.clock.time()
    async with services.db.transaction() as tx:
        kind: str | None = None
        if "Follow" in kinds:
            done = await _undo_follow(tx, actor, target_id, target)
        elif kind := next((_REACTIONS[k] for k in kinds if k in _REACTIONS), None):
            done = await _undo_reaction(tx, kind, actor, target_id, target)
        elif "Block" in kinds:
            done = await _undo_block(tx, actor, target_id, target)
        elif not kinds:
            done = await _undo_reference(tx, actor, target_id)
        else:
            log.info("Undo of a %s: ignored", "/".join(kinds)[:40])
            return
        if done:
            notified = {"like": "favourite", "announce": "reblog"}.get(kind or "") if "Follow" not in kinds else None
            await withdraw_notifications(tx, actor, target_id, type=notified, object_uri=target)
        else:
            # Nothing to undo yet: if the activity arrives late, it is dropped (SECURITY.md c.4).
            await record_early_undo(tx, target_id, actor, now)
            log.info("Undo of %s by %s before it arrived: remembered", target_id, actor)


async def _undo_follow(tx: Transaction, actor: str, follow_id: str, followee: str | None) -> bool:
    """The follow of `followee` by `actor`; or, without an embedded object, the one made by `follow_id`."""
    if followee is not None:
        return await delete_follow(tx, actor, followee)
    for state in ("accepted", "pending"):
        for candidate in await list_following(tx, actor, state):
            follow = await get_follow(tx, actor, candidate)
            if follow is not None and follow.activity_uri == follow_id:
                return await delete_follow(tx, actor, candidate)
    return False


async def _undo_reaction(tx: Transaction, kind: str, actor: str, activity_uri: str, note: str | None) -> bool:
    if await remove_reaction_by_activity(tx, activity_uri, actor) is not None:
        return True
    # Some servers send an Undo whose embedded Like has a fresh id: match by (actor, note) instead.
    return note is not None and await remove_reaction(tx, kind, actor, note)


async def _undo_block(tx: Transaction, actor: str, block_id: str, target: str | None) -> bool:
    if await remove_block_by_activity(tx, block_id, actor):
        return True
    return target is not None and await remove_block(tx, actor, target)


async def _undo_reference(tx: Transaction, actor: str, target_id: str) -> bool:
    """A bare id: try each kind of activity we keep, always scoped to the Undo's actor."""
    if await remove_reaction_by_activity(tx, target_id, actor) is not None:
        return True
    if await remove_block_by_activity(tx, target_id, actor):
        return True
    return await _undo_follow(tx, actor, target_id, None)
