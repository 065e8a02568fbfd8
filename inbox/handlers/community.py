"""Communities in the inbox: a local Group shares the posts addressed to it; relayed posts of remote Groups.

The group side (FEP-1b12): after a Create is stored, each local community it addresses (`to`, `cc`,
`audience`) or mentions, or whose thread it replies in, checks its rules (`communities.refusal`) and announces
it once: the Create wrapped unchanged to group-aware followers, and a boost of a thread's top-level post to
the others (`outbox.community`). The post gets the community as `audience` and its thread's `context`.
The receiving side: a community's Announce(Create) is taken from the post's origin; its `audience`, `context`
and title are filled in when the post's own server set none; Announce(Delete|Remove) of a post in that
community removes our copy (never a post of ours).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fediverse_learn.communities import (
    PostRequest,
    addressed_uris,
    local_names,
    refusal,
    scope_admits,
    thread_context_uri,
    title_from_content,
)
from fediverse_learn.errors import DomainBlocked, FetchError, ValidationError
from fediverse_learn.events import publish_boost, publish_delete
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor_by_id
from fediverse_learn.store.communities import (
    communities_of_post,
    community_named,
    get_settings,
    is_banned,
    is_locked,
    is_moderator,
    record_post,
)
from fediverse_learn.store.follows import get_follow
from fediverse_learn.store.objects import StoredNote, get_note, is_tombstoned, tombstone
from fediverse_learn.store.reactions import add_reaction
from fediverse_learn.store.threads import set_thread_fields, thread_top
from fediverse_learn.vocab import has_type, host_of, http_url, id_of, same_origin
from inbox.backfill import fetch_ancestors
from inbox.handlers.common import embedded_object, fetch_note, store_new_note
from inbox.incoming import Incoming
from outbox.community import announce_tx, boost_tx, follower_fanout
from outbox.publish import kick_workers

__all__ = ["handle_announced_removal", "handle_relayed_create", "in_scope", "relay_to_communities",
           "share_with_communities"]

log = logging.getLogger(__name__)

_FETCH_ERRORS = (FetchError, ValidationError, DomainBlocked)


async def _communities(services: Services, uris: Iterable[str]) -> list[LocalActor]:
    found: list[LocalActor] = []
    for name in local_names(services.uris, uris):
        community = await community_named(services.db, name)
        if community is not None:
            found.append(community)
    return found


def _candidates(activity: dict[str, Any], note: StoredNote) -> list[str]:
    """Everyone a stored post and its Create name: addressees, `audience` and mentions."""
    mentions = [str(t["href"]) for t in note.tags if t.get("type") == "Mention" and isinstance(t.get("href"), str)]
    audience = [note.audience_uri] if note.audience_uri else []
    return [*addressed_uris(activity, embedded_object(activity)), *note.to, *note.cc, *audience, *mentions]


async def share_with_communities(services: Services, incoming: Incoming, note_uri: str) -> None:
    """After a Create was handled: fetch the reply's missing ancestors, then let every local community the
    post addresses, or whose thread it replies in, decide whether to announce it."""
    note = await get_note(services.db, note_uri)
    if note is None or note.deleted_at is not None or note.author_uri != incoming.actor_uri:
        return
    if note.in_reply_to_uri is not None and await get_note(services.db, note.in_reply_to_uri) is None:
        await fetch_ancestors(services, note.in_reply_to_uri)
    await _inherit_context(services, note)
    communities = await _communities(services, _candidates(incoming.activity, note))
    if note.in_reply_to_uri is not None:
        for post in await communities_of_post(services.db, note.in_reply_to_uri):
            community = await get_actor_by_id(services.db, post.community_id)
            if community is not None and community.removed_at is None:
                communities.append(community)
    for community in {c.id: c for c in communities}.values():
        await _share(services, community, incoming.activity, note)


async def _inherit_context(services: Services, note: StoredNote) -> None:
    """A reply whose server set no `context` joins its parent's (FEP-7888: a consumer groups it there)."""
    if note.context_uri is not None or note.in_reply_to_uri is None:
        return
    parent = await get_note(services.db, note.in_reply_to_uri)
    if parent is not None and parent.context_uri is not None:
        async with services.db.transaction() as tx:
            await set_thread_fields(tx, note.uri, context=parent.context_uri)


