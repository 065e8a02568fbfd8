"""Mastodon's paging: `max_id`/`since_id`/`min_id`/`limit` in, `Link` header (next, prev) out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from fediverse_learn.api.params import Params
from fediverse_learn.store.api_statuses import Page

__all__ = ["link_header", "page_of"]


def _id(params: Params, name: str) -> int | None:
    text = params.text(name)
    return int(text) if text is not None and text.isdigit() and len(text) <= 19 else None


def page_of(params: Params, *, default: int = 20, maximum: int = 40) -> Page:
    limit = params.number("limit") or default
    return Page(max_id=_id(params, "max_id"), since_id=_id(params, "since_id"), min_id=_id(params, "min_id"),
                limit=max(1, min(limit, maximum)))


def link_header(request: Request, base: str, items: Sequence[dict[str, Any]] | Sequence[int],
                page: Page) -> dict[str, str]:
    """`Link: <...max_id=oldest>; rel="next", <...min_id=newest>; rel="prev"` for a page of results (newest
    first), on our public base URL; no header for an empty page."""
    ids = [int(i["id"]) if isinstance(i, dict) else int(i) for i in items]
    if not ids:
        return {}
    keep = [(k, v) for k, v in request.query_params.multi_items()
            if k not in ("max_id", "since_id", "min_id", "limit", "access_token")]
    path = f"{base}{request.url.path}"

    def url(key: str, value: int) -> str:
        return f"{path}?{urlencode([*keep, ('limit', str(page.limit)), (key, str(value))])}"

    return {"link": f'<{url("max_id", min(ids))}>; rel="next", <{url("min_id", max(ids))}>; rel="prev"'}
