"""Accounts: credentials, look-up, profiles, statuses, followers/following, follow/unfollow, relationships."""

from __future__ import annotations

from typing import Any

from fediverse_learn.api.entities import REMOTE_ACCOUNT_BASE
from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _setup(federation: Federation) -> tuple[Instance, str]:
    a = await federation.add("a.test")
    await a.add_member("ada", display_name="Ada L.")
    return a, await token_with(a, "ada", "read write follow")


async def _get(a: Instance, path: str, token: str | None = None, **params: Any) -> Any:
    response = await a.client.get(path, params=params, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    return response.json()


async def test_verify_credentials_shape_and_auth(federation: Federation) -> None:
    a, token = await _setup(federation)
    me = await _get(a, "/api/v1/accounts/verify_credentials", token)
    assert me["username"] == "ada" and me["acct"] == "ada" and me["display_name"] == "Ada L."
    assert me["url"] == "http://a.test/@ada" and me["uri"] == "http://a.test/users/ada"
    assert me["group"] is False and me["locked"] is False and me["source"]["privacy"] == "public"
    assert me["avatar"] == "http://a.test/avatars/original/missing.png" and me["created_at"].endswith("Z")
    assert (await a.client.get("/api/v1/accounts/verify_credentials")).status_code == 401
    push_only = await token_with(a, "ada", "push")
    assert (await a.client.get("/api/v1/accounts/verify_credentials",
                               headers=bearer(push_only))).status_code == 403
    profile = await token_with(a, "ada", "profile")
    assert (await _get(a, "/api/v1/accounts/verify_credentials", profile))["username"] == "ada"


async def test_update_credentials_changes_the_profile_and_federates(federation: Federation) -> None:
    a, token = await _setup(federation)
    response = await a.client.patch("/api/v1/accounts/update_credentials", headers=bearer(token), data={
        "display_name": "Ada Lovelace", "note": "I teach <maths> #math", "locked": "true", "indexable": "false"})
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["display_name"] == "Ada Lovelace" and me["locked"] is True and me["indexable"] is False
    assert "&lt;maths&gt;" in me["note"] and me["source"]["note"] == "I teach <maths> #math"
    kinds = await a.services.db.fetchall("SELECT type FROM activities")
    assert [r["type"] for r in kinds] == ["Update"]
    read_only = await token_with(a, "ada", "read")
    assert (await a.client.patch("/api/v1/accounts/update_credentials", data={"display_name": "x"},
                                 headers=bearer(read_only))).status_code == 403
    assert (await a.client.patch("/api/v1/accounts/update_credentials", data={})).status_code == 401


async def test_lookup_and_show(federation: Federation) -> None:
    a, _ = await _setup(federation)
    found = await _get(a, "/api/v1/accounts/lookup", acct="ada@a.test")
    assert found["username"] == "ada"
    assert (await _get(a, f"/api/v1/accounts/{found['id']}"))["acct"] == "ada"
    assert (await a.client.get("/api/v1/accounts/lookup", params={"acct": "nobody"})).status_code == 404
    assert (await a.client.get("/api/v1/accounts/999")).json() == {"error": "Record not found"}
    wrong = await token_with(a, "ada", "write")
    assert (await a.client.get(f"/api/v1/accounts/{found['id']}", headers=bearer(wrong))).status_code == 403
    assert (await a.client.get("/api/v1/accounts/lookup", params={"acct": "ada"},
                               headers=bearer("bogus"))).status_code == 401


async def test_account_statuses_with_filters_and_paging(federation: Federation) -> None:
    a, token = await _setup(federation)
    ids = []
    for n in range(3):
        response = await a.client.post("/api/v1/statuses", data={"status": f"note {n} #tag{n % 2}"},
                                       headers=bearer(token))
        ids.append(response.json()["id"])
    reply = await a.client.post("/api/v1/statuses", data={"status": "re", "in_reply_to_id": ids[0]},
                                headers=bearer(token))
    me = await _get(a, "/api/v1/accounts/verify_credentials", token)
    path = f"/api/v1/accounts/{me['id']}/statuses"
    everything = await _get(a, path)
    assert [s["id"] for s in everything] == [reply.json()["id"], *ids[::-1]]
    assert [s["id"] for s in await _get(a, path, exclude_replies="true")] == ids[::-1]
    assert [s["id"] for s in await _get(a, path, tagged="tag1")] == [ids[1]]
    assert await _get(a, path, only_media="true") == [] and await _get(a, path, pinned="true") == []
    first = await a.client.get(path, params={"limit": 2})
    assert 'rel="next"' in first.headers["link"] and f"max_id={first.json()[-1]['id']}" in first.headers["link"]
    newer = await _get(a, path, min_id=ids[0])
    assert [s["id"] for s in newer] == [reply.json()["id"], ids[2], ids[1]]
    wrong = await token_with(a, "ada", "write")
    assert (await a.client.get(path, headers=bearer(wrong))).status_code == 403


async def test_local_follow_unfollow_and_relationships(federation: Federation) -> None:
    a, token = await _setup(federation)
    bob = await a.add_member("bob")
    follow = await a.client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(token))
    assert follow.status_code == 200 and follow.json()["id"] == str(bob.id)
    await federation.settle()
    relationships = await _get(a, "/api/v1/accounts/relationships", token, **{"id[]": str(bob.id)})
    assert relationships[0]["following"] is True and relationships[0]["requested"] is False
    followers = await _get(a, f"/api/v1/accounts/{bob.id}/followers")
    assert [x["username"] for x in followers] == ["ada"]
    me = await _get(a, "/api/v1/accounts/verify_credentials", token)
    assert [x["username"] for x in await _get(a, f"/api/v1/accounts/{me['id']}/following")] == ["bob"]
    unfollow = await a.client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=bearer(token))
    assert unfollow.status_code == 200 and unfollow.json()["following"] is False
    read_only = await token_with(a, "ada", "read")
    assert (await a.client.post(f"/api/v1/accounts/{bob.id}/follow",
                                headers=bearer(read_only))).status_code == 403
    assert (await a.client.post(f"/api/v1/accounts/{bob.id}/follow")).status_code == 401
    assert (await a.client.get("/api/v1/accounts/relationships", params={"id[]": "1"})).status_code == 401
    statuses_only = await token_with(a, "ada", "read:statuses")
    assert (await a.client.get("/api/v1/accounts/relationships", params={"id[]": "1"},
                               headers=bearer(statuses_only))).status_code == 403
    wrong = await token_with(a, "ada", "write")
    assert (await a.client.get(f"/api/v1/accounts/{bob.id}/followers", headers=bearer(wrong))).status_code == 403


