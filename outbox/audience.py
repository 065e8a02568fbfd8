"""Who receives one of our activities: remote inboxes (sharedInbox deduplicated) and local actors."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fediverse_learn.errors import DomainBlocked, FetchError, ValidationError
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.follows import follower_inboxes
from fediverse_learn.store.notes_query import local_follower_uris
from fediverse_learn.uris import Uris
from fediverse_learn.vocab import PUBLIC, addressees, has_type, host_of

__all__ = [
    "PRIVATE_FIELDS",
    "Audience",
    "actor_uri_of",
    "personal_inbox",
    "resolve_audience",
    "without_private_fields",
]

log = logging.getLogger(__name__)

PRIVATE_FIELDS = ("bto", "bcc")


@dataclass(frozen=True)
class Audience:
    inboxes: tuple[str, ...]     # remote inbox URLs, shared inboxes deduplicated
    local: tuple[str, ...]       # names of local actors who receive the activity directly


def actor_uri_of(uris: Uris, actor: LocalActor) -> str:
    """The AS2 id of a local actor (the instance actor lives at /actor)."""
    return uris.instance_actor() if actor.is_instance else uris.actor(actor.name)


def without_private_fields(activity: dict[str, Any]) -> dict[str, Any]:
    """The activity as delivered and served: `bto`/`bcc` removed, also from an embedded object."""
    doc = {k: v for k, v in activity.items() if k not in PRIVATE_FIELDS}
    obj = doc.get("object")
    if isinstance(obj, dict) and any(k in obj for k in PRIVATE_FIELDS):
        doc["object"] = {k: v for k, v in obj.items() if k not in PRIVATE_FIELDS}
    return doc


def _addressees(activity: dict[str, Any]) -> list[str]:
    found = addressees(activity)
    if has_type(activity, "Create", "Update"):
        found |= addressees(activity.get("object"))
    found.discard(PUBLIC)
    return sorted(found)


async def _local_name(services: Services, uri: str) -> str | None:
    """The name of the local actor a uri (actor or personal inbox) names, if it exists."""
    ref = services.uris.parse(uri)
    if ref is None or ref.kind is not None or ref.collection not in (None, "inbox"):
        return None
    actor = await get_actor(services.db, ref.name)
    return actor.name if actor is not None else None


async def personal_inbox(services: Services, actor_uri: str) -> str:
    """An actor's own inbox (where Mastodon sends Follow, Like, Accept): ours by name, a remote one fetched.
    Raises ValidationError (or the resolver's errors) when the uri names no actor."""
    ref = services.uris.parse(actor_uri)
    if ref is not None and ref.kind is None and ref.collection is None:
        return services.uris.inbox(ref.name)
    if services.uris.is_local(actor_uri):
        raise ValidationError(f"{actor_uri} is not an actor")
    return (await services.resolver.actor(actor_uri)).inbox


async def _remote_inbox(services: Services, uri: str) -> str | None:
    try:
        remote = await services.resolver.actor(uri)
    except (FetchError, ValidationError, DomainBlocked) as exc:
        log.info("not delivering to %s: %s", uri, exc)
        return None
    return remote.shared_inbox or remote.inbox


async def _deliverable(services: Services, inbox: str) -> bool:
    try:
        host = host_of(inbox)
    except ValidationError:
        return False
    if services.uris.is_local(inbox) or host == host_of(services.uris.base):
        return False
    return await services.host_allowed(host)


async def resolve_audience(services: Services, actor: LocalActor, activity: dict[str, Any],
                           extra_inboxes: Sequence[str] = ()) -> Audience:
    """Who receives an activity (to/cc/bto/bcc/audience, and its object's for Create/Update), plus
    `extra_inboxes` (a remote inbox URL, or one of our personal inboxes for a local actor).

    Public is skipped; the actor's followers collection means its accepted followers (remote: their shared
    inbox, else inbox; local: by name); a remote actor means its shared inbox, else inbox; a local actor its
    name; anything else is ignored. Blocked hosts and our own host never get an HTTP delivery. May fetch
    remote actors, so never call it inside a transaction."""
    uris = services.uris
    own_uri = actor_uri_of(uris, actor)
    followers = uris.followers(actor.name)
    inboxes: list[str] = []
    local: list[str] = []
    for addr in _addressees(activity):
        if addr == followers and not actor.is_instance:
            inboxes += await follower_inboxes(services.db, own_uri)
            for uri in await local_follower_uris(services.db, own_uri, f"{uris.base}/"):
                local.append(await _local_name(services, uri) or "")
        elif uris.is_local(addr):
            local.append(await _local_name(services, addr) or "")
        elif (inbox := await _remote_inbox(services, addr)) is not None:
            inboxes.append(inbox)
    for inbox in extra_inboxes:
        if uris.is_local(inbox):
            local.append(await _local_name(services, inbox) or "")
        else:
            inboxes.append(inbox)
    deliverable = [i for i in dict.fromkeys(inboxes) if await _deliverable(services, i)]
    names = [n for n in dict.fromkeys(local) if n and n != actor.name]
    return Audience(inboxes=tuple(deliverable), local=tuple(names))
