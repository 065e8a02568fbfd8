"""AS2 actor and key documents -> RemoteActor / RemoteKey, enforcing the origin rules of SECURITY.md b.5."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fediverse_learn.errors import ValidationError
from fediverse_learn.vocab import (
    as_list,
    has_type,
    host_of,
    http_url,
    id_of,
    ids_of,
    parse_datetime,
    same_origin,
    text_of,
    types_of,
    url_of,
)

__all__ = [
    "ACTOR_TYPES",
    "MAX_ACTOR_NAME",
    "MAX_ACTOR_SUMMARY",
    "RemoteActor",
    "RemoteKey",
    "actor_from_ap",
    "key_from_ap",
]

ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")
_BOT_TYPES = ("Service", "Application")
_KEY_TYPES = ("Key", "CryptographicKey")
MAX_ACTOR_NAME = 200
MAX_ACTOR_SUMMARY = 10_000
_MAX_USERNAME = 255
_MAX_KEYS = 10
_MAX_PEM = 16_384
_MAX_ALIASES = 20
_USERNAME = re.compile(r"[^\s@/:#?\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class RemoteKey:
    """A public key (PEM) named by `key_id` and owned by the actor `owner`."""

    key_id: str
    owner: str
    public_key_pem: str


@dataclass(frozen=True)
class RemoteActor:
    """A remote actor as we keep it: every URL checked to be on the actor's own origin."""

    uri: str
    type: str
    username: str
    domain: str
    name: str
    summary_html: str
    url: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    keys: tuple[RemoteKey, ...]
    manually_approves_followers: bool
    discoverable: bool
    indexable: bool
    bot: bool
    also_known_as: tuple[str, ...]
    moved_to: str | None
    published: datetime | None
    icon_url: str | None
    header_url: str | None
    posting_restricted_to_mods: bool
    moderators: str | None


def _sanitize(html: str) -> str:
    from fediverse_learn.sanitize import sanitize_html  # noqa: PLC0415 -- owned elsewhere; keeps imports light

    return sanitize_html(html)


def _own_url(value: Any, field: str, actor_uri: str) -> str | None:
    """A sub-URI of the actor: None if absent or not an http(s) URL; ValidationError if on another origin."""
    url = http_url(id_of(value))
    if url is None:
        return None
    if not same_origin(url, actor_uri):
        raise ValidationError(f"actor {field} {url} is not on the actor's origin {host_of(actor_uri)}")
    return url


def _same_origin_or_none(value: Any, actor_uri: str) -> str | None:
    url = http_url(id_of(value))
    return url if url is not None and same_origin(url, actor_uri) else None


def _image_url(value: Any) -> str | None:
    for item in as_list(value)[:_MAX_KEYS]:
        url = http_url(item) if isinstance(item, str) else url_of(item)
        if url is not None:
            return url
    return None


