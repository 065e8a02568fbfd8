"""Thread backfill: missing ancestors up the `inReplyTo` chain; whole threads from `context` (FEP-f228) or `replies`.

Every GET is signed as the instance actor (`services.resolver.fetch`) and counted against a budget, so a
hostile server serving endless chains or pages costs at most that many requests. Posts are fetched from their
own origin (an embedded copy counts only when served by that origin) and stored one short transaction each;
nothing here holds a transaction across a fetch. Fetch failures end the walk quietly: backfill is best effort.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fediverse_learn.converters import NOTE_TYPES
from fediverse_learn.errors import DomainBlocked, FetchError, ValidationError
from fediverse_learn.services import Services
from fediverse_learn.store.objects import get_note, is_tombstoned
from fediverse_learn.store.threads import thread_top
from fediverse_learn.vocab import as_list, has_type, http_url, id_of, same_origin
from inbox.handlers.common import ResolvedNote, author_on_origin, note_from_document, store_new_note

__all__ = [
    "MAX_ANCESTORS", "MAX_PAGES", "MAX_THREAD_FETCHES", "Backfilled", "Budget", "backfill_thread", "fetch_ancestors",
]

log = logging.getLogger(__name__)

MAX_ANCESTORS = 20          # parents fetched for one reply
MAX_THREAD_FETCHES = 100    # GETs (posts and collection pages) to backfill one thread
MAX_PAGES = 20              # pages read from one collection
_MAX_ITEMS = 1_000          # items taken from one collection
_ERRORS = (FetchError, ValidationError, DomainBlocked)


@dataclass
class Budget:
    """GETs left for one backfill; `spent` counts the ones made, `stored` the posts stored."""

    left: int
    spent: int = 0
    stored: int = 0
    fetched: dict[str, dict[str, Any] | None] = field(default_factory=dict)   # each URL is fetched once

    def take(self) -> bool:
        """Spend one GET; False when the budget is used up."""
        if self.left <= 0:
            return False
        self.left -= 1
        self.spent += 1
        return True


async def _wanted(services: Services, uri: str) -> bool:
    """A post worth fetching: remote, not deleted, not stored yet."""
    if services.uris.is_local(uri) or await is_tombstoned(services.db, uri):
        return False
    return await get_note(services.db, uri) is None


async def _fetch_doc(services: Services, url: str, budget: Budget) -> dict[str, Any] | None:
    """A document by URL (signed GET, its id the URL fetched), at most once per backfill."""
    if url in budget.fetched:
        return budget.fetched[url]
    if not budget.take():
        return None
    try:
        doc: dict[str, Any] | None = (await services.resolver.fetch(url)).document
    except _ERRORS as exc:
        log.info("backfill: %s not fetched: %s", url, exc)
        doc = None
    budget.fetched[url] = doc
    return doc


async def _store(services: Services, resolved: ResolvedNote, budget: Budget) -> None:
    async with services.db.transaction() as tx:
        if await store_new_note(tx, services, resolved, services.clock.time()) is not None:
            budget.stored += 1


async def _fetch_post(services: Services, uri: str, budget: Budget) -> ResolvedNote | None:
    """A post from its origin (attributed to an actor there), stored if new; None if it cannot be had."""
    doc = await _fetch_doc(services, uri, budget)
    if doc is None or not has_type(doc, *NOTE_TYPES):
        return None
    try:
        resolved = await note_from_document(services, doc, author_on_origin(doc, str(doc.get("id"))))
    except _ERRORS as exc:
        log.info("backfill: %s not taken: %s", uri, exc)
        return None
    await _store(services, resolved, budget)
    return resolved


async def fetch_ancestors(services: Services, uri: str, *, limit: int = MAX_ANCESTORS) -> int:
    """Fetch and store the posts we lack up the chain that starts at `uri` (a reply's `inReplyTo`), until
    one we have, a local or deleted one, a failure, a cycle, or `limit` fetches. Returns how many were stored."""
    budget = Budget(limit)
    await _climb(services, uri, budget)
    return budget.stored


async def _climb(services: Services, uri: str, budget: Budget) -> None:
    current: str | None = uri
    while current is not None and await _wanted(services, current):
        resolved = await _fetch_post(services, current, budget)
        if resolved is None:
            if budget.left <= 0:
                log.info("backfill: ancestors of %s stop at the limit, before %s", uri, current)
            return
        current = resolved.note.in_reply_to


@dataclass(frozen=True)
class Backfilled:
    """What one thread backfill did: posts stored, GETs made, and which collection it read."""

    stored: int
    fetches: int
    source: str             # "context", "replies" or "none"


async def backfill_thread(services: Services, uri: str, *, max_fetches: int = MAX_THREAD_FETCHES) -> Backfilled:
    """Complete the thread `uri` belongs to: its ancestors, then every post of its top-level post's `context`
    collection if it has one (FEP-f228), else the tree of `replies` collections, within `max_fetches` GETs."""
    budget = Budget(max_fetches)
    if await _wanted(services, uri):
        await _fetch_post(services, uri, budget)
    note = await get_note(services.db, uri)
    if note is None or note.deleted_at is not None:
        return Backfilled(budget.stored, budget.spent, "none")
    if note.in_reply_to_uri is not None:
        await _climb(services, note.in_reply_to_uri, budget)
    top = await thread_top(services.db, note)
    source = "none"
    context = top.context_uri
    if context is not None and not services.uris.is_local(context) and await _from_context(services, context, budget):
        source = "context"
    if source == "none" and not services.uris.is_local(top.uri):
        top_doc = await _fetch_doc(services, top.uri, budget)
        if top_doc is not None:
            await _walk_replies(services, top_doc, budget)
            source = "replies"
    log.info("backfill of %s from %s: %d posts stored, %d fetches", uri, source, budget.stored, budget.spent)
    return Backfilled(budget.stored, budget.spent, source)


async def _items(services: Services, collection: Any, budget: Budget) -> list[Any]:
    """The items of a collection (a URL, or embedded in a document), page after page, within the budget."""
    doc: Any = collection
    if isinstance(collection, str):
        if http_url(collection) is None:
            return []
        doc = await _fetch_doc(services, collection, budget)
    if not isinstance(doc, Mapping):
        return []
    found = as_list(doc.get("orderedItems") or doc.get("items"))[:_MAX_ITEMS]
    page: Any = doc.get("first")
    for _ in range(MAX_PAGES):
        if page is None or len(found) >= _MAX_ITEMS:
            break
        if isinstance(page, str):
            page = await _fetch_doc(services, page, budget) if http_url(page) is not None else None
        if not isinstance(page, Mapping):
            break
        found += as_list(page.get("orderedItems") or page.get("items"))[: _MAX_ITEMS - len(found)]
        page = page.get("next")
    return found


async def _post_of(services: Services, item: Any, budget: Budget, served_by: str) -> ResolvedNote | None:
    """The post an item names: an id, an embedded post (taken as is only when `served_by` is its origin),
    or an activity (Create) carrying one. Stored if new; posts we hold are not fetched again."""
    if isinstance(item, Mapping) and has_type(item, "Create", "Update", "Announce"):
        item = item.get("object")
    uri = http_url(id_of(item))
    if uri is None or not await _wanted(services, uri):
        return None
    if isinstance(item, Mapping) and has_type(item, *NOTE_TYPES) and same_origin(uri, served_by):
        try:
            resolved = await note_from_document(services, item, author_on_origin(item, uri))
        except _ERRORS as exc:
            log.info("backfill: embedded %s not taken: %s", uri, exc)
            return None
        await _store(services, resolved, budget)
        return resolved
    return await _fetch_post(services, uri, budget)


async def _from_context(services: Services, context_uri: str, budget: Budget) -> bool:
    """Store the posts of a context collection; False if it is not a readable collection of posts."""
    items = await _items(services, context_uri, budget)
    if not items:
        return False
    for item in items:
        if budget.left <= 0:
            break
        await _post_of(services, item, budget, context_uri)
    return True


async def _walk_replies(services: Services, top_doc: dict[str, Any], budget: Budget) -> None:
    """Breadth first down the `replies` collections from the top-level post, within the budget."""
    queue: deque[dict[str, Any]] = deque([top_doc])
    while queue and budget.left > 0:
        doc = queue.popleft()
        owner = http_url(id_of(doc.get("id")))
        replies = doc.get("replies")
        if owner is None or replies is None:
            continue
        if isinstance(replies, str) and not same_origin(replies, owner):
            continue
        for item in await _items(services, replies, budget):
            if budget.left <= 0:
                break
            child = await _child_doc(services, item, budget, owner)
            if child is not None:
                queue.append(child)


async def _child_doc(services: Services, item: Any, budget: Budget, served_by: str) -> dict[str, Any] | None:
    """The document of one reply, for its own `replies`: embedded by its origin, else fetched once."""
    uri = http_url(id_of(item))
    if uri is None or services.uris.is_local(uri):
        return None
    if isinstance(item, Mapping) and same_origin(uri, served_by) and "replies" in item:
        await _post_of(services, item, budget, served_by)
        return dict(item)
    if await _wanted(services, uri):
        await _fetch_post(services, uri, budget)
        return budget.fetched.get(uri)
    return await _fetch_doc(services, uri, budget)
