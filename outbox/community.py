"""A community's announces (FEP-1b12): Announce(activity) to group-aware servers, Announce(Note) to the others.

Which follower server is group-aware is read from its NodeInfo `software.name` (cached per host for a day):
Lemmy, Mbin, PieFed, NodeBB, lotide and fediverse-learn get the member's activity wrapped unchanged; any
other server, or one whose NodeInfo cannot be read, is treated as Mastodon-style and only ever sees a boost
of each thread's top-level post. Work that may touch the network (`follower_fanout`) runs before the
transaction; the `*_tx` functions run inside the caller's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fediverse_learn.communities import is_group_aware
from fediverse_learn.documents import AS_CONTEXT, format_datetime
from fediverse_learn.errors import DomainBlocked, FetchError, ValidationError
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.communities import host_software, record_announce, recorded_announce, save_host_software
from fediverse_learn.store.db import Transaction
from fediverse_learn.store.follows import follower_inboxes
from fediverse_learn.store.notes_query import get_activity, remove_activity
from fediverse_learn.store.reactions import add_reaction, remove_reaction
from fediverse_learn.vocab import PUBLIC, as_list, host_of, same_origin
from outbox.audience import Audience
from outbox.compose import announce_activity, new_activity_uri, undo_activity
from outbox.publish import publish_tx

__all__ = [
    "NODEINFO_TTL",
    "Fanout",
    "announce_tx",
    "boost_tx",
    "follower_fanout",
    "group_aware_hosts",
    "read_software",
    "undo_boost_tx",
    "wrap_announce",
]

log = logging.getLogger(__name__)

NODEINFO_TTL = 24 * 3600.0     # a host's software is read again after a day
_NODEINFO_REL = "http://nodeinfo.diaspora.software/ns/schema/2."
_NODEINFO_ACCEPT = "application/json"
_CONCURRENT_LOOKUPS = 4
_LOOKUP_ERRORS = (FetchError, ValidationError, DomainBlocked)


@dataclass(frozen=True)
class Fanout:
    """The remote inboxes of a community's accepted followers, split by what their servers understand."""

    group_aware: tuple[str, ...]
    others: tuple[str, ...]


def _base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def read_software(services: Services, base: str) -> str:
    """The NodeInfo `software.name` of the server at `base` (scheme://host), lowercase; "" if unreadable."""
    try:
        _, index = await services.http.fetch_json(f"{base}/.well-known/nodeinfo", _NODEINFO_ACCEPT)
        hrefs = [link.get("href") for link in as_list(index.get("links"))[:10]
                 if isinstance(link, dict) and str(link.get("rel", "")).startswith(_NODEINFO_REL)]
        href = next((h for h in reversed(hrefs) if isinstance(h, str) and same_origin(h, base)), None)
        if href is None:
            return ""
        _, info = await services.http.fetch_json(href, _NODEINFO_ACCEPT)
    except _LOOKUP_ERRORS as exc:
        log.info("NodeInfo of %s not read: %s", base, exc)
        return ""
    software = info.get("software")
    name = software.get("name") if isinstance(software, dict) else None
    return name.strip().lower()[:100] if isinstance(name, str) else ""


async def group_aware_hosts(services: Services, inboxes: Iterable[str]) -> set[str]:
    """The hosts among these inboxes' that run group-aware software; unknown hosts are asked (network)."""
    bases = {host_of(inbox): _base(inbox) for inbox in inboxes}
    now = services.clock.time()
    known = await host_software(services.db, bases, now - NODEINFO_TTL)
    missing = [host for host in bases if host not in known]
    limit = asyncio.Semaphore(_CONCURRENT_LOOKUPS)

    async def look_up(host: str) -> None:
        async with limit:
            software = await read_software(services, bases[host])
        known[host] = is_group_aware(software)
        await save_host_software(services.db, host, software, known[host], services.clock.time())

    await asyncio.gather(*(look_up(host) for host in missing))
    return {host for host, aware in known.items() if aware}


