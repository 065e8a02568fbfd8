"""Discovery routes: WebFinger, host-meta and NodeInfo 2.0/2.1."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_learn import __version__
from fediverse_learn.services import Services
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.stats import usage
from fediverse_learn.web.responses import JRDResponse, JSONResponse, error_response
from fediverse_learn.webfinger import parse_resource, to_jrd, to_jrd_instance

__all__ = ["discovery_routes"]

CORS = {"Access-Control-Allow-Origin": "*"}
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{v}"


def discovery_routes(services: Services) -> list[Route]:
    uris = services.uris

    async def webfinger(request: Request) -> Response:
        resource = request.query_params.get("resource")
        if not resource:
            return JSONResponse({"error": "resource parameter required"}, status_code=400, headers=CORS)
        name = parse_resource(resource, uris)
        if name == "":
            return JRDResponse(to_jrd_instance(uris), headers=CORS)
        if name is None:
            return JSONResponse({"error": "not found"}, status_code=404, headers=CORS)
        actor = await get_actor(services.db, name)
        if actor is None or actor.kind == "application":
            return JSONResponse({"error": "not found"}, status_code=404, headers=CORS)
        return JRDResponse(to_jrd(actor.name, uris), headers=CORS)

    async def host_meta(request: Request) -> Response:
        template = escape(uris.webfinger_template(), quote=True)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
            f'  <Link rel="lrdd" template="{template}"/>\n'
            "</XRD>\n"
        )
        return Response(body, media_type="application/xrd+xml", headers=CORS)

    async def nodeinfo_index(request: Request) -> Response:
        links = [
            {"rel": NODEINFO_SCHEMA.format(v=v), "href": uris.nodeinfo(v)} for v in ("2.0", "2.1")
        ]
        return JSONResponse({"links": links}, headers=CORS)

    async def nodeinfo(request: Request) -> Response:
        version = request.path_params["version"]
        if version not in ("2.0", "2.1"):
            return error_response(404, "not found")
        counts = await usage(services.db, services.clock.time())
        software: dict[str, Any] = {"name": "fediverse-learn", "version": __version__}
        if version == "2.1":
            software["homepage"] = f"{uris.base}/about"
        doc = {
            "version": version,
            "software": software,
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": services.config.instance.registrations == "open",
            "usage": {
                "users": {
                    "total": counts.users,
                    "activeMonth": counts.active_month,
                    "activeHalfyear": counts.active_halfyear,
                },
                "localPosts": counts.local_posts,
            },
            "metadata": {
                "nodeName": services.config.instance.name,
                "nodeDescription": services.config.instance.description,
                "federationMode": services.config.federation.mode,
            },
        }
        media = f'application/json; profile="{NODEINFO_SCHEMA.format(v=version)}#"'
        response = JSONResponse(doc, headers=CORS)
        response.headers["content-type"] = media
        return response

    return [
        Route("/.well-known/webfinger", webfinger),
        Route("/.well-known/host-meta", host_meta),
        Route("/.well-known/nodeinfo", nodeinfo_index),
        Route("/nodeinfo/{version}", nodeinfo),
    ]
