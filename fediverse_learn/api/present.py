"""Turning stored actors, notes and activities into API entities for one viewer (with per-request caches)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fediverse_learn.api.entities import (
    REMOTE_ACCOUNT_BASE,
    AccountFacts,
    account_entity,
    relationship_entity,
    status_entity,
)
from fediverse_learn.converters import RemoteActor
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor, get_actor_by_id
from fediverse_learn.store.api_accounts import relationship_facts, remote_actor_uri
from fediverse_learn.store.api_statuses import (
    AccountCounts,
    StatusFacts,
    account_counts,
    follows_accepted,
    ids_by_uri,
    status_facts,
)
from fediverse_learn.store.notes_query import StoredActivity
from fediverse_learn.store.oauth import get_app
from fediverse_learn.store.objects import StoredNote, get_note
from fediverse_learn.store.reactions import Boost, get_boost_by_activity
from fediverse_learn.store.remote import get_remote_actor, get_remote_actors
from fediverse_learn.visibility import may_see

__all__ = ["Presenter", "account_uri_by_id"]


async def account_uri_by_id(services: Services, account_id: str) -> str | None:
    """The actor uri behind an API account id (see REMOTE_ACCOUNT_BASE), or None."""
    if not account_id.isdigit() or len(account_id) > 19:
        return None
    number = int(account_id)
    if number >= REMOTE_ACCOUNT_BASE:
        return await remote_actor_uri(services.db, number - REMOTE_ACCOUNT_BASE)
    actor = await get_actor_by_id(services.db, number)
    if actor is None or actor.removed_at is not None or actor.is_instance:
        return None
    return services.uris.actor(actor.name)


class Presenter:
    """Entities as one viewer (a member, or nobody) sees them."""

    def __init__(self, services: Services, viewer: LocalActor | None) -> None:
        self.services = services
        self.viewer = viewer
        self.viewer_uri = services.uris.actor(viewer.name) if viewer is not None else None
        self._accounts: dict[str, dict[str, Any] | None] = {}
        self._apps: dict[int, dict[str, Any] | None] = {}
        self._counts: dict[str, AccountCounts] = {}     # prefetched for a page of statuses
        self._remote: dict[str, tuple[RemoteActor, float]] = {}   # likewise
        self._facts: dict[str, StatusFacts] = {}

    # --- accounts ---------------------------------------------------------------------------------------
    async def local_actor(self, uri: str) -> LocalActor | None:
        ref = self.services.uris.parse(uri)
        if ref is None or ref.collection is not None or ref.kind is not None:
            return None
        actor = await get_actor(self.services.db, ref.name)
        return actor if actor is not None and not actor.is_instance else None

    async def account(self, uri: str) -> dict[str, Any] | None:
        """The Account of an actor uri (ours or a cached remote one), or None if we do not know it."""
        if uri not in self._accounts:
            local = await self.local_actor(uri) if self.services.uris.is_local(uri) else None
            if local is not None:
                self._accounts[uri] = await self.local_account(local)
            elif self.services.uris.is_local(uri):
                self._accounts[uri] = None
            else:
                self._accounts[uri] = await self._remote_account(uri)
        return self._accounts[uri]

    async def local_account(self, actor: LocalActor) -> dict[str, Any]:
        uris = self.services.uris
        uri = uris.actor(actor.name)
        counts = await self._account_counts(uri)
        return account_entity(AccountFacts(
            id=actor.id, username=actor.name, acct=actor.name, display_name=actor.display_name,
            note_html=actor.summary, url=uris.profile_page(actor.name), uri=uri,
            avatar=f"{uris.base}/avatars/original/missing.png", header=f"{uris.base}/headers/original/missing.png",
            locked=actor.manually_approves_followers, bot=False, group=actor.kind == "group",
            discoverable=actor.discoverable, indexable=actor.indexable, created_at=actor.created_at,
            followers_count=counts.followers, following_count=counts.following, statuses_count=counts.statuses,
            last_status_at=counts.last_status_at,
        ))

    async def _account_counts(self, uri: str) -> AccountCounts:
        if uri not in self._counts:
            self._counts.update(await account_counts(self.services.db, [uri]))
        return self._counts[uri]

    async def _remote_account(self, uri: str) -> dict[str, Any] | None:
        found = self._remote.get(uri) or await get_remote_actor(self.services.db, uri)
        counts = await self._account_counts(uri)
        if found is None or counts.remote_id is None:
            return None
        actor, fetched_at = found
        return account_entity(self._remote_facts(actor, REMOTE_ACCOUNT_BASE + counts.remote_id, fetched_at,
                                                 counts.followers, counts.following,
                                                 (counts.statuses, counts.last_status_at)))

    def _remote_facts(self, actor: RemoteActor, account_id: int, fetched_at: float, followers: int, following: int,
                      stats: tuple[int, float | None]) -> AccountFacts:
        base = self.services.uris.base
        return AccountFacts(
            id=account_id, username=actor.username, acct=f"{actor.username}@{actor.domain}",
            display_name=actor.name, note_html=actor.summary_html, url=actor.url or actor.uri, uri=actor.uri,
            avatar=actor.icon_url or f"{base}/avatars/original/missing.png",
            header=actor.header_url or f"{base}/headers/original/missing.png",
            locked=actor.manually_approves_followers, bot=actor.bot, group=actor.type == "Group",
            discoverable=actor.discoverable, indexable=actor.indexable,
            created_at=actor.published.timestamp() if actor.published else fetched_at,
            followers_count=followers, following_count=following, statuses_count=stats[0], last_status_at=stats[1],
        )

    async def account_id(self, uri: str) -> int | None:
        account = await self.account(uri)
        return int(account["id"]) if account is not None else None

    async def relationship(self, target_uri: str) -> dict[str, Any] | None:
        assert self.viewer is not None and self.viewer_uri is not None
        account_id = await self.account_id(target_uri)
        if account_id is None:
            return None
        facts = await relationship_facts(self.services.db, self.viewer.id, self.viewer_uri, target_uri)
        return relationship_entity(account_id, facts)

    # --- statuses ---------------------------------------------------------------------------------------
    async def can_see(self, note: StoredNote) -> bool:
        if note.deleted_at is not None:
            return False
        if note.visibility in ("public", "unlisted"):
            return True
        viewer = self.viewer_uri
        follows = viewer is not None and await follows_accepted(self.services.db, viewer, note.author_uri)
        addressed = [*note.to, *note.cc, *(str(t.get("href")) for t in note.tags if t.get("type") == "Mention")]
        return may_see(note.visibility, viewer, note.author_uri, addressed, follows_author=follows)

    async def _application(self, note: StoredNote, app_id: int | None) -> dict[str, Any] | None:
        if not note.is_local or app_id is None:
            return None
        if app_id not in self._apps:
            app = await get_app(self.services.db, app_id)
            self._apps[app_id] = {"name": app.name, "website": app.website} if app is not None else None
        return self._apps[app_id]

    async def _mentions(self, note: StoredNote) -> list[dict[str, Any]]:
        found = []
        for tag in note.tags:
            href = tag.get("href")
            if tag.get("type") != "Mention" or not isinstance(href, str):
                continue
            account = await self.account(href)
            if account is not None:
                found.append({k: account[k] for k in ("id", "username", "url", "acct")})
        return found

    async def _in_reply_to(self, note: StoredNote) -> tuple[int, int] | None:
        if note.in_reply_to_uri is None:
            return None
        parent = await ids_by_uri(self.services.db, note.in_reply_to_uri)
        if parent is None:
            return None
        account_id = await self.account_id(parent[1])
        return (parent[0], account_id) if account_id is not None else None

    async def status(self, note: StoredNote, *, with_source: bool = False) -> dict[str, Any] | None:
        """The Status of a note (None if its author is unknown to us); the caller checks visibility."""
        account = await self.account(note.author_uri)
        if account is None:
            return None
        facts = self._facts.get(note.uri) or (await self._status_facts([note.uri]))[note.uri]
        flags = None
        if self.viewer is not None:
            f = facts.flags
            flags = (f.favourited, f.reblogged, f.bookmarked, f.pinned)
        tags = [{"name": str(t["name"]).lstrip("#"), "url": t.get("href")} for t in note.tags
                if t.get("type") == "Hashtag" and isinstance(t.get("name"), str)]
        return status_entity(
            id=note.id, uri=note.uri, url=note.url or note.uri, account=account, created_at=note.published,
            edited_at=note.updated, content=note.content_html, spoiler_text=note.summary or "",
            sensitive=note.sensitive, visibility=note.visibility, language=note.language,
            in_reply_to=await self._in_reply_to(note), mentions=await self._mentions(note), tags=tags,
            counts=(facts.replies, facts.reblogs, facts.favourites),
            flags=flags, application=await self._application(note, facts.app_id),
            text=(note.source or "") if with_source else None,
        )

    async def statuses(self, entries: Sequence[StoredNote | Boost]) -> list[dict[str, Any]]:
        """Statuses of the notes and boosts the viewer may see, in order."""
        await self._prefetch(entries)
        found = []
        for entry in entries:
            status = await self.boost(entry) if isinstance(entry, Boost) else (
                await self.status(entry) if await self.can_see(entry) else None)
            if status is not None:
                found.append(status)
        return found

    async def _status_facts(self, uris: list[str]) -> dict[str, StatusFacts]:
        viewer_id = self.viewer.id if self.viewer is not None else None
        return await status_facts(self.services.db, uris, viewer_id, self.viewer_uri)

    async def _prefetch(self, entries: Sequence[StoredNote | Boost]) -> None:
        """The counts and flags of a page of statuses and their accounts, in two queries instead of several
        per status."""
        notes = [e.note if isinstance(e, Boost) else e for e in entries]
        actors = {n.author_uri for n in notes} | {e.actor_uri for e in entries if isinstance(e, Boost)}
        missing = [u for u in actors if u not in self._accounts and u not in self._counts]
        if missing:
            self._counts.update(await account_counts(self.services.db, missing))
            remote = [u for u in missing if not self.services.uris.is_local(u)]
            if remote:
                self._remote.update(await get_remote_actors(self.services.db, remote))
        if notes:
            self._facts.update(await self._status_facts([n.uri for n in notes]))

    async def boost(self, boost: Boost) -> dict[str, Any] | None:
        """A boost as Mastodon shows a reblog: its own id, uri and time, the booster's account, no content of
        its own, the boosted status inside (None if the viewer may not see that)."""
        if not await self.can_see(boost.note):
            return None
        inner = await self.status(boost.note)
        account = await self.account(boost.actor_uri)
        if inner is None or account is None:
            return None
        url = boost.activity_uri if self.services.uris.is_local(boost.actor_uri) else None
        return self._reblog(boost.status_id, boost.activity_uri, url, account, boost.published, inner)

    def _reblog(self, status_id: int, uri: str, url: str | None, account: dict[str, Any], created_at: float,
                inner: dict[str, Any]) -> dict[str, Any]:
        # The viewer's flags of a reblog are those of the boosted status (Mastodon reads them off `proper`).
        flags = (inner["favourited"], inner["reblogged"], inner["bookmarked"], False) if self.viewer else None
        return status_entity(
            id=status_id, uri=uri, url=url, account=account, created_at=created_at, edited_at=None, content="",
            spoiler_text="", sensitive=False, visibility="public", language=None, in_reply_to=None, mentions=[],
            tags=[], counts=(0, 0, 0), flags=flags, application=None, reblog=inner,
        )

    async def reblog(self, activity: StoredActivity) -> dict[str, Any] | None:
        """The Status of one of our Announces: its own id (as in timelines), the boosted status inside."""
        boost = await get_boost_by_activity(self.services.db, activity.uri)
        if boost is not None:
            return await self.boost(boost)
        note = await get_note(self.services.db, activity.object_uri) if activity.object_uri else None
        actor = await get_actor_by_id(self.services.db, activity.actor_id)
        if note is None or actor is None or not await self.can_see(note):
            return None
        inner = await self.status(note)
        account = await self.account(self.services.uris.actor(actor.name))
        if inner is None or account is None:
            return None
        return self._reblog(activity.id, activity.uri, activity.uri, account, activity.published, inner)