async def follower_fanout(services: Services, community: LocalActor) -> Fanout:
    """Where a community's announces go: its accepted remote followers' inboxes (shared inboxes once), our
    own host and blocked hosts left out, split by group awareness. May fetch NodeInfo: never in a transaction."""
    inboxes: list[str] = []
    for inbox in await follower_inboxes(services.db, services.uris.actor(community.name)):
        if services.uris.is_local(inbox) or not await services.host_allowed(host_of(inbox)):
            continue
        inboxes.append(inbox)
    aware = await group_aware_hosts(services, inboxes)
    return Fanout(group_aware=tuple(i for i in inboxes if host_of(i) in aware),
                  others=tuple(i for i in inboxes if host_of(i) not in aware))


def wrap_announce(services: Services, community: LocalActor, inner: dict[str, Any], *,
                  context: str | None = None) -> dict[str, Any]:
    """Announce(activity) by the community, the activity wrapped exactly as received (FEP-1b12)."""
    uris = services.uris
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT, "id": new_activity_uri(services, community), "type": "Announce",
        "actor": uris.actor(community.name), "published": format_datetime(services.clock.time()),
        "to": [PUBLIC], "cc": [uris.followers(community.name)], "audience": uris.actor(community.name),
        "object": inner,
    }
    if context is not None:
        doc["context"] = context
    return doc


async def announce_tx(tx: Transaction, services: Services, community: LocalActor, inner: dict[str, Any],
                      inboxes: Iterable[str], *, context: str | None = None) -> bool:
    """Inside the caller's transaction: announce `inner` once to `inboxes`; False if it had been already."""
    doc = wrap_announce(services, community, inner, context=context)
    if not await record_announce(tx, community.id, str(inner["id"]), "activity", doc["id"], services.clock.time()):
        return False
    await publish_tx(tx, services, community, doc, Audience(inboxes=tuple(inboxes), local=()))
    return True


async def boost_tx(tx: Transaction, services: Services, community: LocalActor, note_uri: str, author_uri: str,
                   inboxes: Iterable[str]) -> str | None:
    """Inside the caller's transaction: boost a thread's top-level post once, as Mastodon boosts; the Announce's
    id (to stream once the transaction commits), or None if it was boosted before."""
    doc = announce_activity(services, community, note_uri, author_uri)
    doc["audience"] = services.uris.actor(community.name)
    if not await record_announce(tx, community.id, note_uri, "object", doc["id"], services.clock.time()):
        return None
    await publish_tx(tx, services, community, doc, Audience(inboxes=tuple(inboxes), local=()))
    # the boost is a status of the community (Mastodon's reblog): in its members' home timelines here and on
    # its account page, with the id of its activity as our other boosts have
    ref = services.uris.parse(doc["id"])
    await add_reaction(tx, "announce", doc["audience"], note_uri, doc["id"], services.clock.time(),
                       status_id=ref.object_id if ref is not None else None)
    return str(doc["id"])


async def undo_boost_tx(tx: Transaction, services: Services, community: LocalActor, note_uri: str,
                        inboxes: Iterable[str]) -> bool:
    """Inside the caller's transaction: take back the boost of a removed post, if the community made one."""
    boost_uri = await recorded_announce(tx, community.id, note_uri, "object")
    boost = await get_activity(tx, boost_uri) if boost_uri is not None else None
    if boost is None or boost.actor_id != community.id:
        return False
    undo = undo_activity(services, community, boost.document)
    if not await record_announce(tx, community.id, boost.uri, "activity", undo["id"], services.clock.time()):
        return False
    await remove_activity(tx, boost.uri, community.id)
    await remove_reaction(tx, "announce", services.uris.actor(community.name), note_uri)
    await publish_tx(tx, services, community, undo, Audience(inboxes=tuple(inboxes), local=()))
    return True
