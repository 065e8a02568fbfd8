"""Notifications: mention, follow, follow_request, favourite, reblog and update, from local members and from
remote (Mastodon-shaped) actors; listed with types and paging, one, dismiss, clear, auth failures."""

from __future__ import annotations

from typing import Any

from fediverse_learn.store.objects import get_note
from tests.api.support import ada_follows_bob, bearer, edit_status, post_status, token_with
from tests.support.instances import Federation, Instance
from tests.support.remote import PUBLIC, remote_actor


async def _notifications(a: Instance, token: str, **params: Any) -> list[dict[str, Any]]:
    response = await a.client.get("/api/v1/notifications", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_local_interactions_notify(federation: Federation) -> None:
    a, ada, bob = await ada_follows_bob(federation, "read write follow")
    note = (await post_status(a, bob, "a note by bob"))["id"]
    await a.client.post(f"/api/v1/statuses/{note}/favourite", headers=bearer(ada))
    await a.client.post(f"/api/v1/statuses/{note}/reblog", headers=bearer(ada))
    mention = (await post_status(a, ada, "hello @bob"))["id"]
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
        await post_status(a, await token_with(a, name, "write"), f"hi @bob from {name}")
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
    note = (await post_status(b, bea, "hey @ada@a.test"))["id"]
    await federation.settle()
    found = await _notifications(a, ada)
    assert sorted((n["type"], n["account"]["acct"]) for n in found) == [
        ("follow_request", "bea@b.test"), ("mention", "bea@b.test")]
    remote_status = next(n["status"] for n in found if n["type"] == "mention")
    await a.client.post(f"/api/v1/statuses/{remote_status['id']}/reblog", headers=bearer(ada))
    await federation.settle()
    await edit_status(b, bea, note, "edited @ada@a.test")
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


async def test_local_follow_request_notifies(federation: Federation) -> None:
    # Given ann, who approves her followers by hand
    a = await federation.add("a.test")
    await a.add_member("ada")
    ann = await a.add_member("ann", manually_approves_followers=True)
    ada, ann_token = await token_with(a, "ada", "read write follow"), await token_with(a, "ann", "read")
    # When ada asks to follow her
    await a.client.post(f"/api/v1/accounts/{ann.id}/follow", headers=bearer(ada))
    await federation.settle()
    # Then ann is told of the request, not of a follow
    found = await _notifications(a, ann_token)
    assert [(n["type"], n["account"]["username"]) for n in found] == [("follow_request", "ada")]


async def test_local_edits_notify_boosters_once_per_edit(federation: Federation) -> None:
    # Given bob's note, boosted by ada and only liked by cyd
    a = await federation.add("a.test")
    for name in ("ada", "bob", "cyd"):
        await a.add_member(name)
    ada, cyd = await token_with(a, "ada", "read write"), await token_with(a, "cyd", "read write")
    bob = await token_with(a, "bob", "read write")
    note = (await post_status(a, bob, "first version"))["id"]
    await a.client.post(f"/api/v1/statuses/{note}/reblog", headers=bearer(ada))
    await a.client.post(f"/api/v1/statuses/{note}/favourite", headers=bearer(cyd))
    await federation.settle()
    # When bob edits it through the API
    edited = await edit_status(a, bob, note, "second version")
    await federation.settle()
    # Then ada, who boosted it, is told with the edited status; cyd, who liked it, is not
    first = await _notifications(a, ada, **{"types[]": "update"})
    assert len(first) == 1 and first[0]["account"]["username"] == "bob"
    assert first[0]["status"]["id"] == note and "second version" in first[0]["status"]["content"]
    assert first[0]["status"]["edited_at"] is not None
    assert await _notifications(a, cyd, **{"types[]": "update"}) == []
    # When bob edits it again, through his C2S outbox
    update = {"type": "Update", "object": {"id": edited["uri"], "type": "Note", "content": "third version"}}
    response = await a.client.post("/users/bob/outbox", json=update, headers=bearer(bob))
    assert response.status_code == 201, response.text
    await federation.settle()
    # Then ada is told again, the new notification replacing the earlier one (as Mastodon does)
    second = await _notifications(a, ada, **{"types[]": "update"})
    assert len(second) == 1 and second[0]["id"] != first[0]["id"]
    assert "third version" in second[0]["status"]["content"]


async def test_edit_mentioning_someone_new_notifies_them_once(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    await a.add_member("bob")
    ada, bob = await token_with(a, "ada", "read"), await token_with(a, "bob", "read write")
    note = (await post_status(a, bob, "nobody here yet"))["id"]
    await federation.settle()
    assert await _notifications(a, ada) == []
    # When bob edits his note to mention ada, then edits it again
    for text in ("now with @ada", "still with @ada"):
        await edit_status(a, bob, note, text)
        await federation.settle()
    # Then ada was told of the mention once
    found = await _notifications(a, ada)
    assert [(n["type"], n["status"]["id"]) for n in found] == [("mention", note)]


async def test_remote_actions_notify(federation: Federation) -> None:
    # Given ada's note, ann who approves followers by hand, and zed on a Mastodon server
    a = await federation.add("a.test")
    await a.add_member("ada")
    await a.add_member("ann", manually_approves_followers=True)
    ada, ann = await token_with(a, "ada", "read write"), await token_with(a, "ann", "read")
    ada_uri, ann_uri = a.services.uris.actor("ada"), a.services.uris.actor("ann")
    note = (await post_status(a, ada, "ada's note"))["id"]
    note_uri = (await a.client.get(f"/api/v1/statuses/{note}")).json()["uri"]
    zed = remote_actor(federation, "mastodon.test", "zed")
    mention = zed.note(f'<p>hi <a href="{ada_uri}" class="u-url mention">@ada</a></p>', cc=[zed.followers, ada_uri],
                       tag=[{"type": "Mention", "href": ada_uri, "name": "@ada@a.test"}])
    # When zed follows both, likes and boosts ada's note and mentions her
    for activity in (zed.follow(ada_uri), zed.follow(ann_uri), zed.activity("Like", note_uri),
                     zed.activity("Announce", note_uri, to=[PUBLIC], cc=[ada_uri, zed.followers]),
                     zed.create(mention)):
        assert (await zed.post(federation.network, f"{a.base}/inbox", activity)).status_code == 202
    await federation.settle()
    # Then each is a notification from zed
    found = await _notifications(a, ada)
    assert [n["type"] for n in found] == ["mention", "reblog", "favourite", "follow"]
    assert {n["account"]["acct"] for n in found} == {"zed@mastodon.test"}
    assert found[1]["status"]["id"] == found[2]["status"]["id"] == note
    assert found[0]["status"]["uri"] == mention["id"]
    assert [n["type"] for n in await _notifications(a, ann)] == ["follow_request"]


async def test_remote_edits_notify_local_boosters_when_significant(federation: Federation) -> None:
    # Given zed's note on a Mastodon server, which ada boosted
    a = await federation.add("a.test")
    await a.add_member("ada")
    ada = await token_with(a, "ada", "read write")
    zed = remote_actor(federation, "mastodon.test", "zed")
    note = zed.note("<p>first version</p>")
    assert (await zed.post(federation.network, f"{a.base}/inbox", zed.create(note))).status_code == 202
    await federation.settle()
    stored = await get_note(a.services.db, note["id"])
    assert stored is not None
    await a.client.post(f"/api/v1/statuses/{stored.id}/reblog", headers=bearer(ada))
    await federation.settle()

    async def edit(content: str, updated: str) -> None:
        update = zed.activity("Update", {**note, "content": content, "updated": updated}, to=note["to"],
                              cc=note["cc"])
        assert (await zed.post(federation.network, f"{a.base}/inbox", update)).status_code == 202
        await federation.settle()

    # When zed edits it
    await edit("<p>second version</p>", "2024-05-02T15:00:00Z")
    # Then ada is told, with the edited status
    first = await _notifications(a, ada)
    assert [(n["type"], n["account"]["acct"]) for n in first] == [("update", "zed@mastodon.test")]
    assert "second version" in first[0]["status"]["content"] and first[0]["status"]["id"] == str(stored.id)
    # When zed sends a newer version that changes nothing one sees, then a real edit
    await edit("<p>second version</p>", "2024-05-02T16:00:00Z")
    assert [n["id"] for n in await _notifications(a, ada)] == [first[0]["id"]]
    await edit("<p>third version</p>", "2024-05-02T17:00:00Z")
    # Then only the real edit is told, replacing the earlier notification
    latest = await _notifications(a, ada)
    assert len(latest) == 1 and latest[0]["id"] != first[0]["id"] and "third" in latest[0]["status"]["content"]
    # And the status's history has each version one could see, oldest first
    history = (await a.client.get(f"/api/v1/statuses/{stored.id}/history")).json()
    assert [h["content"] for h in history] == ["<p>first version</p>", "<p>second version</p>",
                                               "<p>third version</p>"]


async def test_undone_actions_take_their_notifications_back(federation: Federation) -> None:
    # Given bob's note that ada (here) and zed (on Mastodon) follow, favourite and boost
    a = await federation.add("a.test")
    await a.add_member("ada")
    bob_actor = await a.add_member("bob")
    ada, bob = await token_with(a, "ada", "read write follow"), await token_with(a, "bob", "read write follow")
    bob_uri = a.services.uris.actor("bob")
    note = (await post_status(a, bob, "a note by bob"))["id"]
    note_uri = (await a.client.get(f"/api/v1/statuses/{note}")).json()["uri"]
    await a.client.post(f"/api/v1/accounts/{bob_actor.id}/follow", headers=bearer(ada))
    await a.client.post(f"/api/v1/statuses/{note}/favourite", headers=bearer(ada))
    await a.client.post(f"/api/v1/statuses/{note}/reblog", headers=bearer(ada))
    zed = remote_actor(federation, "mastodon.test", "zed")
    like = zed.activity("Like", note_uri)
    for activity in (zed.follow(bob_uri), like):
        assert (await zed.post(federation.network, f"{a.base}/inbox", activity)).status_code == 202
    await federation.settle()
    assert len(await _notifications(a, bob)) == 5
    # When ada takes back each of hers, and zed undoes his like with a fresh id for the embedded Like
    for path in (f"/api/v1/statuses/{note}/unfavourite", f"/api/v1/statuses/{note}/unreblog",
                 f"/api/v1/accounts/{bob_actor.id}/unfollow"):
        assert (await a.client.post(path, headers=bearer(ada))).status_code == 200
    undo = zed.activity("Undo", {**like, "id": f"{like['id']}#again"})
    assert (await zed.post(federation.network, f"{a.base}/inbox", undo)).status_code == 202
    await federation.settle()
    # Then only zed's follow is left, as on Mastodon where a notification goes with its activity
    found = await _notifications(a, bob)
    assert [(n["type"], n["account"]["acct"]) for n in found] == [("follow", "zed@mastodon.test")]
