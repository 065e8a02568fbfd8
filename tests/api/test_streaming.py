"""Streaming over WebSocket (driven as raw ASGI): user stream notifications and home updates, public and hashtag
streams, subscribe messages, `update`, `status.update` and `delete` events of local, C2S and remote posts,
`notification` events of every type from local and remote actors, auth failures."""

from __future__ import annotations

from typing import Any

import orjson

from fediverse_learn.store.objects import get_note
from tests.api.support import Socket, ada_follows_bob, bearer, edit_status, post_status, token_with
from tests.support.instances import Federation, Instance
from tests.support.remote import PUBLIC, remote_actor


async def _found(instance: Instance, token: str, q: str, kind: str) -> dict[str, Any]:
    """The first of `kind` ("accounts", "statuses") that /api/v2/search finds for `q`, resolving it if remote."""
    response = await instance.client.get("/api/v2/search", params={"q": q, "resolve": "true"}, headers=bearer(token))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()[kind][0]
    return found


async def test_user_stream_gets_notifications_and_home_updates(federation: Federation) -> None:
    a, ada, bob_token = await ada_follows_bob(federation, "write")
    socket = Socket(a, stream="user", access_token=ada)
    assert (await socket.connect())["type"] == "websocket.accept"
    status = await post_status(a, bob_token, "hello @ada")
    update = await socket.event()
    assert update["stream"] == ["user"] and update["event"] == "update"
    assert orjson.loads(update["payload"])["id"] == status["id"]
    await federation.settle()
    notification = await socket.event()
    assert notification["event"] == "notification"
    payload = orjson.loads(notification["payload"])
    assert payload["type"] == "mention" and payload["status"]["id"] == status["id"]
    await a.client.delete(f"/api/v1/statuses/{status['id']}", headers=bearer(bob_token))
    assert await socket.event() == {"stream": ["user"], "event": "delete", "payload": status["id"]}
    await socket.close()


