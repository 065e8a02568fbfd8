"""The Mastodon client API (/api/v1, /api/v2) and OAuth 2, for the apps members already use."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fediverse_learn.api.accounts import account_routes
from fediverse_learn.api.admin_accounts import admin_account_routes
from fediverse_learn.api.admin_domains import admin_domain_routes
from fediverse_learn.api.admin_reports import admin_report_routes
from fediverse_learn.api.apps import app_routes
from fediverse_learn.api.blocks import block_routes
from fediverse_learn.api.bookmarks import bookmark_routes
from fediverse_learn.api.errors import not_found
from fediverse_learn.api.follow_requests import follow_request_routes
from fediverse_learn.api.instance import instance_routes
from fediverse_learn.api.markers import marker_routes
from fediverse_learn.api.notifications import notification_routes
from fediverse_learn.api.oauth import oauth_routes
from fediverse_learn.api.registration import registration_routes
from fediverse_learn.api.reports import report_routes
from fediverse_learn.api.search import search_routes
from fediverse_learn.api.statuses import status_routes
from fediverse_learn.api.streaming import streaming_routes
from fediverse_learn.api.timelines import timeline_routes
from fediverse_learn.services import Services

__all__ = ["api_fallback_routes", "api_routes"]

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _not_found(request: Request) -> Response:
    return not_found().response()


def api_fallback_routes() -> list[BaseRoute]:
    """Any other `/api/...` path: Mastodon's 404 shape, never a page or a crash. Goes after every API route."""
    return [Route("/api/{path:path}", _not_found, methods=_ALL_METHODS)]


def api_routes(services: Services) -> list[BaseRoute]:
    """Every route of the client API and OAuth; assembled from the modules of this package."""
    return [
        *app_routes(services), *oauth_routes(services), *instance_routes(services),
        *block_routes(services), *bookmark_routes(services), *marker_routes(services), *registration_routes(services),
        *account_routes(services),
        *status_routes(services), *timeline_routes(services), *notification_routes(services),
        *follow_request_routes(services), *search_routes(services), *streaming_routes(services),
        *report_routes(services), *admin_account_routes(services), *admin_report_routes(services),
        *admin_domain_routes(services),
        *api_fallback_routes(),
    ]
