"""Notifications: made by the inbox handlers (local and remote mention, follow, favourite, reblog, update),
listed with types and paging, one, dismiss, clear, auth failures."""

from __future__ import annotations

from typing import Any

from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _post(a: Instance, token: str, text: str, **data: str) -> str:
    response = await a.client.post("/api/v1/statuses", data={"status": text, **data}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def _notifications(a: Instance, token: str, **params: Any) -> list[dict[str, Any]]:
    response = await a.client.get("/api/v1/notifications", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_local_interactions_notify(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    bob_actor = await a.add_member("bob")
    ada, bob = await token_with(a, "ada", "read write follow"), await token_with(a, "bob", "read write follow")
    await a.client.post(f"/api/v1/accounts/{bob_actor.id}/follow", headers=bearer(ada))
    note = await _post(a, bob, "a note by bob")
    await a.client.post(f"/api/v1/statuses/{note}/favourite", headers=bearer(ada))
    await a.client.post(f"/api/v1/statuses/{note}/reblog", headers=bearer(ada))
    mention = await _post(a, ada, "hello @bob")
    await federation.settle()
    found = await _notifications(a, bob)
    assert [n["type"] for n in found] == ["mention", "reblog", "favourite", "follow"]
    assert {n["account"]["username"] for n in found} == {"ada"}
    assert found[0]["status"]["id"] == mention and found[1]["status"]["id"] == note
    assert "status" not in found[3] and found[0]["group_key"] == f"ungrouped-{found[0]['id']}"
    assert await _notifications(a, ada) == []   # nothing of one's own doing
    assert [n["type"] for n in await _notifications(a, bob, **{"types[]": ["follow", "mention"]})] == [
        "mention", "follow"]
    assert [n["type"] for n in await _notifications(a, bob, **{"exclude_types[]": "mention"})] == [
        "reblog", "favourite", "follow"]


async def test_paging_one_dismiss_and_clear(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("bob")
    bob = await token_with(a, "bob", "read write")
    for name in ("cyd", "dan", "eve"):
        await a.add_member(name)
        await _post(a, await token_with(a, name, "write"), f"hi @bob from {name}")
    await federation.settle()
    first = await a.client.get("/api/v1/notifications", params={"limit": 2}, headers=bearer(bob))
    ids = [n["id"] for n in first.json()]
    assert len(ids) == 2 and 'rel="next"' in first.headers["link"]
    rest = await _notifications(a, bob, max_id=ids[1])
    assert [n["account"]["username"] for n in rest] == ["cyd"]
    one = await a.client.get(f"/api/v1/notifications/{ids[0]}", headers=bearer(bob))
    assert one.status_code == 200 and one.json()["account"]["username"] == "eve"
    dismissed = await a.client.post(f"/api/v1/notifications/{ids[0]}/dismiss", headers=bearer(bob))
    assert dismissed.status_code == 200 and dismissed.json() == {}
    assert (await a.client.get(f"/api/v1/notifications/{ids[0]}", headers=bearer(bob))).status_code == 404
    assert (await a.client.post(f"/api/v1/notifications/{ids[0]}/dismiss", headers=bearer(bob))).status_code == 404
    assert len(await _notifications(a, bob)) == 2
    cleared = await a.client.post("/api/v1/notifications/clear", headers=bearer(bob))
    assert cleared.status_code == 200 and await _notifications(a, bob) == []


async def test_remote_follow_request_mention_and_update(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada", manually_approves_followers=True)
    b = await federation.add("b.test")
    await b.add_member("bea")
    ada, bea = await token_with(a, "ada", "read write"), await token_with(b, "bea", "read write follow")
    remote = await b.services.resolver.actor_by_handle("ada@a.test")
    ada_on_b = (await b.client.get("/api/v1/accounts/lookup", params={"acct": "ada@a.test"})).json()
    assert ada_on_b["uri"] == remote.uri
    await b.client.post(f"/api/v1/accounts/{ada_on_b['id']}/follow", headers=bearer(bea))
    note = await _post(b, bea, "hey @ada@a.test")
    await federation.settle()
    found = await _notifications(a, ada)
    assert sorted((n["type"], n["account"]["acct"]) for n in found) == [
        ("follow_request", "bea@b.test"), ("mention", "bea@b.test")]
    remote_status = next(n["status"] for n in found if n["type"] == "mention")
    await a.client.post(f"/api/v1/statuses/{remote_status['id']}/reblog", headers=bearer(ada))
    await federation.settle()
    edited = await b.client.put(f"/api/v1/statuses/{note}", data={"status": "edited @ada@a.test"},
                                headers=bearer(bea))
    assert edited.status_code == 200, edited.text
    await federation.settle()
    latest = (await _notifications(a, ada))[0]
    assert latest["type"] == "update" and "edited" in latest["status"]["content"]


async def test_auth_failures(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    wrong = await token_with(a, "ada", "read:statuses write:statuses")
    for method, path in (("GET", "/api/v1/notifications"), ("GET", "/api/v1/notifications/1"),
                         ("POST", "/api/v1/notifications/1/dismiss"), ("POST", "/api/v1/notifications/clear")):
        assert (await a.client.request(method, path)).status_code == 401
        assert (await a.client.request(method, path, headers=bearer(wrong))).status_code == 403
