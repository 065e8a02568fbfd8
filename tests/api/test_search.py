"""Search v2: local accounts by name prefix, public statuses by content, hashtags; resolve handles by WebFinger and
URLs by a signed fetch; auth failures."""

from __future__ import annotations

from typing import Any

from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _search(a: Instance, token: str | None, **params: Any) -> dict[str, Any]:
    response = await a.client.get("/api/v2/search", params=params, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_local_accounts_statuses_and_hashtags(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada", display_name="Ada Lovelace")
    await a.add_member("adam")
    await a.add_member("bob", display_name="Adalbert")
    token = await token_with(a, "ada", "read write")
    for text, visibility in (("learning #Python today", "public"), ("secret python notes", "private"),
                             ("more #python and #pythonista", "public")):
        response = await a.client.post("/api/v1/statuses", data={"status": text, "visibility": visibility},
                                       headers=bearer(token))
        assert response.status_code == 200
    found = await _search(a, token, q="ada")
    assert [x["username"] for x in found["accounts"]] == ["ada", "adam", "bob"]
    assert [x["username"] for x in (await _search(a, None, q="@ada@a.test", type="accounts"))["accounts"]] == [
        "ada"]
    statuses = (await _search(a, token, q="python", type="statuses"))["statuses"]
    assert len(statuses) == 2 and "pythonista" in statuses[0]["content"]
    tags = (await _search(a, token, q="#pyth", type="hashtags"))["hashtags"]
    assert [t["name"] for t in tags] == ["python", "pythonista"]
    assert tags[0]["url"] == "http://a.test/tags/python"
    assert (await _search(a, token, q="ada", type="accounts", limit=1, offset=1))["accounts"][0]["username"] == "adam"
    assert (await _search(a, token, q="")) == {"accounts": [], "statuses": [], "hashtags": []}
    bad = await a.client.get("/api/v2/search", params={"q": "x", "type": "nope"}, headers=bearer(token))
    assert bad.status_code == 422


async def test_resolve_a_remote_handle_and_a_remote_status(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    b = await federation.add("b.test")
    await b.add_member("bea")
    token = await token_with(a, "ada", "read write follow")
    assert (await _search(a, token, q="@bea@b.test"))["accounts"] == []   # not known yet, not resolved
    found = await _search(a, token, q="@bea@b.test", resolve="true")
    assert [x["acct"] for x in found["accounts"]] == ["bea@b.test"]
    posted = await b.client.post("/api/v1/statuses", data={"status": "remote hello"},
                                 headers=bearer(await token_with(b, "bea", "write")))
    uri = posted.json()["uri"]
    statuses = (await _search(a, token, q=uri, resolve="true"))["statuses"]
    assert len(statuses) == 1 and "remote hello" in statuses[0]["content"]
    assert statuses[0]["account"]["acct"] == "bea@b.test" and statuses[0]["uri"] == uri
    actor = (await _search(a, token, q="http://b.test/users/bea", resolve="true"))["accounts"]
    assert [x["acct"] for x in actor] == ["bea@b.test"]
    assert await _search(a, token, q="@nobody@c.test", resolve="true") == {
        "accounts": [], "statuses": [], "hashtags": []}
    follow = await a.client.post(f"/api/v1/accounts/{found['accounts'][0]['id']}/follow", headers=bearer(token))
    assert follow.status_code == 200


async def test_auth_failures(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    wrong = await token_with(a, "ada", "read:statuses")
    assert (await a.client.get("/api/v2/search", params={"q": "@x@b.test", "resolve": "true"})).status_code == 401
    assert (await a.client.get("/api/v2/search", params={"q": "x", "offset": "5"})).status_code == 401
    assert (await a.client.get("/api/v2/search", params={"q": "x"}, headers=bearer(wrong))).status_code == 403
    assert (await a.client.get("/api/v2/search", params={"q": "x"}, headers=bearer("bad"))).status_code == 401