async def test_remote_posts_and_deletions_reach_the_user_stream(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    b = await federation.add("b.test")
    await b.add_member("bea")
    ada, bea = await token_with(a, "ada", "read write follow"), await token_with(b, "bea", "read write")
    bea_on_a = await _found(a, ada, "@bea@b.test", "accounts")
    await a.client.post(f"/api/v1/accounts/{bea_on_a['id']}/follow", headers=bearer(ada))
    await federation.settle()
    socket = Socket(a, stream="user", access_token=ada)
    await socket.connect()
    posted = await post_status(b, bea, "from afar")
    await federation.settle()
    update = await socket.event()
    status = orjson.loads(update["payload"])
    assert update["event"] == "update" and status["uri"] == posted["uri"] and status["account"]["acct"] == "bea@b.test"
    await b.client.delete(f"/api/v1/statuses/{posted['id']}", headers=bearer(bea))
    await federation.settle()
    assert await socket.event() == {"stream": ["user"], "event": "delete", "payload": status["id"]}
    await socket.close()


async def test_public_and_hashtag_streams_by_subscription(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    ada = await token_with(a, "ada", "read write")
    socket = Socket(a, headers={"Authorization": f"Bearer {ada}"})
    await socket.connect()
    await socket.send({"type": "subscribe", "stream": "hashtag", "tag": "Maths"})
    await socket.send({"type": "subscribe", "stream": "public:local"})
    await socket.send({"type": "subscribe", "stream": "nope"})
    assert (await socket.event())["status"] == 400
    await post_status(a, ada, "quiet", visibility="private")
    tagged = await post_status(a, ada, "about #maths")
    first, second = await socket.event(), await socket.event()
    assert sorted(map(str, (first["stream"], second["stream"]))) == ["['hashtag', 'maths']", "['public:local']"]
    assert orjson.loads(first["payload"])["id"] == tagged["id"]
    await socket.send({"type": "unsubscribe", "stream": "hashtag", "tag": "maths"})
    await socket.send({"type": "unsubscribe", "stream": "public:local"})
    await post_status(a, ada, "more #maths")
    await socket.send({"type": "subscribe", "stream": "public"})
    await a.add_member("bob")
    bob = await token_with(a, "bob", "write")
    bob_id = (await a.client.get("/api/v1/accounts/lookup", params={"acct": "bob"})).json()["id"]
    assert (await a.client.post(f"/api/v1/accounts/{bob_id}/mute", headers=bearer(ada))).status_code == 200
    await post_status(a, bob, "muted voice")
    later = await post_status(a, ada, "and more")
    assert orjson.loads((await socket.event())["payload"])["id"] == later["id"]
    await socket.close()


async def test_auth_failures(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    no_token = Socket(a, stream="public")
    assert (await no_token.connect())["type"] == "websocket.close"
    wrong = Socket(a, stream="user", access_token=await token_with(a, "ada", "write"))
    assert (await wrong.connect())["type"] == "websocket.close"
    by_protocol = Socket(a, headers={"Sec-WebSocket-Protocol": await token_with(a, "ada", "read")}, stream="user")
    accepted = await by_protocol.connect()
    assert accepted["type"] == "websocket.accept"
    await by_protocol.close()
    assert (await a.client.get("/api/v1/streaming/health")).text == "OK"


async def test_local_edits_and_deletions_reach_user_public_and_hashtag_streams(federation: Federation) -> None:
    # Given ada following bob, listening to her user stream, the local public stream and #maths
    a, ada, bob_token = await ada_follows_bob(federation, "read write")
    sockets = {("user",): Socket(a, stream="user", access_token=ada),
               ("public:local",): Socket(a, stream="public:local", access_token=ada),
               ("hashtag", "maths"): Socket(a, stream="hashtag", tag="maths", access_token=ada)}
    for socket in sockets.values():
        assert (await socket.connect())["type"] == "websocket.accept"
    # When bob posts about #maths
    status = await post_status(a, bob_token, "about #maths")
    for stream, socket in sockets.items():
        event = await socket.event()
        assert (event["stream"], event["event"]) == (list(stream), "update")
    # And edits it
    await edit_status(a, bob_token, status["id"], "more about #maths")
    # Then each stream has a `status.update` with the edited status
    for stream, socket in sockets.items():
        event = await socket.event()
        assert (event["stream"], event["event"]) == (list(stream), "status.update")
        edited = orjson.loads(event["payload"])
        assert edited["id"] == status["id"] and "more about" in edited["content"] and edited["edited_at"]
    # When he deletes it, then each stream has a `delete` with the status id as the payload
    await a.client.delete(f"/api/v1/statuses/{status['id']}", headers=bearer(bob_token))
    for stream, socket in sockets.items():
        assert await socket.event() == {"stream": list(stream), "event": "delete", "payload": status["id"]}
    for socket in sockets.values():
        await socket.close()


async def test_private_edits_stay_off_public_streams(federation: Federation) -> None:
    # Given ada following bob, listening to her user stream and the public stream
    a, ada, bob_token = await ada_follows_bob(federation, "read write")
    user, public = Socket(a, stream="user", access_token=ada), Socket(a, stream="public", access_token=ada)
    await user.connect()
    await public.connect()
    # When bob edits and deletes a followers-only note, then posts a public one
    quiet = await post_status(a, bob_token, "for followers", visibility="private")
    assert (await user.event())["event"] == "update"
    await edit_status(a, bob_token, quiet["id"], "still for followers")
    assert (await user.event())["event"] == "status.update"
    await a.client.delete(f"/api/v1/statuses/{quiet['id']}", headers=bearer(bob_token))
    assert await user.event() == {"stream": ["user"], "event": "delete", "payload": quiet["id"]}
    loud = await post_status(a, bob_token, "for everyone")
    # Then the public stream only ever had the public one
    event = await public.event()
    assert event["event"] == "update" and orjson.loads(event["payload"])["id"] == loud["id"]
    await user.close()
    await public.close()


async def test_c2s_posts_edits_and_deletions_stream(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    ada = await token_with(a, "ada", "read write")
    socket = Socket(a, stream="public:local", access_token=ada)
    await socket.connect()
    # When ada creates, updates and deletes a note through her outbox
    created = await a.client.post("/users/ada/outbox", headers=bearer(ada), json={
        "type": "Note", "to": [PUBLIC], "content": "<p>via C2S</p>"})
    assert created.status_code == 201, created.text
    uri = created.json()["object"]["id"]
    first = await socket.event()
    status_id = orjson.loads(first["payload"])["id"]
    assert first["event"] == "update" and orjson.loads(first["payload"])["uri"] == uri
    await a.client.post("/users/ada/outbox", headers=bearer(ada), json={
        "type": "Update", "object": {"id": uri, "type": "Note", "content": "<p>changed via C2S</p>"}})
    edited = await socket.event()
    assert edited["event"] == "status.update" and "changed" in orjson.loads(edited["payload"])["content"]
    await a.client.post("/users/ada/outbox", headers=bearer(ada), json={"type": "Delete", "object": uri})
    # Then the stream had each, in Mastodon's shapes
    assert await socket.event() == {"stream": ["public:local"], "event": "delete", "payload": status_id}
    await socket.close()


async def test_remote_edits_and_deletions_stream(federation: Federation) -> None:
    # Given ada listening to the public stream, #maths and her notifications
    a = await federation.add("a.test")
    await a.add_member("ada")
    ada = await token_with(a, "ada", "read write")
    ada_uri = a.services.uris.actor("ada")
    sockets = {("public",): Socket(a, stream="public", access_token=ada),
               ("hashtag", "maths"): Socket(a, stream="hashtag", tag="maths", access_token=ada)}
    mine = Socket(a, stream="user:notification", access_token=ada)
    for socket in (*sockets.values(), mine):
        await socket.connect()
    # When zed, on a Mastodon server, posts about #maths mentioning ada
    zed = remote_actor(federation, "mastodon.test", "zed")
    tags = [{"type": "Hashtag", "name": "#maths", "href": "https://mastodon.test/tags/maths"},
            {"type": "Mention", "href": ada_uri, "name": "@ada@a.test"}]
    note = zed.note("<p>about #maths, @ada</p>", cc=[zed.followers, ada_uri], tag=tags)
    await zed.post(federation.network, f"{a.base}/inbox", zed.create(note))
    await federation.settle()
    for stream, socket in sockets.items():
        event = await socket.event()
        assert (event["stream"], event["event"]) == (list(stream), "update")
    status_id = orjson.loads(event["payload"])["id"]
    mention = await mine.event()
    assert mention["event"] == "notification" and orjson.loads(mention["payload"])["type"] == "mention"
    # And edits it
    update = zed.activity("Update", {**note, "content": "<p>more about #maths, @ada</p>",
                                     "updated": "2024-05-02T15:00:00Z"}, to=note["to"], cc=note["cc"])
    await zed.post(federation.network, f"{a.base}/inbox", update)
    await federation.settle()
    # Then every stream, her notifications one too (she is mentioned), has the edit
    for stream, socket in [*sockets.items(), (("user:notification",), mine)]:
        event = await socket.event()
        assert (event["stream"], event["event"]) == (list(stream), "status.update")
        assert orjson.loads(event["payload"])["id"] == status_id
    # When zed deletes it, then the public and hashtag streams have the deletion
    delete = zed.activity("Delete", {"id": note["id"], "type": "Tombstone"}, to=[PUBLIC])
    await zed.post(federation.network, f"{a.base}/inbox", delete)
    await federation.settle()
    for stream, socket in sockets.items():
        assert await socket.event() == {"stream": list(stream), "event": "delete", "payload": status_id}
    for socket in (*sockets.values(), mine):
        await socket.close()


async def test_every_notification_type_streams(federation: Federation) -> None:
    # Given ada's and bob's notes; ada boosted bob's; ann approves followers by hand
    a = await federation.add("a.test")
    ada_actor = await a.add_member("ada")
    ann_actor = await a.add_member("ann", manually_approves_followers=True)
    await a.add_member("bob")
    ada, ann = await token_with(a, "ada", "read write follow"), await token_with(a, "ann", "read")
    bob = await token_with(a, "bob", "read write follow")
    ada_uri, ann_uri = a.services.uris.actor("ada"), a.services.uris.actor("ann")
    mine, bobs = await post_status(a, ada, "ada's note"), await post_status(a, bob, "bob's note")
    await a.client.post(f"/api/v1/statuses/{bobs['id']}/reblog", headers=bearer(ada))
    zed = remote_actor(federation, "mastodon.test", "zed")
    zeds = zed.note("<p>zed's note</p>")
    await zed.post(federation.network, f"{a.base}/inbox", zed.create(zeds))
    await federation.settle()
    zeds_stored = await get_note(a.services.db, zeds["id"])
    assert zeds_stored is not None
    await a.client.post(f"/api/v1/statuses/{zeds_stored.id}/reblog", headers=bearer(ada))
    await federation.settle()
    ada_socket = Socket(a, stream="user:notification", access_token=ada)
    ann_socket = Socket(a, stream="user", access_token=ann)
    await ada_socket.connect()
    await ann_socket.connect()
    # When bob, locally, follows ada and ann, likes and boosts ada's note, mentions her and edits his boosted note
    for path in (f"accounts/{ada_actor.id}/follow", f"accounts/{ann_actor.id}/follow",
                 f"statuses/{mine['id']}/favourite", f"statuses/{mine['id']}/reblog"):
        assert (await a.client.post(f"/api/v1/{path}", headers=bearer(bob))).status_code == 200
    await post_status(a, bob, "hi @ada")
    await edit_status(a, bob, bobs["id"], "bob's edited note")
    await federation.settle()
    # And zed, remotely, does the same
    ada_note_uri = (await a.client.get(f"/api/v1/statuses/{mine['id']}")).json()["uri"]
    mention = zed.note("<p>hi @ada</p>", cc=[zed.followers, ada_uri],
                       tag=[{"type": "Mention", "href": ada_uri, "name": "@ada@a.test"}])
    for activity in (zed.follow(ada_uri), zed.follow(ann_uri), zed.activity("Like", ada_note_uri),
                     zed.activity("Announce", ada_note_uri, to=[PUBLIC], cc=[ada_uri]), zed.create(mention),
                     zed.activity("Update", {**zeds, "content": "<p>zed's edited note</p>",
                                             "updated": "2024-05-02T15:00:00Z"}, to=zeds["to"], cc=zeds["cc"])):
        await zed.post(federation.network, f"{a.base}/inbox", activity)
    await federation.settle()
    # Then each reached the member's stream as a `notification` with the Notification as its payload
    told: dict[str, list[tuple[str, str]]] = {"ada": [], "ann": []}
    for name, socket, count in (("ada", ada_socket, 10), ("ann", ann_socket, 2)):
        for _ in range(count):
            event = await socket.event()
            assert event["event"] == "notification" and event["stream"] == [
                "user:notification" if name == "ada" else "user"]
            payload = orjson.loads(event["payload"])
            told[name].append((payload["type"], payload["account"]["acct"]))
    kinds = ["favourite", "follow", "mention", "reblog", "update"]
    assert sorted(told["ada"]) == sorted([(k, "bob") for k in kinds] + [(k, "zed@mastodon.test") for k in kinds])
    assert sorted(told["ann"]) == [("follow_request", "bob"), ("follow_request", "zed@mastodon.test")]
    await ada_socket.close()
    await ann_socket.close()


async def test_boosts_reach_the_user_stream_as_home_shows_them(federation: Federation) -> None:
    # Given ada, who follows bob (local) and bea (remote, her boosts off), but not cy; and a Mastodon zed
    a = await federation.add("a.test")
    await a.add_member("ada")
    bob = await a.add_member("bob")
    await a.add_member("cy")
    b = await federation.add("b.test")
    await b.add_member("bea")
    ada = await token_with(a, "ada", "read write follow")
    bob_token, cy_token = await token_with(a, "bob", "read write"), await token_with(a, "cy", "write")
    bea = await token_with(b, "bea", "read write")
    bea_on_a = await _found(a, ada, "@bea@b.test", "accounts")
    await a.client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(ada))
    await a.client.post(f"/api/v1/accounts/{bea_on_a['id']}/follow", data={"reblogs": "false"},
                        headers=bearer(ada))
    await federation.settle()
    cys = await post_status(a, cy_token, "by cy")
    bobs = await post_status(a, bob_token, "by bob")
    socket = Socket(a, stream="user", access_token=ada)
    await socket.connect()
    # When bob boosts cy's status and his own, and bea boosts cy's status from b.test
    boost = (await a.client.post(f"/api/v1/statuses/{cys['id']}/reblog", headers=bearer(bob_token))).json()
    await a.client.post(f"/api/v1/statuses/{bobs['id']}/reblog", headers=bearer(bob_token))
    cys_on_b = await _found(b, bea, cys["uri"], "statuses")
    await b.client.post(f"/api/v1/statuses/{cys_on_b['id']}/reblog", headers=bearer(bea))
    await federation.settle()
    marker = await post_status(a, bob_token, "the end")
    # Then ada's user stream has bob's boost of cy's status as a reblog, as her home shows it, and no other
    event = await socket.event()
    status = orjson.loads(event["payload"])
    assert event["event"] == "update" and status["id"] == boost["id"] and status["account"]["username"] == "bob"
    assert status["reblog"]["id"] == cys["id"] and status["content"] == ""
    assert orjson.loads((await socket.event())["payload"])["id"] == marker["id"]
    home = (await a.client.get("/api/v1/timelines/home", headers=bearer(ada))).json()
    assert [s["id"] for s in home] == [marker["id"], boost["id"], bobs["id"]]
    await socket.close()


async def test_replies_to_strangers_stay_off_the_user_stream_as_off_home(federation: Federation) -> None:
    # Given ada, who follows bob, and cyd whom she doesn't follow
    a, ada, bob = await ada_follows_bob(federation, "read write")
    await a.add_member("cyd")
    cyd = await token_with(a, "cyd", "write")
    by_cyd, by_ada = await post_status(a, cyd, "cyd asks"), await post_status(a, ada, "ada asks")
    socket = Socket(a, stream="user", access_token=ada)
    await socket.connect()
    # When bob answers cyd, then ada
    await post_status(a, bob, "@cyd yes", in_reply_to_id=by_cyd["id"])
    to_ada = await post_status(a, bob, "@ada yes", in_reply_to_id=by_ada["id"])
    # Then only the answer to ada is streamed (then her mention notification)
    event = await socket.event()
    assert event["event"] == "update" and orjson.loads(event["payload"])["id"] == to_ada["id"]
    await socket.close()
