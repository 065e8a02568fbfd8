"""Mastodon's client API entities as the keys they always carry (docs.joinmastodon.org/entities, as of the 4.3
API we claim), and a check that names every missing key by its path: `assert_shape(response.json(), STATUS)`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACCOUNT", "APPLICATION", "CONTEXT", "CREDENTIAL_ACCOUNT", "CREDENTIAL_APPLICATION", "DELETED_STATUS",
    "INSTANCE_V1", "INSTANCE_V2", "MARKER", "NOTIFICATION", "OAUTH_METADATA", "PREFERENCES", "RELATIONSHIP",
    "SEARCH", "STATUS", "STATUS_EDIT", "STATUS_SOURCE", "TAG", "TOKEN", "Entity", "Exactly", "ListOf", "MapOf",
    "Shape", "assert_shape", "problems",
]


@dataclass(frozen=True)
class Entity:
    """An object with (at least) these keys; `nested` checks the value under a key when it is not null."""

    name: str
    keys: frozenset[str]
    nested: Mapping[str, Shape] = field(default_factory=dict)

    def extend(self, name: str, keys: frozenset[str] = frozenset(), **nested: Shape) -> Entity:
        return Entity(name, self.keys | keys | frozenset(nested), {**self.nested, **nested})


@dataclass(frozen=True)
class ListOf:
    """A JSON array of at least `min_items` items, each of the shape `item`."""

    item: Shape
    min_items: int = 1


@dataclass(frozen=True)
class MapOf:
    """A JSON object whose values (at least `min_items` of them) all have the shape `item` (markers by timeline)."""

    item: Shape
    min_items: int = 1


@dataclass(frozen=True)
class Exactly:
    """A value that must be exactly this (an empty list where the server keeps none, `{}` from dismiss)."""

    value: Any


Shape = Entity | ListOf | MapOf | Exactly


def problems(value: Any, shape: Shape, path: str = "$") -> list[str]:
    """What is wrong with `value` as `shape`, one line per missing key or wrong type; empty when it fits."""
    if isinstance(shape, Exactly):
        return [] if value == shape.value else [f"{path}: {value!r} is not {shape.value!r}"]
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} is not a list"]
        found = [] if len(value) >= shape.min_items else [f"{path}: {len(value)} items, wanted {shape.min_items}+"]
        return found + [p for i, item in enumerate(value) for p in problems(item, shape.item, f"{path}[{i}]")]
    if not isinstance(value, dict):
        return [f"{path}: {type(value).__name__} is not an object"]
    if isinstance(shape, MapOf):
        found = [] if len(value) >= shape.min_items else [f"{path}: {len(value)} keys, wanted {shape.min_items}+"]
        return found + [p for key, item in value.items() for p in problems(item, shape.item, f"{path}.{key}")]
    found = [f"{path}: no {key!r} ({shape.name})" for key in sorted(shape.keys - value.keys())]
    for key, inner in shape.nested.items():
        if value.get(key) is not None:
            found += problems(value[key], inner, f"{path}.{key}")
    return found


def assert_shape(value: Any, shape: Shape) -> None:
    found = problems(value, shape)
    assert not found, "\n".join(found)


def _keys(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Attributes that are neither optional nor newer than 4.3 in the entity pages.
ACCOUNT = Entity("Account", _keys(
    "id username acct url uri display_name note avatar avatar_static header header_static locked fields emojis bot "
    "group discoverable indexable hide_collections created_at last_status_at statuses_count followers_count "
    "following_count roles"))
SOURCE = Entity("Source", _keys(
    "note fields privacy sensitive language follow_requests_count hide_collections discoverable indexable"))
ROLE = Entity("Role", _keys("id name color permissions highlighted"))
CREDENTIAL_ACCOUNT = ACCOUNT.extend("CredentialAccount", source=SOURCE, role=ROLE)

_STATUS_KEYS = _keys(
    "id uri created_at account content visibility sensitive spoiler_text media_attachments mentions tags emojis "
    "reblogs_count favourites_count replies_count url in_reply_to_id in_reply_to_account_id reblog poll card "
    "language edited_at")
_REBLOGGED = Entity("Status", _STATUS_KEYS, {"account": ACCOUNT})
STATUS = Entity("Status", _STATUS_KEYS, {"account": ACCOUNT, "reblog": _REBLOGGED})
DELETED_STATUS = STATUS.extend("Status (deleted, with its source)", _keys("text"))
CONTEXT = Entity("Context", _keys("ancestors descendants"),
                 {"ancestors": ListOf(STATUS, 0), "descendants": ListOf(STATUS)})
STATUS_SOURCE = Entity("StatusSource", _keys("id text spoiler_text"))
STATUS_EDIT = Entity("StatusEdit", _keys("content spoiler_text sensitive created_at account media_attachments emojis"),
                     {"account": ACCOUNT})

RELATIONSHIP = Entity("Relationship", _keys(
    "id following showing_reblogs notifying languages followed_by blocking blocked_by muting muting_notifications "
    "requested requested_by domain_blocking endorsed note"))
NOTIFICATION = Entity("Notification", _keys("id type group_key created_at account"),
                      {"account": ACCOUNT, "status": STATUS})
MARKER = Entity("Marker", _keys("last_read_id version updated_at"))
TAG = Entity("Tag", _keys("name url history"))
SEARCH = Entity("Search", _keys("accounts statuses hashtags"),
                {"accounts": ListOf(ACCOUNT, 0), "statuses": ListOf(STATUS, 0), "hashtags": ListOf(TAG, 0)})
PREFERENCES = Entity("Preferences", _keys(
    "posting:default:visibility posting:default:sensitive posting:default:language reading:expand:media "
    "reading:expand:spoilers"))

INSTANCE_V2 = Entity("Instance", _keys(
    "domain title version source_url description usage thumbnail icon languages configuration registrations "
    "api_versions contact rules"),
    {"contact": Entity("Instance contact", _keys("email account"), {"account": ACCOUNT}),
     "configuration": Entity("Instance configuration", _keys("urls accounts statuses media_attachments polls "
                                                             "translation"))})
INSTANCE_V1 = Entity("V1::Instance", _keys(
    "uri title short_description description email version urls stats thumbnail languages registrations "
    "approval_required invites_enabled configuration contact_account rules"),
    {"contact_account": ACCOUNT, "stats": Entity("V1::Instance stats", _keys("user_count status_count domain_count"))})

APPLICATION = Entity("Application", _keys("id name website scopes redirect_uri redirect_uris"))
CREDENTIAL_APPLICATION = APPLICATION.extend("CredentialApplication", _keys("client_id client_secret"))
TOKEN = Entity("Token", _keys("access_token token_type scope created_at"))
# RFC 8414 section 2: the required member and the ones Mastodon's clients read.
OAUTH_METADATA = Entity("OAuth authorization server metadata", _keys(
    "issuer authorization_endpoint token_endpoint revocation_endpoint app_registration_endpoint scopes_supported "
    "response_types_supported grant_types_supported code_challenge_methods_supported"))
