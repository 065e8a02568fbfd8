"""Instance metadata (`/api/v1/instance`, `/api/v2/instance`) and the small read-only endpoints clients call on
start: custom emojis, preferences, filters; plus the default avatar and header images."""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn import __version__
from fediverse_learn.api.auth import authenticate
from fediverse_learn.api.errors import api_view, json_response
from fediverse_learn.api.present import Presenter
from fediverse_learn.services import Services
from fediverse_learn.store.actors import list_actors
from fediverse_learn.store.stats import usage
from outbox.compose import MAX_SOURCE

__all__ = ["VERSION", "instance_routes"]

VERSION = f"4.3.0 (compatible; fediverse-learn {__version__})"
MAX_PINNED = 5
# A 1x1 grey PNG: the avatar and header of accounts without images.
_MISSING_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGPYsOMAAAREAilCMwxMAAAAAElFTkSuQmCC"


def _limits() -> dict[str, Any]:
    return {
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": MAX_PINNED, "max_display_name_length": 100,
                     "max_note_length": 5000, "max_profile_fields": 0},
        "statuses": {"max_characters": MAX_SOURCE, "max_media_attachments": 0, "characters_reserved_per_url": 23},
        "media_attachments": {"supported_mime_types": [], "description_limit": 1500, "image_size_limit": 0,
                              "image_matrix_limit": 0, "video_size_limit": 0, "video_frame_rate_limit": 0,
                              "video_matrix_limit": 0},
        "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 300,
                  "max_expiration": 2629746},
    }


async def _contact(services: Services) -> dict[str, Any] | None:
    admins = [a for a in await list_actors(services.db, "person") if a.role == "admin"]
    return await Presenter(services, None).local_account(admins[0]) if admins else None


async def instance_v2(services: Services) -> dict[str, Any]:
    cfg = services.config.instance
    base = services.uris.base
    stats = await usage(services.db, services.clock.time())
    return {
        "domain": services.uris.domain, "title": cfg.name, "version": VERSION,
        "source_url": f"{base}/", "description": cfg.description,
        "usage": {"users": {"active_month": stats.active_month}},
        "thumbnail": {"url": f"{base}/headers/original/missing.png"}, "icon": [], "languages": ["en"],
        "configuration": {
            "urls": {"streaming": base.replace("http", "ws", 1), "status": None, "about": f"{base}/about",
                     "privacy_policy": None, "terms_of_service": None},
            "vapid": {"public_key": ""}, **_limits(),
            "translation": {"enabled": False},
            "timelines_access": {"live_feeds": {"local": "public", "remote": "public"},
                                 "hashtag_feeds": {"local": "public", "remote": "public"},
                                 "trending_link_feeds": {"local": "public", "remote": "public"}},
            "limited_federation": services.config.federation.mode == "allowlist",
        },
        "registrations": {"enabled": cfg.registrations != "closed",
                          "approval_required": cfg.registrations == "approval",
                          "reason_required": False, "message": None, "min_age": None, "url": None},
        "api_versions": {"mastodon": 2},
        "contact": {"email": "", "account": await _contact(services)},
        "rules": [],
    }


async def instance_v1(services: Services) -> dict[str, Any]:
    cfg = services.config.instance
    base = services.uris.base
    stats = await usage(services.db, services.clock.time())
    domains = int(await services.db.fetchval("SELECT count(DISTINCT domain) FROM remote_actors"))
    return {
        "uri": services.uris.domain, "title": cfg.name, "short_description": cfg.description,
        "description": cfg.description, "email": "", "version": VERSION,
        "urls": {"streaming_api": base.replace("http", "ws", 1)},
        "stats": {"user_count": stats.users, "status_count": stats.local_posts, "domain_count": domains},
        "thumbnail": f"{base}/headers/original/missing.png", "languages": ["en"],
        "registrations": cfg.registrations != "closed", "approval_required": cfg.registrations == "approval",
        "invites_enabled": cfg.registrations == "invite", "configuration": _limits(),
        "contact_account": await _contact(services), "rules": [],
    }


def instance_routes(services: Services) -> list[BaseRoute]:
    @api_view
    async def v1(request: Request) -> Response:
        return json_response(await instance_v1(services))

    @api_view
    async def v2(request: Request) -> Response:
        return json_response(await instance_v2(services))

    async def empty_list(request: Request) -> Response:
        return json_response([])

    @api_view
    async def filters(request: Request) -> Response:
        await authenticate(services, request, "read:filters")
        return json_response([])

    @api_view
    async def preferences(request: Request) -> Response:
        await authenticate(services, request, "read:accounts")
        return json_response({"posting:default:visibility": "public", "posting:default:sensitive": False,
                              "posting:default:language": None, "reading:expand:media": "default",
                              "reading:expand:spoilers": False})

    async def missing_image(request: Request) -> Response:
        return Response(base64.b64decode(_MISSING_PNG), media_type="image/png",
                        headers={"cache-control": "public, max-age=86400"})

    return [
        *(Route(path, v1, methods=["GET"]) for path in ("/api/v1/instance", "/api/v1/instance/")),
        *(Route(path, v2, methods=["GET"]) for path in ("/api/v2/instance", "/api/v2/instance/")),
        Route("/api/v1/custom_emojis", empty_list, methods=["GET"]),
        Route("/api/v2/filters", filters, methods=["GET"]),
        Route("/api/v1/preferences", preferences, methods=["GET"]),
        Route("/avatars/original/missing.png", missing_image, methods=["GET"]),
        Route("/headers/original/missing.png", missing_image, methods=["GET"]),
    ]
