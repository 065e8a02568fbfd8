"""Publishing a local activity: resolve its audience, store it, queue one delivery per inbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.db import Transaction
from fediverse_learn.store.deliveries import enqueue_deliveries
from fediverse_learn.store.inbox_queue import enqueue_incoming_tx
from fediverse_learn.store.notes_query import StoredActivity, insert_activity
from fediverse_learn.vocab import as_list, id_of, is_public, types_of
from outbox.audience import Audience, actor_uri_of, resolve_audience, without_private_fields

__all__ = ["Audience", "kick_workers", "publish", "publish_tx", "resolve_audience"]

log = logging.getLogger(__name__)


def _row_id(services: Services, activity_uri: str, now: float) -> int:
    """The numeric id in our activity URL (/users/{name}/activities/{id}); a fresh one for other forms."""
    ref = services.uris.parse(activity_uri)
    if ref is not None and ref.kind == "activities" and ref.object_id is not None and ref.collection is None:
        return ref.object_id
    return services.ids.next(now)


async def publish_tx(tx: Transaction, services: Services, actor: LocalActor, activity: dict[str, Any],
                     audience: Audience) -> None:
    """Inside the caller's transaction: store the activity, one delivery row per inbox, local copies.

    `bto`/`bcc` are used for the audience (already resolved) and never stored, served or delivered."""
    now = services.clock.time()
    uri = activity["id"]
    document = without_private_fields(activity)
    body = orjson.dumps(document)
    kind = types_of(activity)[0] if types_of(activity) else "Activity"
    public = any(is_public(a) for field in ("to", "cc") for a in as_list(activity.get(field)))
    await insert_activity(tx, StoredActivity(
        id=_row_id(services, uri, now), uri=uri, actor_id=actor.id, type=kind,
        object_uri=id_of(activity.get("object")), public=public, document=document, published=now,
    ))
    queued = await enqueue_deliveries(tx, uri, actor.id, audience.inboxes, body, now)
    if audience.local:
        await enqueue_incoming_tx(tx, uri, actor_uri_of(services.uris, actor), None, body, now)
    log.info("published %s %s: %d deliveries, %d local recipients", kind, uri, queued, len(audience.local))


def kick_workers(services: Services) -> None:
    """Wake the delivery and inbox workers once a publishing transaction has committed."""
    services.kick("delivery")
    services.kick("inbox")


async def publish(services: Services, actor: LocalActor, activity: dict[str, Any],
                  extra_inboxes: Sequence[str] = ()) -> None:
    audience = await resolve_audience(services, actor, activity, extra_inboxes)
    async with services.db.transaction() as tx:
        await publish_tx(tx, services, actor, activity, audience)
    kick_workers(services)
