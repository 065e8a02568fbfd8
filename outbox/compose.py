"""Composing our activities in Mastodon's shapes, and publishing, editing and deleting a member's note."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fediverse_learn.converters import NOTE_TYPES, note_from_ap
from fediverse_learn.documents import AS_CONTEXT, NOTE_CONTEXT, format_datetime
from fediverse_learn.documents_note import REPLIES_PAGE_SIZE, NoteStats, to_ap_note, to_ap_tombstone
from fediverse_learn.errors import DomainBlocked, FetchError, ValidationError
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.notes_query import note_stats, scrub_object
from fediverse_learn.store.objects import StoredNote, get_note, save_note, tombstone
from fediverse_learn.text import (
    MentionRef,
    Rendered,
    ResolvedMention,
    Syntax,
    find_mentions,
    render_html,
    render_markdown,
    render_plain,
)
from fediverse_learn.visibility import VISIBILITIES, addressing_for, visibility_of
from fediverse_learn.vocab import PUBLIC, as_list, has_type, ids_of, same_origin
from outbox.audience import actor_uri_of, resolve_audience
from outbox.publish import kick_workers, publish_tx
from outbox.threads import with_thread

__all__ = [
    "MAX_MENTIONS",
    "MAX_SOURCE",
    "MEDIA_TYPES",
    "AuthoredText",
    "NoteTarget",
    "accept_activity",
    "actor_mention",
    "announce_activity",
    "build_note",
    "create_activity",
    "delete_activity",
    "delete_note",
    "edit_note",
    "follow_activity",
    "like_activity",
    "mention_tags",
    "new_activity_uri",
    "note_target",
    "publish_note",
    "reject_activity",
    "render_text",
    "reply_mention",
    "undo_activity",
    "update_activity",
]

log = logging.getLogger(__name__)

MAX_SOURCE = 20_000           # characters of authored text (Mastodon 500, GoToSocial 5,000; notes run longer)
MAX_MENTIONS = 50             # mentions resolved per note (each may cost a WebFinger round trip)
MEDIA_TYPES = {"text/markdown": render_markdown, "text/html": render_html, "text/plain": render_plain}
_SYNTAX: dict[str, Syntax] = {"text/markdown": "markdown", "text/html": "html", "text/plain": "plain"}
_EMBEDDED_FOLLOW_KEYS = ("id", "type", "actor", "object")
_RESOLVE_ERRORS = (FetchError, ValidationError, DomainBlocked)


def new_activity_uri(services: Services, actor: LocalActor) -> str:
    """A fresh id for one of our activities: /users/{name}/activities/{time-sortable id}."""
    return services.uris.activity(actor.name, services.ids.next(services.clock.time()))


def _base(services: Services, actor: LocalActor, kind: str, context: Any = AS_CONTEXT) -> dict[str, Any]:
    return {"@context": context, "id": new_activity_uri(services, actor), "type": kind,
            "actor": actor_uri_of(services.uris, actor)}


def _embedded(activity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in activity.items() if k != "@context"}


def mention_tags(mentions: Iterable[ResolvedMention]) -> list[dict[str, Any]]:
    """Mastodon's Mention tags, named `@user@host` (ours too: the name must make sense anywhere)."""
    return [{"type": "Mention", "href": m.actor_uri, "name": f"@{m.username}@{m.domain}"} for m in mentions]


def _hashtag_tags(services: Services, hashtags: Iterable[str]) -> list[dict[str, Any]]:
    return [{"type": "Hashtag", "href": services.uris.tag(t), "name": f"#{t}"} for t in hashtags]


