"""Actor routes: Person/Group and instance actor documents by content negotiation, profile pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from fediverse_learn.documents import AS_CONTEXT, to_ap_actor, to_ap_instance_actor, to_ap_ordered_collection
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.communities import CommunitySettings, get_settings
from fediverse_learn.store.follows import count_followers, count_following, list_followers, list_following
from fediverse_learn.store.moderation import is_suspended
from fediverse_learn.web.auth import signed_by
from fediverse_learn.web.pages import profile_page
from fediverse_learn.web.responses import ActivityJSONResponse, error_response, wants_activitypub

__all__ = ["actor_routes"]

PAGE_SIZE = 40


def actor_routes(services: Services) -> list[Route]:
    uris = services.uris

    async def _actor(request: Request) -> LocalActor | None:
        actor = await get_actor(services.db, request.path_params["name"])
        if actor is None or actor.is_instance:
            return None
        return actor

    async def _community_settings(actor: LocalActor) -> CommunitySettings | None:
        """A community's settings (its Group document says them); None for a member."""
        return await get_settings(services.db, actor) if actor.kind == "group" else None

    async def instance_actor(request: Request) -> Response:
        doc = to_ap_instance_actor(services.instance, uris, services.config.instance.name)
        return ActivityJSONResponse(doc)

    async def actor_document(request: Request) -> Response:
        actor = await _actor(request)
        if actor is None:
            return error_response(404, "not found")
        if await is_suspended(services.db, uris.actor(actor.name)):
            return error_response(410, "gone")
        if wants_activitypub(request):
            await signed_by(services, request)
            return ActivityJSONResponse(to_ap_actor(actor, uris, await _community_settings(actor)))
        return RedirectResponse(uris.profile_page(actor.name), status_code=302)

    async def profile(request: Request) -> Response:
        actor = await _actor(request)
        if actor is None:
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        if await is_suspended(services.db, uris.actor(actor.name)):
            return HTMLResponse("<h1>Gone</h1>", status_code=410)
        if wants_activitypub(request):
            return ActivityJSONResponse(to_ap_actor(actor, uris, await _community_settings(actor)))
        actor_uri = uris.actor(actor.name)
        followers = await count_followers(services.db, actor_uri)
        following = await count_following(services.db, actor_uri)
        html = profile_page(actor, uris, followers, following)
        return HTMLResponse(html, headers={"Vary": "Accept"})

    async def follow_collection(request: Request) -> Response:
        actor = await _actor(request)
        if actor is None:
            return error_response(404, "not found")
        actor_uri = uris.actor(actor.name)
        followers = request.url.path.endswith("/followers")
        if followers:
            cid, total = uris.followers(actor.name), await count_followers(services.db, actor_uri)
        else:
            cid, total = uris.following(actor.name), await count_following(services.db, actor_uri)
        page_arg = request.query_params.get("page")
        if page_arg is None:
            return ActivityJSONResponse(to_ap_ordered_collection(cid, total, f"{cid}?page=1"))
        page = int(page_arg) if page_arg.isdigit() and 0 < int(page_arg) < 100_000 else 1
        lister = list_followers if followers else list_following
        items = await lister(services.db, actor_uri, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        doc: dict[str, Any] = {
            "@context": AS_CONTEXT, "id": f"{cid}?page={page}", "type": "OrderedCollectionPage",
            "totalItems": total, "partOf": cid, "orderedItems": items,
        }
        if page * PAGE_SIZE < total:
            doc["next"] = f"{cid}?page={page + 1}"
        if page > 1:
            doc["prev"] = f"{cid}?page={page - 1}"
        return ActivityJSONResponse(doc)

    return [
        Route("/actor", instance_actor),
        Route("/users/{name}", actor_document),
        Route("/@{name}", profile),
        Route("/users/{name}/followers", follow_collection),
        Route("/users/{name}/following", follow_collection),
    ]
