"""Follow requests: listed for a member who approves followers, authorized (Accept) or rejected (Reject),
local and remote; auth failures."""

from __future__ import annotations

from typing import Any

from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _get(a: Instance, path: str, token: str) -> Any:
    response = await a.client.get(path, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_authorize_a_remote_and_reject_a_local_request(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada", manually_approves_followers=True)
    cyd = await a.add_member("cyd")
    b = await federation.add("b.test")
    await b.add_member("bea")
    ada = await token_with(a, "ada", "read write follow")
    bea = await token_with(b, "bea", "read write follow")
    await b.services.resolver.actor_by_handle("ada@a.test")
    ada_on_b = (await b.client.get("/api/v1/accounts/lookup", params={"acct": "ada@a.test"})).json()
    await b.client.post(f"/api/v1/accounts/{ada_on_b['id']}/follow", headers=bearer(bea))
    ada_id = (await a.client.get("/api/v1/accounts/lookup", params={"acct": "ada"})).json()["id"]
    await a.client.post(f"/api/v1/accounts/{ada_id}/follow", headers=bearer(await token_with(a, "cyd", "follow")))
    await federation.settle()
    requests = await _get(a, "/api/v1/follow_requests", ada)
    assert sorted(r["acct"] for r in requests) == ["bea@b.test", "cyd"]
    remote_id = next(r["id"] for r in requests if r["acct"] == "bea@b.test")
    authorized = await a.client.post(f"/api/v1/follow_requests/{remote_id}/authorize", headers=bearer(ada))
    assert authorized.status_code == 200, authorized.text
    assert authorized.json()["followed_by"] is True and authorized.json()["requested_by"] is False
    rejected = await a.client.post(f"/api/v1/follow_requests/{cyd.id}/reject", headers=bearer(ada))
    assert rejected.status_code == 200 and rejected.json()["followed_by"] is False
    await federation.settle()
    assert await _get(a, "/api/v1/follow_requests", ada) == []
    on_b = await _get(b, f"/api/v1/accounts/relationships?id[]={ada_on_b['id']}", bea)
    assert on_b[0]["following"] is True and on_b[0]["requested"] is False
    again = await a.client.post(f"/api/v1/follow_requests/{cyd.id}/authorize", headers=bearer(ada))
    assert again.status_code == 404


async def test_auth_failures(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    wrong = await token_with(a, "ada", "read:statuses write:statuses")
    for method, path in (("GET", "/api/v1/follow_requests"), ("POST", "/api/v1/follow_requests/1/authorize"),
                         ("POST", "/api/v1/follow_requests/1/reject")):
        assert (await a.client.request(method, path)).status_code == 401
        assert (await a.client.request(method, path, headers=bearer(wrong))).status_code == 403
