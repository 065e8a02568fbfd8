"""Pure checks an incoming activity must pass before it is queued: media type, depth, shape, origin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from fediverse_learn.errors import ValidationError
from fediverse_learn.vocab import host_of, http_url, id_of, ids_of, types_of

__all__ = [
    "ACTOR_TYPES",
    "INBOX_MEDIA_TYPES",
    "MAX_DEPTH",
    "Envelope",
    "Refusal",
    "accepts_media_type",
    "depth_exceeds",
    "is_self_delete",
    "precheck",
    "read_envelope",
]

MAX_DEPTH = 32
MAX_TYPES = 8
INBOX_MEDIA_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})
ACTOR_TYPES = frozenset({"Person", "Group", "Organization", "Service", "Application"})


@dataclass(frozen=True)
class Refusal:
    """Why an activity is refused, and the HTTP status that says so."""

    status: int
    reason: str


@dataclass(frozen=True)
class Envelope:
    """The minimal shape every queued activity has: an http(s) id, at least one type, an actor URI."""

    id: str
    types: tuple[str, ...]
    actor: str


def accepts_media_type(content_type: str) -> bool:
    """True for application/activity+json, application/ld+json (any profile) and application/json.

    Mastodon sends activity+json; some servers send ld+json with or without the ActivityStreams profile."""
    header = Message()
    header["content-type"] = content_type
    return header.get_content_type() in INBOX_MEDIA_TYPES


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True if lists and objects nest deeper than `limit` (a top-level object is depth 1); no recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def read_envelope(doc: Any) -> Envelope | Refusal:
    """The activity's id, types and actor, or a 400 Refusal saying which is missing or malformed."""
    if not isinstance(doc, dict):
        return Refusal(400, "the body is not a JSON object")
    if depth_exceeds(doc):
        return Refusal(400, f"the activity nests deeper than {MAX_DEPTH} levels")
    activity_id = http_url(doc.get("id"))
    if activity_id is None:
        return Refusal(400, "the activity has no id that is an absolute http(s) URL")
    types = types_of(doc)
    if not types:
        return Refusal(400, "the activity has no type")
    if len(types) > MAX_TYPES:
        return Refusal(400, f"the activity has more than {MAX_TYPES} types")
    actor_field = doc.get("actor")
    if isinstance(actor_field, list):
        if len(actor_field) != 1:
            return Refusal(400, "the activity must have exactly one actor")
        actor_field = actor_field[0]
    actor = http_url(id_of(actor_field))
    if actor is None:
        return Refusal(400, "the activity has no actor that is an absolute http(s) URL")
    return Envelope(id=activity_id, types=types, actor=actor)


def is_self_delete(envelope: Envelope, doc: Mapping[str, Any]) -> bool:
    """A Delete of the actor by itself (account deletion), which needs no key once the account is gone."""
    return "Delete" in envelope.types and id_of(doc.get("object")) == envelope.actor


def _host(url: str) -> str | None:
    try:
        return host_of(url)
    except ValidationError:
        return None


def precheck(activity: Mapping[str, Any], actor_uri: str, our_base: str) -> Refusal | None:
    """The origin rules that need no lookup (SECURITY.md b.5 rules 2, 3 and 6), for a verified actor.

    Nothing may claim our host; the activity id is on the actor's host; a Create or Update carries only an
    object of the actor's origin, attributed to the actor; a Delete targets the actor's origin, and an actor
    only deletes itself. Handlers still check ownership against stored rows."""
    ours = _host(our_base)
    actor_host = _host(actor_uri)
    activity_id = http_url(activity.get("id"))
    id_host = _host(activity_id) if activity_id is not None else None
    if actor_host is None or id_host is None:
        return Refusal(400, "the activity has no valid id or actor")
    if ours in (actor_host, id_host):
        return Refusal(400, f"the activity claims this server's host {ours}")
    if id_host != actor_host:
        return Refusal(400, f"the activity id is not on the actor's host {actor_host}")
    types = types_of(activity)
    obj = activity.get("object")
    if ("Create" in types or "Update" in types) and isinstance(obj, Mapping):
        return _check_embedded(obj, actor_uri, actor_host, ours, update="Update" in types)
    if "Delete" in types:
        return _check_delete(obj, actor_uri, actor_host)
    return None


def _check_embedded(
    obj: Mapping[str, Any], actor_uri: str, actor_host: str, ours: str | None, *, update: bool,
) -> Refusal | None:
    object_id = http_url(obj.get("id"))
    if object_id is None:
        return Refusal(400, "the embedded object has no id that is an absolute http(s) URL")
    object_host = _host(object_id)
    if object_host == ours:
        return Refusal(400, f"the embedded object claims this server's host {ours}")
    if object_host != actor_host:
        return Refusal(400, f"the embedded object {object_id} is not on the actor's host {actor_host}")
    if update and (object_id == actor_uri or ACTOR_TYPES.intersection(types_of(obj))):
        return None  # a profile or community update: no attributedTo; the handler refetches it
    authors = ids_of(obj.get("attributedTo"))
    if actor_uri not in authors:
        return Refusal(400, f"the embedded object is not attributed to the actor {actor_uri}")
    if any(_host(author) != actor_host for author in authors):
        return Refusal(400, "the embedded object is attributed to someone on another host")
    return None


def _check_delete(obj: Any, actor_uri: str, actor_host: str) -> Refusal | None:
    target = http_url(id_of(obj))
    if target is None:
        return Refusal(400, "the Delete has no object id that is an absolute http(s) URL")
    if _host(target) != actor_host:
        return Refusal(403, f"a Delete of {target}, which is not on the actor's host {actor_host}")
    if target != actor_uri and isinstance(obj, Mapping) and ACTOR_TYPES.intersection(types_of(obj)):
        return Refusal(403, "an actor may only delete itself")
    return None
