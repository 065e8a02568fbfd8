"""Block of a local member by a remote actor: recorded, and follows both ways removed."""

from __future__ import annotations

import logging

from fediverse_learn.services import Services
from fediverse_learn.store.blocks import add_block
from fediverse_learn.store.follows import delete_follow
from fediverse_learn.store.objects import pop_early_undo
from inbox.handlers.common import activity_id, local_actor, object_uri
from inbox.incoming import Incoming

__all__ = ["handle_block"]

log = logging.getLogger(__name__)


async def handle_block(services: Services, incoming: Incoming) -> None:
    """Record the block; neither side follows the other afterwards. Blocks of anyone else are ignored."""
    target_uri = object_uri(incoming.activity)
    member = await local_actor(services, target_uri, include_removed=True)
    if member is None:
        log.info("Block of %s, not one of our actors: ignored", target_uri)
        return
    block_id = activity_id(incoming)
    blocker = incoming.actor_uri
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if await pop_early_undo(tx, block_id, blocker):
            log.info("Block %s was undone before it arrived: dropped", block_id)
            return
        await add_block(tx, blocker, target_uri, block_id, now)
        await delete_follow(tx, blocker, target_uri)
        await delete_follow(tx, target_uri, blocker)
    log.info("%s blocks %s", blocker, member.name)