def build_note(services: Services, actor: LocalActor, *, content_html: str, visibility: str,
               mentions: Sequence[ResolvedMention] = (), hashtags: Sequence[str] = (), source: str | None = None,
               source_type: str | None = None, summary: str | None = None, sensitive: bool = False,
               language: str | None = None, in_reply_to: str | None = None) -> StoredNote:
    """A new local note (not yet stored): a fresh id, addressing from the visibility, Mention/Hashtag tags."""
    if visibility not in VISIBILITIES:
        raise ValidationError(f"unknown visibility {visibility!r}")
    uris = services.uris
    now = services.clock.time()
    note_id = services.ids.next(now)
    own_uri = uris.actor(actor.name)
    unique = list({m.actor_uri: m for m in mentions if m.actor_uri != own_uri}.values())
    to, cc = addressing_for(visibility, uris.followers(actor.name), [m.actor_uri for m in unique])
    tags = mention_tags(unique) + _hashtag_tags(services, hashtags)
    return StoredNote(
        id=note_id, uri=uris.note(actor.name, note_id), local_actor_id=actor.id, author_uri=own_uri, type="Note",
        visibility=visibility, content_html=content_html, source=source, source_type=source_type,
        summary=summary or None, name=None, sensitive=sensitive or bool(summary), language=language,
        url=uris.note_page(actor.name, note_id), in_reply_to_uri=in_reply_to, context_uri=None, audience_uri=None,
        to=tuple(to), cc=tuple(cc), tags=tuple(tags), published=now, updated=None, deleted_at=None,
    )


def create_activity(services: Services, actor: LocalActor, note: StoredNote) -> dict[str, Any]:
    """Create(Note) as Mastodon sends it: the note embedded, its addressing copied onto the activity."""
    doc = _base(services, actor, "Create", NOTE_CONTEXT)
    doc.update({"published": format_datetime(note.published), "to": list(note.to), "cc": list(note.cc),
                "object": to_ap_note(note, actor.name, services.uris, with_context=False)})
    return doc


def update_activity(services: Services, actor: LocalActor, note: StoredNote,
                    stats: NoteStats | None = None) -> dict[str, Any]:
    """Update(Note) with the edited note embedded (its real counts: Mastodon reads likes/shares totals)."""
    doc = _base(services, actor, "Update", NOTE_CONTEXT)
    doc.update({"published": format_datetime(note.updated or services.clock.time()), "to": list(note.to),
                "cc": list(note.cc),
                "object": to_ap_note(note, actor.name, services.uris, stats, with_context=False)})
    return doc


def delete_activity(services: Services, actor: LocalActor, note: StoredNote) -> dict[str, Any]:
    """Delete with Mastodon's Tombstone object; addressed like the note so it reaches everyone who had it."""
    doc = _base(services, actor, "Delete", NOTE_CONTEXT)
    doc.update({"to": list(note.to), "cc": list(note.cc), "object": to_ap_tombstone(note.uri, with_context=False)})
    return doc


def follow_activity(services: Services, actor: LocalActor, target_uri: str) -> dict[str, Any]:
    doc = _base(services, actor, "Follow")
    doc["object"] = target_uri
    return doc


def undo_activity(services: Services, actor: LocalActor, original: dict[str, Any]) -> dict[str, Any]:
    """Undo of one of our activities, embedded; an Announce's addressing is kept so its audience gets it."""
    doc = _base(services, actor, "Undo")
    for field in ("to", "cc"):
        if field in original:
            doc[field] = original[field]
    doc["object"] = _embedded(original)
    return doc


def like_activity(services: Services, actor: LocalActor, object_uri: str) -> dict[str, Any]:
    doc = _base(services, actor, "Like")
    doc["object"] = object_uri
    return doc


def announce_activity(services: Services, actor: LocalActor, object_uri: str, author_uri: str) -> dict[str, Any]:
    """A boost as Mastodon sends it: to Public, cc the boosted note's author and our followers."""
    doc = _base(services, actor, "Announce")
    doc.update({"published": format_datetime(services.clock.time()), "to": [PUBLIC],
                "cc": [author_uri, services.uris.followers(actor.name)], "object": object_uri})
    return doc


def _answer(services: Services, actor: LocalActor, kind: str, follow: dict[str, Any]) -> dict[str, Any]:
    doc = _base(services, actor, kind)
    doc["object"] = {k: follow[k] for k in _EMBEDDED_FOLLOW_KEYS if k in follow}
    return doc


def accept_activity(services: Services, actor: LocalActor, follow: dict[str, Any]) -> dict[str, Any]:
    """Accept of a received Follow, embedded (id, type, actor, object) as Mastodon does."""
    return _answer(services, actor, "Accept", follow)


