"""The AS2 documents we serve for local actors: Mastodon's @context, Person/Group/Application, collections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fediverse_learn.communities import moderators_uri
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.communities import CommunitySettings
from fediverse_learn.uris import Uris

__all__ = [
    "ACTOR_CONTEXT",
    "AS_CONTEXT",
    "NOTE_CONTEXT",
    "PUBLIC",
    "format_datetime",
    "to_ap_actor",
    "to_ap_instance_actor",
    "to_ap_ordered_collection",
]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# The term definitions Mastodon puts inline in its actor documents.
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "suspended": "toot:suspended",
        "memorial": "toot:memorial",
        "indexable": "toot:indexable",
        "lemmy": "https://join-lemmy.org/ns#",
        "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
        "moderators": {"@id": "lemmy:moderators", "@type": "@id"},
    },
]

# The term definitions Mastodon puts inline in its status documents (plus FEP-7888 context, FEP-1b12 audience).
NOTE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
        "Hashtag": "as:Hashtag",
    },
]


def format_datetime(ts: float) -> str:
    """Seconds since the epoch as the ISO 8601 form Mastodon writes (UTC, second precision, Z)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_ap_actor(actor: LocalActor, uris: Uris, community: CommunitySettings | None = None) -> dict[str, Any]:
    """A member as a Person, or a community as a Group, shaped like Mastodon's (and Lemmy's) actors.

    A Group names its moderators collection in `attributedTo` (FEP-1b12) and `moderators` (older Lemmy);
    with its settings it also says `postingRestrictedToMods`."""
    name = actor.name
    doc: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": uris.actor(name),
        "type": "Group" if actor.kind == "group" else "Person",
        "following": uris.following(name),
        "followers": uris.followers(name),
        "inbox": uris.inbox(name),
        "outbox": uris.outbox(name),
        "featured": uris.featured(name),
        "preferredUsername": name,
        "name": actor.display_name or name,
        "summary": actor.summary,
        "url": uris.profile_page(name),
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "memorial": False,
        "published": format_datetime(actor.created_at),
        "publicKey": {
            "id": uris.key_id(name),
            "owner": uris.actor(name),
            "publicKeyPem": actor.public_key_pem,
        },
        "tag": [],
        "attachment": [],
        "endpoints": {"sharedInbox": uris.shared_inbox()},
    }
    if actor.kind == "group":
        doc["attributedTo"] = doc["moderators"] = moderators_uri(uris, name)
        if community is not None:
            doc["postingRestrictedToMods"] = community.posting_restricted_to_mods
    return doc


def to_ap_instance_actor(actor: LocalActor, uris: Uris, name: str) -> dict[str, Any]:
    """The instance actor, an Application as Mastodon serves it; it signs our outgoing GETs."""
    actor_uri = uris.instance_actor()
    return {
        "@context": ACTOR_CONTEXT,
        "id": actor_uri,
        "type": "Application",
        "inbox": f"{actor_uri}/inbox",
        "outbox": uris.instance_outbox(),
        "preferredUsername": uris.domain.split(":")[0],
        "name": name,
        "url": f"{uris.base}/about",
        "manuallyApprovesFollowers": True,
        "discoverable": False,
        "indexable": False,
        "published": format_datetime(actor.created_at),
        "publicKey": {
            "id": uris.instance_key_id(),
            "owner": actor_uri,
            "publicKeyPem": actor.public_key_pem,
        },
        "endpoints": {"sharedInbox": uris.shared_inbox()},
    }


def to_ap_ordered_collection(collection_id: str, total: int, first: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        doc["first"] = first
    return doc