async def in_scope(services: Services, community: LocalActor, actor_uri: str) -> bool:
    """Whether the community's scope (local, allowlist, public) admits the actor: to join, and to post."""
    scope = (await get_settings(services.db, community)).scope
    if scope == "public":
        return True
    try:
        host = host_of(actor_uri)
    except ValidationError:
        return False
    allowed = (await services.domain_rules()).allowed
    return scope_admits(scope, host, services.config.instance.domain, allowed)


async def _post_request(services: Services, community: LocalActor, note: StoredNote, root_uri: str) -> PostRequest:
    community_uri = services.uris.actor(community.name)
    follow = await get_follow(services.db, note.author_uri, community_uri)
    return PostRequest(
        member=follow is not None and follow.state == "accepted",
        moderator=await is_moderator(services.db, community.id, note.author_uri),
        banned=await is_banned(services.db, community.id, note.author_uri, services.clock.time()),
        public=note.visibility in ("public", "unlisted"),
        top_level=note.in_reply_to_uri is None,
        restricted=(await get_settings(services.db, community)).posting_restricted_to_mods,
        locked=await is_locked(services.db, community.id, root_uri),
        in_scope=await in_scope(services, community, note.author_uri),
    )


async def _thread_of(services: Services, community: LocalActor, note: StoredNote) -> tuple[str, str]:
    """(top-level post uri, context) of the thread a post joins in this community. The context is the post's
    own, else its parent's or the top-level post's, else the top-level post's `context` collection here."""
    top = await thread_top(services.db, note)
    parent = await get_note(services.db, note.in_reply_to_uri) if note.in_reply_to_uri else None
    context = note.context_uri or (parent.context_uri if parent else None) or top.context_uri
    if context is None:
        ref = services.uris.parse(top.author_uri)
        owner = ref.name if top.is_local and ref is not None else community.name
        context = thread_context_uri(services.uris, owner, top.id)
    for post in await communities_of_post(services.db, top.uri):
        if post.community_id == community.id:
            return post.root_uri, context
    return top.uri, context


async def _share(services: Services, community: LocalActor, activity: dict[str, Any], note: StoredNote) -> None:
    """One community's decision on one post, and its announces when it takes it (once, whatever arrives)."""
    community_uri = services.uris.actor(community.name)
    if note.author_uri == community_uri:
        return
    if any(p.community_id == community.id for p in await communities_of_post(services.db, note.uri)):
        return   # shared already (a redelivery): nothing to ask anyone
    root_uri, context = await _thread_of(services, community, note)
    reason = refusal(await _post_request(services, community, note, root_uri))
    if reason is not None:
        log.info("community %s does not share %s: %s", community.name, note.uri, reason)
        return
    fanout = await follower_fanout(services, community)
    top_level = note.in_reply_to_uri is None
    title = title_from_content(note.content_html) if top_level and note.name is None else None
    async with services.db.transaction() as tx:
        if not await record_post(tx, community.id, note.uri, root_uri, note.author_uri, services.clock.time()):
            return
        await set_thread_fields(tx, note.uri, audience=community_uri, context=context, name=title)
        await announce_tx(tx, services, community, activity, fanout.group_aware, context=context)
        boost = (await boost_tx(tx, services, community, note.uri, note.author_uri, fanout.others)
                 if top_level else None)
    kick_workers(services)
    if boost is not None:
        publish_boost(services, boost)
    log.info("community %s shares %s (%d group-aware inboxes, %d others)", community.name, note.uri,
             len(fanout.group_aware), len(fanout.others) if top_level else 0)


async def relay_to_communities(services: Services, incoming: Incoming, note_uri: str) -> int:
    """Announce an activity about a post (its author's Update) to the group-aware followers of every local
    community that took the post, once each; returns how many communities announced it."""
    announced = 0
    for post in await communities_of_post(services.db, note_uri):
        community = await get_actor_by_id(services.db, post.community_id)
        if community is None or community.removed_at is not None:
            continue
        fanout = await follower_fanout(services, community)
        async with services.db.transaction() as tx:
            announced += await announce_tx(tx, services, community, incoming.activity, fanout.group_aware)
        kick_workers(services)
    return announced


