"""Bookmarks, favourites, pins, markers and the hashtag timeline; auth failures."""

from __future__ import annotations

from typing import Any

from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _get(a: Instance, path: str, token: str | None, **params: Any) -> Any:
    response = await a.client.get(path, params=params, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    return response.json()


async def _post(a: Instance, path: str, token: str, **data: Any) -> Any:
    response = await a.client.post(path, data=data, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_bookmarks_favourites_and_pins(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    await a.add_member("bob")
    ada, bob = await token_with(a, "ada", "read write"), await token_with(a, "bob", "read write")
    first = (await _post(a, "/api/v1/statuses", bob, status="one"))["id"]
    second = (await _post(a, "/api/v1/statuses", bob, status="two"))["id"]
    mine = (await _post(a, "/api/v1/statuses", ada, status="mine"))["id"]
    assert (await _post(a, f"/api/v1/statuses/{first}/bookmark", ada))["bookmarked"] is True
    await _post(a, f"/api/v1/statuses/{second}/bookmark", ada)
    assert [s["id"] for s in await _get(a, "/api/v1/bookmarks", ada)] == [second, first]
    page = await a.client.get("/api/v1/bookmarks", params={"limit": 1}, headers=bearer(ada))
    assert [s["id"] for s in page.json()] == [second] and 'rel="next"' in page.headers["link"]
    assert (await _post(a, f"/api/v1/statuses/{second}/unbookmark", ada))["bookmarked"] is False
    assert [s["id"] for s in await _get(a, "/api/v1/bookmarks", ada)] == [first]
    await _post(a, f"/api/v1/statuses/{first}/favourite", ada)
    assert [s["id"] for s in await _get(a, "/api/v1/favourites", ada)] == [first]
    assert (await _post(a, f"/api/v1/statuses/{mine}/pin", ada))["pinned"] is True
    ada_id = (await _get(a, "/api/v1/accounts/verify_credentials", ada))["id"]
    assert [s["id"] for s in await _get(a, f"/api/v1/accounts/{ada_id}/statuses", None, pinned="true")] == [mine]
    assert (await a.client.post(f"/api/v1/statuses/{first}/pin", headers=bearer(ada))).status_code == 422
    assert (await _post(a, f"/api/v1/statuses/{mine}/unpin", ada))["pinned"] is False
    assert (await a.client.post("/api/v1/statuses/1/bookmark", headers=bearer(ada))).status_code == 404


async def test_markers(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    ada = await token_with(a, "ada", "read write")
    assert await _get(a, "/api/v1/markers", ada) == {}
    saved = await _post(a, "/api/v1/markers", ada, **{"home[last_read_id]": "123"})
    assert saved["home"]["last_read_id"] == "123" and saved["home"]["version"] == 1
    response = await a.client.post("/api/v1/markers", json={"home": {"last_read_id": "456"},
                                                            "notifications": {"last_read_id": "7"}},
                                   headers=bearer(ada))
    assert response.json()["home"] == {**response.json()["home"], "last_read_id": "456", "version": 2}
    found = await _get(a, "/api/v1/markers", ada, **{"timeline[]": "notifications"})
    assert list(found) == ["notifications"] and found["notifications"]["last_read_id"] == "7"


async def test_tag_timeline(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    ada = await token_with(a, "ada", "read write")
    tagged = (await _post(a, "/api/v1/statuses", ada, status="about #Maths"))["id"]
    await _post(a, "/api/v1/statuses", ada, status="about #mathsclub")
    await _post(a, "/api/v1/statuses", ada, status="secret #maths", visibility="private")
    assert [s["id"] for s in await _get(a, "/api/v1/timelines/tag/maths", None)] == [tagged]
    assert [s["id"] for s in await _get(a, "/api/v1/timelines/tag/MATHS", ada, local="true")] == [tagged]
    assert await _get(a, "/api/v1/timelines/tag/maths", None, remote="true") == []


async def test_auth_failures(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    wrong = await token_with(a, "ada", "read:accounts write:accounts")
    for method, path in (("GET", "/api/v1/bookmarks"), ("GET", "/api/v1/favourites"), ("GET", "/api/v1/markers"),
                         ("POST", "/api/v1/markers"), ("POST", "/api/v1/statuses/1/bookmark"),
                         ("POST", "/api/v1/statuses/1/unbookmark")):
        assert (await a.client.request(method, path)).status_code == 401
        assert (await a.client.request(method, path, headers=bearer(wrong))).status_code == 403
    statuses_only = await token_with(a, "ada", "read:statuses write:statuses")
    for path in ("/api/v1/statuses/1/pin", "/api/v1/statuses/1/unpin"):
        assert (await a.client.post(path)).status_code == 401
        assert (await a.client.post(path, headers=bearer(statuses_only))).status_code == 403
    assert (await a.client.get("/api/v1/timelines/tag/x", headers=bearer(wrong))).status_code == 403