async def test_follow_a_remote_account_and_see_its_posts(federation: Federation) -> None:
    # Given ada on a.test, and bea on b.test whom a.test already knows (found by her handle)
    a, token = await _setup(federation)
    b = await federation.add("b.test")
    await b.add_member("bea")
    remote = await a.services.resolver.actor_by_handle("bea@b.test")
    found = await _get(a, "/api/v1/accounts/lookup", acct="bea@b.test")
    assert found["acct"] == "bea@b.test" and int(found["id"]) > REMOTE_ACCOUNT_BASE and found["uri"] == remote.uri
    # When ada follows her and the servers settle
    follow = await a.client.post(f"/api/v1/accounts/{found['id']}/follow", headers=bearer(token))
    assert follow.status_code == 200 and follow.json()["requested"] is True
    await federation.settle()
    relation = await _get(a, "/api/v1/accounts/relationships", token, id=found["id"])
    assert relation[0]["following"] is True
    # Then bea's new post reaches ada's home timeline
    bea = await token_with(b, "bea", "write")
    await b.client.post("/api/v1/statuses", data={"status": "hello from b"}, headers=bearer(bea))
    await federation.settle()
    home = await _get(a, "/api/v1/timelines/home", token)
    assert [s["account"]["acct"] for s in home] == ["bea@b.test"] and "hello from b" in home[0]["content"]


async def test_follow_options_notify_and_reblogs(federation: Federation) -> None:
    # Given ada on a.test, bea on b.test, and cy on a.test whose note bea will boost
    a, token = await _setup(federation)
    cy_actor = await a.add_member("cy")
    b = await federation.add("b.test")
    await b.add_member("bea")
    await a.services.resolver.actor_by_handle("bea@b.test")
    bea_id = (await _get(a, "/api/v1/accounts/lookup", acct="bea@b.test"))["id"]
    # When ada follows bea asking to be told of her posts, and cy without her boosts
    asked = await a.client.post(f"/api/v1/accounts/{bea_id}/follow", data={"notify": "true"}, headers=bearer(token))
    assert asked.status_code == 200 and asked.json()["requested"] is True and asked.json()["notifying"] is True
    plain = await a.client.post(f"/api/v1/accounts/{cy_actor.id}/follow", data={"reblogs": "false"},
                                headers=bearer(token))
    assert plain.json()["following"] is True and plain.json()["showing_reblogs"] is False
    assert plain.json()["notifying"] is False
    await federation.settle()
    relation = (await _get(a, "/api/v1/accounts/relationships", token, id=bea_id))[0]
    assert relation["following"] is True and relation["notifying"] is True and relation["showing_reblogs"] is True
    # Then bea's post and her reply to herself notify ada (type `status`), her reply to someone else does not
    bea = await token_with(b, "bea", "write")
    first = (await b.client.post("/api/v1/statuses", data={"status": "a new post"}, headers=bearer(bea))).json()
    await b.client.post("/api/v1/statuses", data={"status": "more", "in_reply_to_id": first["id"]},
                        headers=bearer(bea))
    await federation.settle()
    statuses = [n for n in await _get(a, "/api/v1/notifications", token) if n["type"] == "status"]
    assert [n["status"]["content"] for n in statuses] == ["<p>more</p>", "<p>a new post</p>"]
    assert {n["account"]["acct"] for n in statuses} == {"bea@b.test"}
    # And a follow again with notify=false changes the option only: no new Follow is sent
    sent = len(federation.network.sent_to("b.test"))
    again = await a.client.post(f"/api/v1/accounts/{bea_id}/follow", data={"notify": "false"}, headers=bearer(token))
    assert again.json()["following"] is True and again.json()["notifying"] is False
    await federation.settle()
    assert len(federation.network.sent_to("b.test")) == sent
    # And cy's boost of a note stays out of ada's home (reblogs=false), while cy's own posts show
    cy = await token_with(a, "cy", "read write")
    dee = await a.add_member("dee")
    dee_token = await token_with(a, "dee", "write")
    dees = (await a.client.post("/api/v1/statuses", data={"status": "by dee"}, headers=bearer(dee_token))).json()
    assert dee.name == "dee"
    await a.client.post(f"/api/v1/statuses/{dees['id']}/reblog", headers=bearer(cy))
    await a.client.post("/api/v1/statuses", data={"status": "by cy"}, headers=bearer(cy))
    await federation.settle()
    home = await _get(a, "/api/v1/timelines/home", token)
    assert [(s["account"]["acct"], s["reblog"] is not None) for s in home][:1] == [("cy", False)]
    assert all(s["reblog"] is None for s in home)
