"""Every URL of ours is built and parsed here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

__all__ = ["LocalRef", "Uris"]

_NAME = r"[a-z0-9_]{1,30}"
_ACTOR_PATH = re.compile(rf"^/users/({_NAME})(?:/(inbox|outbox|followers|following|featured|moderators))?$")
_OBJECT_PATH = re.compile(rf"^/users/({_NAME})/(statuses|activities)/([0-9]+)(?:/(replies|context|likes|shares))?$")


@dataclass(frozen=True)
class LocalRef:
    """What a local URL points at: an actor (and maybe one of its collections) or an object."""

    name: str
    collection: str | None = None
    kind: str | None = None          # "statuses" or "activities" for objects
    object_id: int | None = None


class Uris:
    """Builds and parses the URLs of one instance."""

    def __init__(self, base_url: str, domain: str) -> None:
        self.base = base_url.rstrip("/")
        self.domain = domain

    # actors and their collections
    def actor(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    def key_id(self, name: str) -> str:
        return f"{self.actor(name)}#main-key"

    def inbox(self, name: str) -> str:
        return f"{self.actor(name)}/inbox"

    def outbox(self, name: str) -> str:
        return f"{self.actor(name)}/outbox"

    def followers(self, name: str) -> str:
        return f"{self.actor(name)}/followers"

    def following(self, name: str) -> str:
        return f"{self.actor(name)}/following"

    def featured(self, name: str) -> str:
        return f"{self.actor(name)}/featured"

    def moderators(self, name: str) -> str:
        return f"{self.actor(name)}/moderators"

    def profile_page(self, name: str) -> str:
        return f"{self.base}/@{name}"

    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    # the instance actor
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    def instance_key_id(self) -> str:
        return f"{self.instance_actor()}#main-key"

    def instance_outbox(self) -> str:
        return f"{self.base}/actor/outbox"

    # objects
    def note(self, name: str, note_id: int) -> str:
        return f"{self.actor(name)}/statuses/{note_id}"

    def note_page(self, name: str, note_id: int) -> str:
        return f"{self.base}/@{name}/{note_id}"

    def activity(self, name: str, activity_id: int) -> str:
        return f"{self.actor(name)}/activities/{activity_id}"

    def tag(self, tag: str) -> str:
        return f"{self.base}/tags/{quote(tag.lower(), safe='')}"

    def handle(self, name: str) -> str:
        return f"{name}@{self.domain}"

    # discovery
    def webfinger_template(self) -> str:
        return f"{self.base}/.well-known/webfinger?resource={{uri}}"

    def nodeinfo(self, version: str) -> str:
        return f"{self.base}/nodeinfo/{version}"

    def authorize_interaction(self) -> str:
        return f"{self.base}/authorize_interaction?uri={{uri}}"

    # parsing
    def is_local(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        return f"{parts.scheme}://{parts.netloc.lower()}" == self.base

    def parse(self, url: str) -> LocalRef | None:
        """The local thing a URL of ours names, or None for anything else."""
        if not self.is_local(url):
            return None
        parts = urlsplit(url)
        if parts.query:
            return None
        path = parts.path
        m = _ACTOR_PATH.match(path)
        if m:
            return LocalRef(name=m.group(1), collection=m.group(2))
        m = _OBJECT_PATH.match(path)
        if m:
            return LocalRef(name=m.group(1), kind=m.group(2), object_id=int(m.group(3)), collection=m.group(4))
        return None

    # note collections and collection pages
    def note_collection(self, name: str, note_id: int, collection: str) -> str:
        """A note's `replies`, `likes` or `shares` collection."""
        return f"{self.note(name, note_id)}/{collection}"

    def collection_page(self, collection: str, **params: str | int) -> str:
        """A page of one of our collections: `?page=true` and the paging parameters (max_id, min_id)."""
        return f"{collection}?{urlencode({'page': 'true', **params})}"
