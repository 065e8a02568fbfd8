"""WebFinger: the strict handle grammar, resource parsing and the JRD documents we serve."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fediverse_learn.errors import ValidationError
from fediverse_learn.uris import Uris

__all__ = ["Handle", "parse_handle", "parse_resource", "to_jrd", "to_jrd_instance"]

_USER = r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,62}[A-Za-z0-9_])?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?"
_HANDLE = re.compile(rf"@?({_USER})@({_HOST})")


@dataclass(frozen=True)
class Handle:
    username: str
    domain: str          # host, with ":port" when one is given

    def __str__(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def acct(self) -> str:
        return f"acct:{self.username}@{self.domain}"


def parse_handle(text: str) -> Handle:
    """`user@host` or `@user@host`; host a DNS name or IPv4 literal with optional port; nothing else.

    Anything with a path, query, fragment, userinfo or a second `@` is refused (CVE-2025-25194)."""
    m = _HANDLE.fullmatch(text.strip())
    if not m:
        raise ValidationError(f"not a handle: {text!r}")
    host = m.group(2).lower()
    if ":" in host:
        port = int(host.rsplit(":", 1)[1])
        if not 0 < port < 65536:
            raise ValidationError(f"bad port in handle: {text!r}")
    return Handle(username=m.group(1), domain=host)


def parse_resource(resource: str, uris: Uris) -> str | None:
    """The local name a WebFinger resource asks for (acct: or actor URL), or None if not ours.

    Returns the empty string for the instance actor."""
    if resource.startswith("acct:"):
        try:
            handle = parse_handle(resource[len("acct:"):])
        except ValidationError:
            return None
        if handle.domain != uris.domain:
            return None
        if handle.username.lower() == uris.domain.split(":")[0]:
            return ""
        return handle.username.lower()
    if resource in (uris.instance_actor(), uris.base, uris.base + "/"):
        return ""
    ref = uris.parse(resource)
    if ref is not None and ref.collection is None and ref.object_id is None:
        return ref.name
    if resource.startswith(uris.base + "/@"):
        name = resource[len(uris.base) + 2:]
        return name if re.fullmatch(r"[a-z0-9_]{1,30}", name) else None
    return None


def to_jrd(name: str, uris: Uris) -> dict[str, Any]:
    actor = uris.actor(name)
    return {
        "subject": f"acct:{uris.handle(name)}",
        "aliases": [uris.profile_page(name), actor],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": uris.profile_page(name)},
            {"rel": "self", "type": "application/activity+json", "href": actor},
            {"rel": "http://ostatus.org/schema/1.0/subscribe", "template": uris.authorize_interaction()},
        ],
    }


def to_jrd_instance(uris: Uris) -> dict[str, Any]:
    actor = uris.instance_actor()
    host = uris.domain.split(":")[0]
    return {
        "subject": f"acct:{host}@{uris.domain}",
        "aliases": [actor],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": f"{uris.base}/about"},
            {"rel": "self", "type": "application/activity+json", "href": actor},
        ],
    }
