"""Flag (a report from another server) about our members or their posts, into the moderation queue."""

from __future__ import annotations

import logging

from fediverse_learn.services import Services
from fediverse_learn.store.objects import get_note
from fediverse_learn.store.reports import add_report
from fediverse_learn.vocab import as_list, host_of, http_url, id_of, text_of
from inbox.handlers.common import activity_id, local_actor
from inbox.incoming import Incoming

__all__ = ["MAX_COMMENT", "MAX_FLAGGED", "handle_flag"]

log = logging.getLogger(__name__)

MAX_COMMENT = 5_000
MAX_FLAGGED = 100


async def handle_flag(services: Services, incoming: Incoming) -> None:
    """Queue a report about the first local actor named (or the author of the first local post named),
    with every local post named; reports about nobody of ours are ignored."""
    activity = incoming.activity
    if (await services.domain_rules()).rejects_reports(host_of(incoming.actor_uri)):
        log.info("Flag %s: reports from %s are rejected", activity.get("id"), host_of(incoming.actor_uri))
        return
    uris = [u for item in as_list(activity.get("object"))[:MAX_FLAGGED] if (u := http_url(id_of(item)))]
    target: str | None = None
    notes: list[str] = []
    for uri in uris:
        if not services.uris.is_local(uri):
            continue
        if await local_actor(services, uri, include_removed=True) is not None:
            target = target or uri
            continue
        note = await get_note(services.db, uri)
        if note is not None and note.is_local:
            notes.append(uri)
            target = target or note.author_uri
    if target is None:
        log.info("Flag %s names none of our actors or posts: ignored", activity.get("id"))
        return
    comment = (text_of(activity.get("content"), activity.get("contentMap")) or "").strip()[:MAX_COMMENT]
    async with services.db.transaction() as tx:
        report_id = await add_report(tx, activity_uri=activity_id(incoming), reporter_uri=incoming.actor_uri,
                                     target_uri=target, object_uris=notes, comment=comment,
                                     now=services.clock.time())
    if report_id is not None:
        log.info("report %d from %s about %s", report_id, incoming.actor_uri, target)
