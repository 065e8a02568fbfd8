"""Timelines: home and public (local, remote), paging by Link headers, auth failures."""

from __future__ import annotations

from typing import Any

from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _post(a: Instance, token: str, text: str, **data: str) -> str:
    response = await a.client.post("/api/v1/statuses", data={"status": text, **data}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def _ids(a: Instance, path: str, token: str | None = None, **params: Any) -> list[str]:
    response = await a.client.get(path, params=params, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def test_home_has_own_and_followed_statuses_only(federation: Federation) -> None:
    a = await federation.add("a.test")
    for name in ("ada", "bob", "cyd"):
        await a.add_member(name)
    ada, bob, cyd = [await token_with(a, n, "read write follow") for n in ("ada", "bob", "cyd")]
    bob_id = (await a.client.get("/api/v1/accounts/lookup", params={"acct": "bob"})).json()["id"]
    await a.client.post(f"/api/v1/accounts/{bob_id}/follow", headers=bearer(ada))
    await federation.settle()
    own = await _post(a, ada, "mine")
    followed = await _post(a, bob, "from bob", visibility="private")
    await _post(a, cyd, "from cyd")
    await _post(a, bob, "bob to cyd only @cyd", visibility="direct")
    to_ada = await _post(a, bob, "bob to @ada", visibility="direct")
    assert await _ids(a, "/api/v1/timelines/home", ada) == [to_ada, followed, own]


async def test_home_pages_with_link_headers(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    token = await token_with(a, "ada", "read write")
    ids = [await _post(a, token, f"n{n}") for n in range(5)]
    first = await a.client.get("/api/v1/timelines/home", params={"limit": 2}, headers=bearer(token))
    assert [s["id"] for s in first.json()] == [ids[4], ids[3]]
    link = first.headers["link"]
    assert f"<http://a.test/api/v1/timelines/home?limit=2&max_id={ids[3]}>; rel=\"next\"" in link
    assert f"min_id={ids[4]}>; rel=\"prev\"" in link
    assert await _ids(a, "/api/v1/timelines/home", token, limit=2, max_id=ids[3]) == [ids[2], ids[1]]
    assert await _ids(a, "/api/v1/timelines/home", token, since_id=ids[2]) == [ids[4], ids[3]]
    assert await _ids(a, "/api/v1/timelines/home", token, min_id=ids[0], limit=2) == [ids[2], ids[1]]
    empty = await a.client.get("/api/v1/timelines/home", params={"max_id": ids[0]}, headers=bearer(token))
    assert empty.json() == [] and "link" not in empty.headers


async def test_home_auth_failures(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    assert (await a.client.get("/api/v1/timelines/home")).status_code == 401
    write_only = await token_with(a, "ada", "write")
    assert (await a.client.get("/api/v1/timelines/home", headers=bearer(write_only))).status_code == 403


async def test_public_timeline_local_and_remote(federation: Federation) -> None:
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await a.add_member("ada")
    await b.add_member("bea")
    ada = await token_with(a, "ada", "read write follow")
    remote = await a.services.resolver.actor_by_handle("bea@b.test")
    account = (await a.client.get("/api/v1/accounts/lookup", params={"acct": "bea@b.test"})).json()
    assert account["uri"] == remote.uri
    await a.client.post(f"/api/v1/accounts/{account['id']}/follow", headers=bearer(ada))
    await federation.settle()
    local = await _post(a, ada, "local post")
    await _post(a, ada, "quiet post", visibility="unlisted")
    await b.client.post("/api/v1/statuses", data={"status": "remote post"},
                        headers=bearer(await token_with(b, "bea", "write")))
    await federation.settle()
    everything = await _ids(a, "/api/v1/timelines/public")
    remote_only = await _ids(a, "/api/v1/timelines/public", remote="true")
    assert len(everything) == 2 and local in everything
    assert await _ids(a, "/api/v1/timelines/public", local="true") == [local]
    assert len(remote_only) == 1 and remote_only[0] != local
    wrong = await token_with(a, "ada", "write")
    assert (await a.client.get("/api/v1/timelines/public", headers=bearer(wrong))).status_code == 403
    assert (await a.client.get("/api/v1/timelines/public", headers=bearer("bogus"))).status_code == 401
