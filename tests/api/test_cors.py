"""Browser clients on other origins may call the API and the token endpoint (CORS, no cookies)."""

from __future__ import annotations

import httpx

from fediverse_learn.api.cors import ApiCors
from tests.support.instances import Federation


async def test_preflight_and_simple_requests_get_cors_headers(federation: Federation) -> None:
    a = await federation.add("a.test")
    transport = httpx.ASGITransport(app=ApiCors(a.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://a.test") as client:
        preflight = await client.options("/api/v1/statuses", headers={
            "Origin": "https://elk.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        simple = await client.get("/api/v1/instance", headers={"Origin": "https://elk.example"})
        assert simple.headers["access-control-allow-origin"] == "*"
        assert "Link" in simple.headers["access-control-expose-headers"]
        page = await client.get("/oauth/authorize", headers={"Origin": "https://elk.example"})
        assert "access-control-allow-origin" not in page.headers
