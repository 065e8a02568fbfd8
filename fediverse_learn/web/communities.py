"""Community routes: thread `context` collections (FEP-7888/FEP-f228) and moderators collections (FEP-1b12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.communities import moderators_uri, thread_context_uri
from fediverse_learn.documents import AS_CONTEXT
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor, get_actor_by_id
from fediverse_learn.store.communities import communities_of_post, has_thread, list_moderators
from fediverse_learn.store.objects import StoredNote, get_note_by_id
from fediverse_learn.store.threads import count_thread, thread_page
from fediverse_learn.uris import Uris
from fediverse_learn.web.responses import ActivityJSONResponse, error_response

__all__ = ["CONTEXT_PAGE_SIZE", "community_routes"]

CONTEXT_PAGE_SIZE = 50     # posts per page of a thread's context collection
_MAX_PAGE = 10_000


@dataclass(frozen=True)
class _Thread:
    """The thread a context URL names: its top-level post, owner, community (if any) and collection id."""

    top: StoredNote
    owner: str
    community: str | None
    community_id: int | None
    collection: str


async def _thread(services: Services, name: str, note_id: int) -> _Thread | None:
    """A thread is ours to serve when `name` is the local author of its top-level post, or the community that
    accepted a thread whose top-level post came from a server that gave it no context."""
    db, uris = services.db, services.uris
    owner = await get_actor(db, name)
    top = await get_note_by_id(db, note_id)
    if owner is None or top is None or top.deleted_at is not None or top.visibility not in ("public", "unlisted"):
        return None
    collection = thread_context_uri(uris, name, note_id)
    if owner.kind == "group":
        if not await has_thread(db, owner.id, top.uri):
            return None
        return _Thread(top, uris.actor(name), uris.actor(name), owner.id, collection)
    if top.local_actor_id != owner.id or top.in_reply_to_uri is not None:
        return None
    community: LocalActor | None = None
    for post in await communities_of_post(db, top.uri):
        community = await get_actor_by_id(db, post.community_id)
        break
    return _Thread(top, uris.actor(name), uris.actor(community.name) if community else None,
                   community.id if community else None, collection)


def _page(thread: _Thread, number: int, items: list[str], total: int, uris: Uris) -> dict[str, Any]:
    page: dict[str, Any] = {"id": uris.collection_page(thread.collection, page=number),
                            "type": "OrderedCollectionPage", "partOf": thread.collection}
    if number * CONTEXT_PAGE_SIZE < total:
        page["next"] = uris.collection_page(thread.collection, page=number + 1)
    if number > 1:
        page["prev"] = uris.collection_page(thread.collection, page=number - 1)
    page["orderedItems"] = items
    return page


def community_routes(services: Services) -> list[BaseRoute]:
    uris = services.uris

    async def context(request: Request) -> Response:
        thread = await _thread(services, request.path_params["name"], request.path_params["id"])
        if thread is None:
            return error_response(404, "not found")
        arg = request.query_params.get("page")
        number = int(arg) if arg is not None and arg.isdigit() and 0 < int(arg) <= _MAX_PAGE else 1
        total = await count_thread(services.db, thread.top.uri, community_id=thread.community_id)
        items = await thread_page(services.db, thread.top.uri, community_id=thread.community_id,
                                  limit=CONTEXT_PAGE_SIZE, offset=(number - 1) * CONTEXT_PAGE_SIZE)
        page = _page(thread, number, items, total, uris)
        if arg is not None:
            return ActivityJSONResponse({"@context": AS_CONTEXT, **page})
        doc: dict[str, Any] = {"@context": AS_CONTEXT, "id": thread.collection, "type": "OrderedCollection",
                               "attributedTo": thread.owner, "totalItems": total}
        if thread.community is not None:
            doc["audience"] = thread.community
        doc["first"] = page
        return ActivityJSONResponse(doc)

    async def moderators(request: Request) -> Response:
        community = await get_actor(services.db, request.path_params["name"])
        if community is None or community.kind != "group":
            return error_response(404, "not found")
        items = await list_moderators(services.db, community.id)
        return ActivityJSONResponse({"@context": AS_CONTEXT, "id": moderators_uri(uris, community.name),
                                     "type": "OrderedCollection", "totalItems": len(items), "orderedItems": items})

    return [
        Route("/users/{name}/statuses/{id:int}/context", context),
        Route("/users/{name}/moderators", moderators),
    ]