def _pem(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > _MAX_PEM:
        return None
    text = value.strip()
    if not text.startswith("-----BEGIN ") or "PUBLIC KEY-----" not in text:
        return None
    return text


def _key(entry: Mapping[str, Any], actor_uri: str) -> RemoteKey | None:
    """One publicKey entry of `actor_uri`: None if unusable, ValidationError if it claims another owner."""
    key_id = http_url(entry.get("id"))
    if key_id is None:
        return None
    if not same_origin(key_id, actor_uri):
        raise ValidationError(f"key {key_id} is not on the actor's origin {host_of(actor_uri)}")
    owner = id_of(entry.get("owner"))
    if owner is not None and owner != actor_uri:
        raise ValidationError(f"key {key_id} is owned by {owner}, not by {actor_uri}")
    pem = _pem(entry.get("publicKeyPem"))
    if pem is None:
        return None
    return RemoteKey(key_id=key_id, owner=actor_uri, public_key_pem=pem)


def _keys(doc: Mapping[str, Any], actor_uri: str) -> tuple[RemoteKey, ...]:
    """The actor's RSA keys from `publicKey` (one object or a list). Multikey `assertionMethod` entries are
    not read: their ed25519 keys are not PEM and nothing of ours verifies them yet."""
    keys: list[RemoteKey] = []
    for entry in as_list(doc.get("publicKey"))[:_MAX_KEYS]:
        key = _key(entry, actor_uri) if isinstance(entry, Mapping) else None
        if key is not None and all(k.key_id != key.key_id for k in keys):
            keys.append(key)
    return tuple(keys)


def _actor_uri(doc: Mapping[str, Any], fetched_url: str) -> str:
    ident = doc.get("id")
    if not isinstance(ident, str) or not ident:
        raise ValidationError("actor document has no id")
    if ident != fetched_url:
        raise ValidationError(f"actor document id {ident} is not the URL fetched, {fetched_url}")
    if http_url(ident) is None:
        raise ValidationError(f"actor id {ident[:200]} is not an http(s) URL")
    return ident


def _actor_type(doc: Mapping[str, Any]) -> str:
    for name in types_of(doc):
        if name in ACTOR_TYPES:
            return name
    raise ValidationError(f"not an actor: type {list(types_of(doc))[:5]}")


def _username(doc: Mapping[str, Any]) -> str:
    value = doc.get("preferredUsername")
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("actor has no preferredUsername")
    username = value.strip()
    if len(username) > _MAX_USERNAME or not _USERNAME.fullmatch(username):
        raise ValidationError("actor preferredUsername is too long or has characters not allowed in a handle")
    return username


def _shared_inbox(doc: Mapping[str, Any], actor_uri: str) -> str | None:
    endpoints = doc.get("endpoints")
    value = endpoints.get("sharedInbox") if isinstance(endpoints, Mapping) else None
    if value is None:
        value = doc.get("sharedInbox")
    return _own_url(value, "sharedInbox", actor_uri)


def _moderators(doc: Mapping[str, Any], actor_type: str, actor_uri: str) -> str | None:
    """Lemmy: a Group's `attributedTo` is its moderators collection (older versions: `moderators`)."""
    if actor_type != "Group":
        return None
    value = doc.get("moderators")
    if value is None and isinstance(doc.get("attributedTo"), str):
        value = doc.get("attributedTo")
    return _same_origin_or_none(value, actor_uri)


def _also_known_as(value: Any) -> tuple[str, ...]:
    seen: list[str] = []
    for ident in ids_of(as_list(value)[: _MAX_ALIASES * 5]):
        url = http_url(ident)
        if url is not None and url not in seen:
            seen.append(url)
    return tuple(seen[:_MAX_ALIASES])


def actor_from_ap(doc: Mapping[str, Any], fetched_url: str) -> RemoteActor:
    """Convert an actor document fetched from `fetched_url`; raise ValidationError if it breaks a rule.

    The `id` must be the URL fetched; inbox, outbox, sharedInbox, followers, following and every publicKey id
    must be on the actor's origin; every publicKey owner must be the actor. Text is capped and sanitised.
    """
    if not isinstance(doc, Mapping):
        raise ValidationError("actor document is not a JSON object")
    uri = _actor_uri(doc, fetched_url)
    actor_type = _actor_type(doc)
    inbox = _own_url(doc.get("inbox"), "inbox", uri)
    if inbox is None:
        raise ValidationError(f"actor {uri} has no http(s) inbox")
    name = text_of(doc.get("name"), doc.get("nameMap"))
    summary = text_of(doc.get("summary"), doc.get("summaryMap"))
    url = url_of(doc)
    return RemoteActor(
        uri=uri,
        type=actor_type,
        username=_username(doc),
        domain=host_of(uri),
        name=(name or "").strip()[:MAX_ACTOR_NAME],
        summary_html=_sanitize(summary[:MAX_ACTOR_SUMMARY]) if summary else "",
        url=url if url is not None and same_origin(url, uri) else None,
        inbox=inbox,
        shared_inbox=_shared_inbox(doc, uri),
        outbox=_own_url(doc.get("outbox"), "outbox", uri),
        followers=_own_url(doc.get("followers"), "followers", uri),
        following=_own_url(doc.get("following"), "following", uri),
        featured=_same_origin_or_none(doc.get("featured"), uri),
        keys=_keys(doc, uri),
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        discoverable=doc.get("discoverable") is True,
        indexable=doc.get("indexable") is True,
        bot=actor_type in _BOT_TYPES,
        also_known_as=_also_known_as(doc.get("alsoKnownAs")),
        moved_to=http_url(id_of(doc.get("movedTo"))),
        published=parse_datetime(doc.get("published")),
        icon_url=_image_url(doc.get("icon")),
        header_url=_image_url(doc.get("image")),
        posting_restricted_to_mods=doc.get("postingRestrictedToMods") is True,
        moderators=_moderators(doc, actor_type, uri),
    )


def _bare_key(doc: Mapping[str, Any], fetched_url: str) -> RemoteKey:
    key_id = doc.get("id")
    if key_id not in (fetched_url, fetched_url.split("#", 1)[0]) or http_url(key_id) is None:
        raise ValidationError(f"key document id {str(key_id)[:200]} is not the URL fetched, {fetched_url}")
    owner = http_url(id_of(doc.get("owner")))
    if owner is None:
        raise ValidationError(f"key {key_id} has no owner")
    if not same_origin(owner, key_id):
        raise ValidationError(f"key {key_id} claims an owner on another origin, {owner}")
    pem = _pem(doc.get("publicKeyPem"))
    if pem is None:
        raise ValidationError(f"key {key_id} has no usable publicKeyPem")
    return RemoteKey(key_id=key_id, owner=owner, public_key_pem=pem)


def key_from_ap(doc: Mapping[str, Any], fetched_url: str) -> RemoteKey:
    """The key at `fetched_url` (a key id): a bare Key document, or an actor document listing that key.

    GoToSocial serves `/users/x/main-key` as a minimal actor whose id is the actor; that actor must be on the
    key's origin and list a key whose id is exactly `fetched_url`. Fetching an actor's own URL gives its first
    key. The owner still has to be confirmed by the caller (its actor document must list the key).
    """
    if not isinstance(doc, Mapping):
        raise ValidationError("key document is not a JSON object")
    if "publicKeyPem" in doc and (not types_of(doc) or has_type(doc, *_KEY_TYPES)):
        return _bare_key(doc, fetched_url)
    if not has_type(doc, *ACTOR_TYPES):
        raise ValidationError(f"{fetched_url} is neither a key nor an actor document")
    actor_uri = http_url(doc.get("id"))
    if actor_uri is None or not same_origin(actor_uri, fetched_url):
        raise ValidationError(f"actor document at {fetched_url} has an id on another origin or none")
    keys = _keys(doc, actor_uri)
    if fetched_url == actor_uri and keys:
        return keys[0]
    for key in keys:
        if key.key_id == fetched_url:
            return key
    raise ValidationError(f"actor {actor_uri} lists no key {fetched_url}")