# --- the receiving side: posts and removals relayed by remote communities ------------------------------

async def handle_relayed_create(services: Services, incoming: Incoming) -> None:
    """A community's Announce(Create): store the post if new (fetched from its origin: the wrapped Create is
    not signed by its actor, SECURITY.md b.5.4), fetch its missing ancestors, and fill in the community as
    its `audience`, the Announce's `context` and a title when its author's server set none. A post of ours
    that addressed the community learns its `audience` and `context` the same way."""
    inner = embedded_object(incoming.activity) or {}
    uri = http_url(id_of(inner.get("object")))
    if uri is None or await is_tombstoned(services.db, uri):
        return
    if services.uris.is_local(uri):
        own = await get_note(services.db, uri)
        if own is not None and own.deleted_at is None:
            await _adopt_thread(services, incoming, own)
            await _inherit_context(services, own)
        return
    if await get_note(services.db, uri) is None:
        resolved = await fetch_note(services, uri)
        if resolved is None:
            return
        async with services.db.transaction() as tx:
            await store_new_note(tx, services, resolved, services.clock.time())
    note = await get_note(services.db, uri)
    if note is None or note.deleted_at is not None:
        return
    if note.in_reply_to_uri is not None and await get_note(services.db, note.in_reply_to_uri) is None:
        await fetch_ancestors(services, note.in_reply_to_uri)
    await _adopt_thread(services, incoming, note)
    await _inherit_context(services, note)


async def _adopt_thread(services: Services, incoming: Incoming, note: StoredNote) -> None:
    """Thread fields from the community that relayed a post, only if the post itself names that community
    (else any Group could claim any post, and then remove it from us)."""
    announcer = incoming.actor_uri
    if announcer not in _candidates({}, note):
        return
    try:
        group = (await services.resolver.actor(announcer)).type == "Group"
    except _FETCH_ERRORS as exc:
        log.info("announcer %s not resolved: %s", announcer, exc)
        return
    if not group:
        return
    context = http_url(id_of(incoming.activity.get("context")))
    top_level = note.in_reply_to_uri is None and note.name is None and not note.is_local
    title = title_from_content(note.content_html) if top_level else None
    boosted = False
    async with services.db.transaction() as tx:
        await set_thread_fields(tx, note.uri, audience=announcer,
                                context=context if context and same_origin(context, announcer) else None,
                                name=title)
        if note.in_reply_to_uri is None and note.visibility in ("public", "unlisted"):
            # a new thread shared by the community: its boost (Mastodon's reblog), for its members' home
            # timelines and its account page, as the Announce(Note) sent to Mastodon-style servers would be
            boosted = await add_reaction(tx, "announce", announcer, note.uri, str(incoming.activity["id"]),
                                         services.clock.time())
    if boosted:
        publish_boost(services, str(incoming.activity["id"]))


async def handle_announced_removal(services: Services, incoming: Incoming) -> None:
    """A community's Announce(Delete|Remove) of a post in it: our copy of that remote post is removed. A
    community removes only posts whose `audience` it is, and never a post of ours."""
    inner = embedded_object(incoming.activity)
    if inner is None:
        return
    target = id_of(inner.get("target"))
    if has_type(inner, "Remove") and target not in (None, incoming.actor_uri):
        return   # a Remove from `featured` or `moderators`, not of a post
    uri = http_url(id_of(inner.get("object")))
    note = await get_note(services.db, uri) if uri is not None else None
    if note is None or note.deleted_at is not None or note.is_local:
        return
    if note.audience_uri != incoming.actor_uri:
        log.info("%s announced the removal of %s, which is not in it: ignored", incoming.actor_uri, note.uri)
        return
    async with services.db.transaction() as tx:
        await tombstone(tx, note.uri, services.clock.time())
    publish_delete(services, note)
    log.info("%s removed %s", incoming.actor_uri, note.uri)