def reject_activity(services: Services, actor: LocalActor, follow: dict[str, Any]) -> dict[str, Any]:
    """Reject of a received Follow, embedded (id, type, actor, object) as Mastodon does."""
    return _answer(services, actor, "Reject", follow)


# --- authored text and mentions (network: always before the transaction) ------------------------------

@dataclass(frozen=True)
class AuthoredText:
    rendered: Rendered
    source: str
    source_type: str


def _local_mention(services: Services, actor: LocalActor, raw: str) -> ResolvedMention:
    uris = services.uris
    return ResolvedMention(raw=raw, actor_uri=uris.actor(actor.name), profile_url=uris.profile_page(actor.name),
                           username=actor.name, domain=uris.domain)


async def _resolve_handle(services: Services, ref: MentionRef) -> ResolvedMention | None:
    """`@ada` and `@ada@ourdomain` are ours (no HTTP); `@user@host` goes through WebFinger."""
    if ref.domain is None or ref.domain == services.uris.domain.lower():
        local = await get_actor(services.db, ref.username.lower())
        return _local_mention(services, local, ref.raw) if local is not None and not local.is_instance else None
    try:
        remote = await services.resolver.actor_by_handle(f"{ref.username}@{ref.domain}")
    except _RESOLVE_ERRORS as exc:
        log.info("mention %s not resolved: %s", ref.raw, exc)
        return None
    return ResolvedMention(raw=ref.raw, actor_uri=remote.uri, profile_url=remote.url or remote.uri,
                           username=remote.username, domain=remote.domain)


async def actor_mention(services: Services, actor_uri: str) -> ResolvedMention | None:
    """A (silent) mention of an actor known by uri: ours from the store, a remote one through the resolver."""
    uris = services.uris
    if uris.is_local(actor_uri):
        ref = uris.parse(actor_uri)
        local = await get_actor(services.db, ref.name) if ref is not None and ref.collection is None else None
        if local is None or ref is None or ref.kind is not None:
            return None
        return _local_mention(services, local, f"@{local.name}")
    try:
        remote = await services.resolver.actor(actor_uri)
    except _RESOLVE_ERRORS as exc:
        log.info("actor %s not resolved: %s", actor_uri, exc)
        return None
    return ResolvedMention(raw=f"@{remote.username}@{remote.domain}", actor_uri=remote.uri,
                           profile_url=remote.url or remote.uri, username=remote.username, domain=remote.domain)


async def render_text(services: Services, source: str, media_type: str) -> AuthoredText:
    """Markdown, HTML or plain text -> Mastodon's HTML subset, mentions resolved and linked, hashtags linked."""
    kind = media_type.split(";", 1)[0].strip().lower()
    syntax = _SYNTAX.get(kind)
    if syntax is None:
        raise ValidationError(f"unsupported mediaType {media_type!r} (text/markdown, text/html, text/plain)")
    if not source.strip() or len(source) > MAX_SOURCE:
        raise ValidationError(f"content must have 1 to {MAX_SOURCE} characters")
    resolved: dict[str, ResolvedMention] = {}
    for ref in find_mentions(source, syntax=syntax)[:MAX_MENTIONS]:
        mention = await _resolve_handle(services, ref)
        if mention is not None:
            resolved[ref.raw.lower()] = mention
    # Rendering is CPU work (markdown-it, nh3): off the event loop, as STYLE.md asks.
    rendered = await asyncio.to_thread(MEDIA_TYPES[kind], source, resolved, services.uris.tag)
    return AuthoredText(rendered, source, kind)


@dataclass(frozen=True)
class NoteTarget:
    """A note we reply to, like or boost: its author and visibility."""

    uri: str
    author_uri: str
    visibility: str


