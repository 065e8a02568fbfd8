"""Blocks and mutes: the actions (Block federated, follows removed), their lists, mutes silencing notifications;
auth failures."""

from __future__ import annotations

from typing import Any

from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _get(a: Instance, path: str, token: str, **params: Any) -> Any:
    response = await a.client.get(path, params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def _post(a: Instance, path: str, token: str, **data: Any) -> Any:
    response = await a.client.post(path, data=data, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_block_a_remote_account_and_unblock(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    b = await federation.add("b.test")
    await b.add_member("bea")
    ada = await token_with(a, "ada", "read write follow")
    bea = await token_with(b, "bea", "read write follow")
    await b.services.resolver.actor_by_handle("ada@a.test")
    ada_on_b = await _get(b, "/api/v1/accounts/lookup", bea, acct="ada@a.test")
    await _post(b, f"/api/v1/accounts/{ada_on_b['id']}/follow", bea)
    await federation.settle()
    bea_on_a = await _get(a, "/api/v1/accounts/lookup", ada, acct="bea@b.test")
    assert (await _get(a, "/api/v1/accounts/relationships", ada, id=bea_on_a["id"]))[0]["followed_by"] is True
    blocked = await _post(a, f"/api/v1/accounts/{bea_on_a['id']}/block", ada)
    assert blocked["blocking"] is True and blocked["followed_by"] is False
    await federation.settle()
    assert [x["acct"] for x in await _get(a, "/api/v1/blocks", ada)] == ["bea@b.test"]
    on_b = await _get(b, "/api/v1/accounts/relationships", bea, id=ada_on_b["id"])
    assert on_b[0]["following"] is False and on_b[0]["blocked_by"] is True
    unblocked = await _post(a, f"/api/v1/accounts/{bea_on_a['id']}/unblock", ada)
    assert unblocked["blocking"] is False
    await federation.settle()
    assert await _get(a, "/api/v1/blocks", ada) == []
    on_b = await _get(b, "/api/v1/accounts/relationships", bea, id=ada_on_b["id"])
    assert on_b[0]["blocked_by"] is False


async def test_mute_lists_and_silences_notifications(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    bob = await a.add_member("bob")
    ada, bob_token = await token_with(a, "ada", "read write follow"), await token_with(a, "bob", "write")
    muted = await _post(a, f"/api/v1/accounts/{bob.id}/mute", ada)
    assert muted["muting"] is True and muted["muting_notifications"] is True
    assert [x["username"] for x in await _get(a, "/api/v1/mutes", ada)] == ["bob"]
    await _post(a, "/api/v1/statuses", bob_token, status="hi @ada")
    await federation.settle()
    assert await _get(a, "/api/v1/notifications", ada) == []
    assert (await _post(a, f"/api/v1/accounts/{bob.id}/unmute", ada))["muting"] is False
    assert await _get(a, "/api/v1/mutes", ada) == []
    response = await a.client.post(f"/api/v1/accounts/{muted['id']}/mute", headers=bearer(ada))
    assert response.status_code == 200
    me = await _get(a, "/api/v1/accounts/verify_credentials", ada)
    assert (await a.client.post(f"/api/v1/accounts/{me['id']}/block", headers=bearer(ada))).status_code == 422
    assert (await a.client.post("/api/v1/accounts/999/block", headers=bearer(ada))).status_code == 404


async def test_auth_failures(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    wrong = await token_with(a, "ada", "read:statuses write:statuses")
    for method, path in (("GET", "/api/v1/blocks"), ("GET", "/api/v1/mutes"),
                         *(("POST", f"/api/v1/accounts/1/{n}") for n in ("block", "unblock", "mute", "unmute"))):
        assert (await a.client.request(method, path)).status_code == 401
        assert (await a.client.request(method, path, headers=bearer(wrong))).status_code == 403
