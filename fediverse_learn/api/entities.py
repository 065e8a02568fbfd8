"""Mastodon API entities as pure functions of our facts: Account, Status, Relationship, StatusEdit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fediverse_learn.store.api_accounts import RelationshipFacts

__all__ = [
    "REMOTE_ACCOUNT_BASE",
    "AccountFacts",
    "account_entity",
    "iso",
    "relationship_entity",
    "status_entity",
]

REMOTE_ACCOUNT_BASE = 10**12
"""Account ids: a local actor's actors.id as is; a remote actor's remote_actors.id plus this base. Both stay
the same for the life of the row, so clients can keep them."""


def iso(ts: float | None) -> str | None:
    """Mastodon's timestamp form: UTC with milliseconds and Z."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


@dataclass(frozen=True)
class AccountFacts:
    id: int
    username: str
    acct: str
    display_name: str
    note_html: str
    url: str
    uri: str
    avatar: str
    header: str
    locked: bool
    bot: bool
    group: bool
    discoverable: bool
    indexable: bool
    created_at: float
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: float | None


def account_entity(f: AccountFacts) -> dict[str, Any]:
    # Mastodon gives created_at at midnight and last_status_at as a date only.
    created_day = f.created_at - f.created_at % 86400
    return {
        "id": str(f.id), "username": f.username, "acct": f.acct, "display_name": f.display_name,
        "locked": f.locked, "bot": f.bot, "discoverable": f.discoverable, "indexable": f.indexable,
        "group": f.group, "created_at": iso(created_day), "note": f.note_html, "url": f.url, "uri": f.uri,
        "avatar": f.avatar, "avatar_static": f.avatar, "header": f.header, "header_static": f.header,
        "followers_count": f.followers_count, "following_count": f.following_count,
        "statuses_count": f.statuses_count,
        "last_status_at": (iso(f.last_status_at) or "")[:10] or None,
        "hide_collections": False, "noindex": not f.indexable, "emojis": [], "roles": [], "fields": [],
    }


def relationship_entity(account_id: int, facts: RelationshipFacts, *, note: str = "") -> dict[str, Any]:
    following = facts.following == "accepted"
    mine = facts.following is not None     # a follow or a request: its options show, as on Mastodon
    return {
        "id": str(account_id), "following": following, "showing_reblogs": mine and facts.showing_reblogs,
        "notifying": mine and facts.notifying,
        "languages": None, "followed_by": facts.followed_by == "accepted", "blocking": facts.blocking,
        "blocked_by": facts.blocked_by, "muting": facts.muting, "muting_notifications": facts.muting_notifications,
        "muting_expires_at": None, "requested": facts.following == "pending",
        "requested_by": facts.followed_by == "pending", "domain_blocking": False, "endorsed": False, "note": note,
    }


def status_entity(
    *, id: int, uri: str, url: str | None, account: dict[str, Any], created_at: float, edited_at: float | None,
    content: str, spoiler_text: str, sensitive: bool, visibility: str, language: str | None,
    in_reply_to: tuple[int, int] | None, mentions: list[dict[str, Any]], tags: list[dict[str, Any]],
    counts: tuple[int, int, int], flags: tuple[bool, bool, bool, bool] | None, application: dict[str, Any] | None,
    reblog: dict[str, Any] | None = None, text: str | None = None,
) -> dict[str, Any]:
    """A Status; `counts` are (replies, reblogs, favourites), `flags` the viewer's (favourited, reblogged,
    bookmarked, pinned) or None when nobody is signed in; `in_reply_to` is (status id, account id)."""
    doc: dict[str, Any] = {
        "id": str(id), "created_at": iso(created_at), "edited_at": iso(edited_at),
        "in_reply_to_id": str(in_reply_to[0]) if in_reply_to else None,
        "in_reply_to_account_id": str(in_reply_to[1]) if in_reply_to else None,
        "sensitive": sensitive, "spoiler_text": spoiler_text, "visibility": visibility, "language": language,
        "uri": uri, "url": url, "replies_count": counts[0], "reblogs_count": counts[1],
        "favourites_count": counts[2], "quotes_count": 0, "content": content, "reblog": reblog,
        "application": application, "account": account, "media_attachments": [], "mentions": mentions,
        "tags": tags, "emojis": [], "card": None, "poll": None, "quote": None,
    }
    if flags is not None:
        doc.update({"favourited": flags[0], "reblogged": flags[1], "muted": False, "bookmarked": flags[2],
                    "pinned": flags[3]})
    if text is not None:
        doc["text"] = text
    return doc