async def note_target(services: Services, uri: str) -> NoteTarget:
    """Who wrote a note and how visible it is: from the store, else fetched from its origin (attribution
    checked); ValidationError if it cannot be had or was deleted."""
    stored = await get_note(services.db, uri)
    if stored is not None and stored.deleted_at is None:
        return NoteTarget(uri, stored.author_uri, stored.visibility)
    if stored is not None or services.uris.is_local(uri):
        raise ValidationError(f"no note {uri}")
    try:
        fetched = await services.resolver.fetch(uri)
        doc = fetched.document
        authors = [a for a in ids_of(as_list(doc.get("attributedTo"))[:10]) if same_origin(a, fetched.url)]
        if not has_type(doc, *NOTE_TYPES) or not authors:
            raise ValidationError(f"{uri} is not a note attributed to an actor on its origin")
        note = note_from_ap(doc, authors[0])
        author = await services.resolver.actor(authors[0])
    except _RESOLVE_ERRORS as exc:
        raise ValidationError(f"cannot fetch the note {uri}: {exc}") from exc
    return NoteTarget(note.uri, author.uri, visibility_of(note.to, note.cc, author.followers))


async def reply_mention(services: Services, in_reply_to: str) -> ResolvedMention | None:
    """The author of the note replied to, as a mention (Mastodon addresses and tags them)."""
    return await actor_mention(services, (await note_target(services, in_reply_to)).author_uri)


async def publish_note(services: Services, actor: LocalActor, *, source: str, media_type: str = "text/markdown",
                       visibility: str = "public", summary: str | None = None, sensitive: bool = False,
                       in_reply_to: str | None = None, language: str | None = None,
                       extra_mentions: Sequence[ResolvedMention] = ()) -> StoredNote:
    """Render, resolve mentions and the replied-to author (network, before any transaction), then store the
    note and publish its Create in one transaction. `extra_mentions`: actors addressed without an @-mention."""
    text = await render_text(services, source, media_type)
    mentions = [*text.rendered.mentions, *extra_mentions]
    if in_reply_to is not None:
        author = await reply_mention(services, in_reply_to)
        if author is not None:
            mentions.append(author)
    note = build_note(services, actor, content_html=text.rendered.html, visibility=visibility, mentions=mentions,
                      hashtags=text.rendered.hashtags, source=text.source, source_type=text.source_type,
                      summary=summary, sensitive=sensitive, language=language, in_reply_to=in_reply_to)
    note = await with_thread(services, note)
    activity = create_activity(services, actor, note)
    audience = await resolve_audience(services, actor, activity)
    async with services.db.transaction() as tx:
        await save_note(tx, note)
        await publish_tx(tx, services, actor, activity, audience)
    kick_workers(services)
    return note


async def edit_note(services: Services, actor: LocalActor, note: StoredNote, *, source: str | None = None,
                    media_type: str = "text/markdown", summary: str | None = None,
                    sensitive: bool | None = None) -> StoredNote:
    """Edit content (when `source` is given), content warning and sensitivity; addressing never changes.
    Stores the new version (with `updated`) and publishes an Update to the note's audience."""
    if source is not None:
        text = await render_text(services, source, media_type)
        mentions = [t for t in note.tags if t.get("type") == "Mention"]   # addressing is kept: so are they
        known = {t.get("href") for t in mentions}
        mentions += [t for t in mention_tags(text.rendered.mentions) if t["href"] not in known]
        tags = mentions + _hashtag_tags(services, text.rendered.hashtags)
        note = replace(note, content_html=text.rendered.html, source=text.source, source_type=text.source_type,
                       tags=tuple(tags))
    summary = note.summary if summary is None else summary or None
    sensitive = note.sensitive if sensitive is None else sensitive
    note = replace(note, summary=summary, sensitive=sensitive or bool(summary), updated=services.clock.time())
    activity = update_activity(services, actor, note, await note_stats(services.db, note.uri, REPLIES_PAGE_SIZE))
    audience = await resolve_audience(services, actor, activity)
    async with services.db.transaction() as tx:
        await save_note(tx, note)
        await publish_tx(tx, services, actor, activity, audience)
    kick_workers(services)
    return note


async def delete_note(services: Services, actor: LocalActor, note: StoredNote) -> dict[str, Any]:
    """Tombstone a local note and publish the Delete; returns the Delete activity."""
    activity = delete_activity(services, actor, note)
    audience = await resolve_audience(services, actor, activity)
    async with services.db.transaction() as tx:
        await tombstone(tx, note.uri, services.clock.time())
        await scrub_object(tx, note.uri, activity["object"])
        await publish_tx(tx, services, actor, activity, audience)
    kick_workers(services)
    return activity
