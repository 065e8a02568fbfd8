"""Instance metadata and the small endpoints clients call on start; unknown API paths."""

from __future__ import annotations

import re

from tests.api.support import bearer, token_with
from tests.support.instances import Federation


async def test_instance_v2_shape(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada", role="admin")
    for path in ("/api/v2/instance", "/api/v2/instance/"):
        response = await a.client.get(path)
        assert response.status_code == 200
        doc = response.json()
        assert doc["domain"] == "a.test" and doc["title"] == "Test a.test"
        assert re.match(r"^4\.3\.0 \(compatible; fediverse-learn [0-9.]+\)$", doc["version"])
        assert doc["configuration"]["statuses"]["max_characters"] > 500
        assert doc["registrations"]["enabled"] is False
        assert doc["contact"]["account"]["username"] == "ada"
        assert doc["rules"] == [] and doc["api_versions"] == {"mastodon": 2}


async def test_instance_v1_shape(federation: Federation) -> None:
    a = await federation.add("a.test")
    for path in ("/api/v1/instance", "/api/v1/instance/"):
        doc = (await a.client.get(path)).json()
        assert doc["uri"] == "a.test" and doc["version"].startswith("4.3.0 (compatible;")
        assert doc["stats"]["user_count"] == 0 and doc["contact_account"] is None
        assert "max_characters" in doc["configuration"]["statuses"]


async def test_custom_emojis_is_an_empty_list(federation: Federation) -> None:
    a = await federation.add("a.test")
    response = await a.client.get("/api/v1/custom_emojis")
    assert response.status_code == 200 and response.json() == []


async def test_preferences_need_read_accounts(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    assert (await a.client.get("/api/v1/preferences")).status_code == 401
    narrow = await token_with(a, "ada", "write")
    assert (await a.client.get("/api/v1/preferences", headers=bearer(narrow))).status_code == 403
    ok = await a.client.get("/api/v1/preferences", headers=bearer(await token_with(a, "ada", "read:accounts")))
    assert ok.status_code == 200 and ok.json()["posting:default:visibility"] == "public"


async def test_filters_v2_is_an_empty_list_with_read_filters(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    assert (await a.client.get("/api/v2/filters")).status_code == 401
    narrow = await token_with(a, "ada", "read:statuses")
    assert (await a.client.get("/api/v2/filters", headers=bearer(narrow))).status_code == 403
    ok = await a.client.get("/api/v2/filters", headers=bearer(await token_with(a, "ada", "read")))
    assert ok.status_code == 200 and ok.json() == []


async def test_unknown_api_paths_answer_record_not_found(federation: Federation) -> None:
    a = await federation.add("a.test")
    for method, path in (("GET", "/api/v1/lists"), ("POST", "/api/v1/push/subscription"),
                         ("DELETE", "/api/v9/anything/at/all")):
        response = await a.client.request(method, path)
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}


async def test_default_avatar_is_served(federation: Federation) -> None:
    a = await federation.add("a.test")
    response = await a.client.get("/avatars/original/missing.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
