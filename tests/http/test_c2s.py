"""ActivityPub C2S: members post Notes, Creates, Updates, Deletes, Follows, Likes, Announces and Undos."""

from __future__ import annotations

from typing import Any

import httpx

from fediverse_learn.store import actors as actor_store
from fediverse_learn.store.follows import get_follow
from fediverse_learn.store.objects import get_note
from fediverse_learn.vocab import PUBLIC
from outbox.compose import publish_note
from tests.support.instances import Federation, Instance

AP = "application/activity+json"


async def _post(instance: Instance, name: str, token: str | None, doc: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await instance.client.post(f"/users/{name}/outbox", json=doc, headers=headers)


async def _get(instance: Instance, url: str, token: str | None = None) -> httpx.Response:
    headers = {"Accept": AP} | ({"Authorization": f"Bearer {token}"} if token else {})
    return await instance.client.get(url, headers=headers)


async def _deliveries(instance: Instance) -> list[tuple[str, str]]:
    rows = await instance.services.db.fetchall("SELECT activity_uri, inbox_url FROM deliveries ORDER BY id")
    return [(r["activity_uri"], r["inbox_url"]) for r in rows]


async def _one(federation: Federation) -> tuple[Instance, str]:
    a = await federation.add("a.test")
    await a.add_member("ada")
    return a, await a.token("ada")


async def test_bare_note_is_created_and_location_resolves_to_the_create(federation: Federation) -> None:
    a, token = await _one(federation)
    # When ada posts a bare Note
    r = await _post(a, "ada", token, {"type": "Note", "content": "<p>Photosynthesis, in short</p>"})
    # Then it is 201 with a Location that serves the Create, its Note embedded
    assert r.status_code == 201
    location = r.headers["location"]
    assert location.startswith("http://a.test/users/ada/activities/")
    got = await _get(a, location)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/activity+json; charset=utf-8"
    create = got.json()
    assert create["id"] == location and create["type"] == "Create"
    assert create["actor"] == "http://a.test/users/ada"
    note = create["object"]
    assert note["type"] == "Note" and note["content"] == "<p>Photosynthesis, in short</p>"
    assert create["to"] == note["to"] == [PUBLIC]
    assert create["cc"] == note["cc"] == ["http://a.test/users/ada/followers"]
    assert (await _get(a, note["id"])).json()["id"] == note["id"]


async def test_create_ignores_client_chosen_ids(federation: Federation) -> None:
    a, token = await _one(federation)
    doc = {"type": "Create", "id": "http://a.test/users/ada/activities/1", "to": [PUBLIC],
           "object": {"type": "Note", "id": "http://evil.test/notes/1", "content": "<p>x</p>", "to": [PUBLIC]}}
    r = await _post(a, "ada", token, doc)
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == r.headers["location"] != doc["id"]
    assert body["object"]["id"].startswith("http://a.test/users/ada/statuses/")
    assert (await _get(a, "http://a.test/users/ada/activities/1")).status_code == 404


async def test_markdown_source_links_hashtags_and_mentions(federation: Federation) -> None:
    # Given ada on a.test, cy on a.test and bob on b.test
    a, token = await _one(federation)
    await a.add_member("cy")
    b = await federation.add("b.test")
    await b.add_member("bob")
    # When ada posts Markdown mentioning both, with a hashtag
    source = "**Cells** with @bob@b.test and @cy: #Biology"
    r = await _post(a, "ada", token, {"type": "Note", "source": {"content": source, "mediaType": "text/markdown"}})
    assert r.status_code == 201
    note = r.json()["object"]
    # Then the HTML has Mastodon's markup, the tags are Mention and Hashtag, the mentioned are addressed
    assert "<strong>Cells</strong>" in note["content"]
    assert 'class="u-url mention"' in note["content"] and 'href="http://b.test/@bob"' in note["content"]
    assert 'class="mention hashtag"' in note["content"] and 'href="http://a.test/tags/biology"' in note["content"]
    assert note["tag"] == [
        {"type": "Mention", "href": "http://b.test/users/bob", "name": "@bob@b.test"},
        {"type": "Mention", "href": "http://a.test/users/cy", "name": "@cy@a.test"},
        {"type": "Hashtag", "href": "http://a.test/tags/biology", "name": "#Biology"},
    ]
    assert note["cc"] == ["http://a.test/users/ada/followers", "http://b.test/users/bob", "http://a.test/users/cy"]
    assert note["source"] == {"content": source, "mediaType": "text/markdown"}
    # And bob's server gets one delivery (shared inbox); cy gets it through the local inbox queue
    assert await _deliveries(a) == [(r.headers["location"], "http://b.test/inbox")]
    queued = await a.services.db.fetchall("SELECT activity_id, recipient FROM inbox_queue")
    assert [(q["activity_id"], q["recipient"]) for q in queued] == [(r.headers["location"], None)]


async def test_addressing_decides_visibility(federation: Federation) -> None:
    a, token = await _one(federation)
    followers = "http://a.test/users/ada/followers"
    r = await _post(a, "ada", token, {"type": "Note", "content": "<p>x</p>", "to": [followers]})
    assert r.json()["object"]["to"] == [followers] and r.json()["object"]["cc"] == []
    r = await _post(a, "ada", token, {"type": "Note", "content": "<p>x</p>", "to": [followers], "cc": ["as:Public"]})
    assert r.json()["object"]["cc"] == [PUBLIC]


async def test_direct_addressing_without_text_mention_becomes_a_silent_mention(federation: Federation) -> None:
    a, token = await _one(federation)
    await a.add_member("cy")
    r = await _post(a, "ada", token, {"type": "Note", "content": "<p>psst</p>", "to": ["http://a.test/users/cy"]})
    note = r.json()["object"]
    assert note["to"] == ["http://a.test/users/cy"] and note["cc"] == []
    assert note["tag"] == [{"type": "Mention", "href": "http://a.test/users/cy", "name": "@cy@a.test"}]


async def test_missing_or_bad_token_is_401(federation: Federation) -> None:
    a, _ = await _one(federation)
    assert (await _post(a, "ada", None, {"type": "Note", "content": "x"})).status_code == 401
    r = await _post(a, "ada", "not-a-token", {"type": "Note", "content": "x"})
    assert r.status_code == 401 and "bearer" in r.headers["www-authenticate"].lower()


async def test_other_members_token_or_missing_scope_is_403(federation: Federation) -> None:
    a, _ = await _one(federation)
    await a.add_member("cy")
    cy_token = await a.token("cy")
    assert (await _post(a, "ada", cy_token, {"type": "Note", "content": "x"})).status_code == 403
    ada = await actor_store.get_actor(a.services.db, "ada")
    assert ada is not None
    read_only = await actor_store.create_token(a.services.db, ada, "read", a.services.clock.time())
    assert (await _post(a, "ada", read_only, {"type": "Note", "content": "x"})).status_code == 403


async def test_malformed_posts_are_400(federation: Federation) -> None:
    a, token = await _one(federation)
    r = await a.client.post("/users/ada/outbox", content=b"[1]", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400
    for doc in ({"type": "Flag"}, {"type": "Create", "object": "http://x.test/1"}, {"type": "Note"},
                {"type": "Note", "content": "x", "bcc": ["http://a.test/users/ada"]}):
        assert (await _post(a, "ada", token, doc)).status_code == 400, doc


async def test_update_of_own_note_sets_updated(federation: Federation) -> None:
    a, token = await _one(federation)
    created = (await _post(a, "ada", token, {"type": "Note", "content": "<p>v1</p>"})).json()
    note_id = created["object"]["id"]
    federation.clock.advance(60)
    r = await _post(a, "ada", token, {"type": "Update", "object": {
        "id": note_id, "type": "Note", "source": {"content": "v2 #Edit", "mediaType": "text/markdown"},
        "summary": "spoiler"}})
    assert r.status_code == 201
    update = r.json()
    assert update["type"] == "Update" and update["id"] == r.headers["location"]
    note = (await _get(a, note_id)).json()
    assert note["content"].startswith("<p>v2 ")
    assert note["summary"] == "spoiler" and note["sensitive"] is True
    assert note["updated"] == update["object"]["updated"] and note["updated"] > note["published"]
    assert note["to"] == created["object"]["to"]
    # and the client API's history has both versions, as after an edit through the client API
    stored = await get_note(a.services.db, note_id)
    assert stored is not None
    history = (await a.client.get(f"/api/v1/statuses/{stored.id}/history")).json()
    assert [h["content"].startswith(v) for h, v in zip(history, ("<p>v1", "<p>v2"), strict=True)] == [True, True]


async def test_update_or_delete_of_anothers_note_is_refused(federation: Federation) -> None:
    a, token = await _one(federation)
    await a.add_member("cy")
    created = (await _post(a, "cy", await a.token("cy"), {"type": "Note", "content": "<p>mine</p>"})).json()
    note_id = created["object"]["id"]
    r = await _post(a, "ada", token, {"type": "Update", "object": {"id": note_id, "type": "Note", "content": "x"}})
    assert r.status_code == 403
    assert (await _post(a, "ada", token, {"type": "Delete", "object": note_id})).status_code == 403
    unknown = "http://a.test/users/ada/statuses/12345"
    assert (await _post(a, "ada", token, {"type": "Delete", "object": unknown})).status_code == 404
    assert (await _get(a, note_id)).json()["content"] == "<p>mine</p>"


async def test_delete_tombstones_the_note(federation: Federation) -> None:
    a, token = await _one(federation)
    created = (await _post(a, "ada", token, {"type": "Note", "content": "<p>oops</p>"})).json()
    note_id = created["object"]["id"]
    r = await _post(a, "ada", token, {"type": "Delete", "object": {"id": note_id, "type": "Note"}})
    assert r.status_code == 201
    assert r.json()["object"] == {"id": note_id, "type": "Tombstone", "atomUri": note_id}
    gone = await _get(a, note_id)
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"
    assert (await _get(a, created["id"])).status_code == 410
    assert (await _post(a, "ada", token, {"type": "Delete", "object": note_id})).status_code == 404
    # And its text is kept in no stored activity
    documents = await a.services.db.fetchall("SELECT document FROM activities")
    assert len(documents) == 2 and not any("oops" in d["document"] for d in documents)


async def test_follow_of_remote_actor_is_pending_and_queued(federation: Federation) -> None:
    a, token = await _one(federation)
    b = await federation.add("b.test")
    await b.add_member("bob")
    bob = "http://b.test/users/bob"
    r = await _post(a, "ada", token, {"type": "Follow", "id": "http://x.test/1", "object": bob})
    assert r.status_code == 201
    follow = r.json()
    assert follow["type"] == "Follow" and follow["object"] == bob and follow["id"] == r.headers["location"]
    stored = await get_follow(a.services.db, "http://a.test/users/ada", bob)
    assert stored is not None and stored.state == "pending" and stored.activity_uri == follow["id"]
    assert await _deliveries(a) == [(follow["id"], "http://b.test/users/bob/inbox")]
    # Undo removes the follow and tells bob
    r = await _post(a, "ada", token, {"type": "Undo", "object": follow["id"]})
    assert r.status_code == 201 and r.json()["object"]["id"] == follow["id"]
    assert await get_follow(a.services.db, "http://a.test/users/ada", bob) is None
    assert (await _deliveries(a))[-1] == (r.json()["id"], "http://b.test/users/bob/inbox")
    assert (await _get(a, follow["id"], token)).status_code == 404


async def test_like_announce_and_undo_of_a_remote_note(federation: Federation) -> None:
    a, token = await _one(federation)
    b = await federation.add("b.test")
    bob = await b.add_member("bob")
    remote = await publish_note(b.services, bob, source="Mitosis notes")
    like = await _post(a, "ada", token, {"type": "Like", "object": remote.uri})
    assert like.status_code == 201 and like.json()["object"] == remote.uri
    again = await _post(a, "ada", token, {"type": "Like", "object": remote.uri})
    assert again.json()["id"] == like.json()["id"]
    boost = (await _post(a, "ada", token, {"type": "Announce", "object": remote.uri})).json()
    assert boost["to"] == [PUBLIC] and boost["cc"] == ["http://b.test/users/bob", "http://a.test/users/ada/followers"]
    count = "SELECT count(*) FROM reactions WHERE object_uri = ?"
    assert await a.services.db.fetchval(count, (remote.uri,)) == 2
    assert {inbox for _, inbox in await _deliveries(a)} == {"http://b.test/users/bob/inbox", "http://b.test/inbox"}
    for original in (like.json(), boost):
        r = await _post(a, "ada", token, {"type": "Undo", "object": original["id"]})
        assert r.status_code == 201
    assert await a.services.db.fetchval(count, (remote.uri,)) == 0


async def test_reply_to_remote_note_mentions_its_author(federation: Federation) -> None:
    a, token = await _one(federation)
    b = await federation.add("b.test")
    bob = await b.add_member("bob")
    remote = await publish_note(b.services, bob, source="What is ATP?")
    r = await _post(a, "ada", token, {"type": "Note", "content": "<p>Energy</p>", "inReplyTo": remote.uri})
    note = r.json()["object"]
    assert note["inReplyTo"] == remote.uri
    assert "http://b.test/users/bob" in note["cc"]
    assert {"type": "Mention", "href": "http://b.test/users/bob", "name": "@bob@b.test"} in note["tag"]
