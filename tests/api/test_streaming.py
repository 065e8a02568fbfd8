"""Streaming over WebSocket (driven as raw ASGI): user stream notifications and home updates, public and hashtag
streams, subscribe messages, delete events, auth failures."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlencode

import orjson

from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


class Socket:
    """A WebSocket client speaking ASGI to the app directly."""

    def __init__(self, a: Instance, headers: dict[str, str] | None = None, **query: str) -> None:
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        scope = {"type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "http_version": "1.1",
                 "path": "/api/v1/streaming", "raw_path": b"/api/v1/streaming", "root_path": "",
                 "query_string": urlencode(query).encode(), "server": (a.host, 80), "client": ("127.0.0.1", 5000),
                 "headers": [(b"host", a.host.encode()), *((k.lower().encode(), v.encode())
                                                           for k, v in (headers or {}).items())],
                 "subprotocols": [], "state": {}}
        self.task = asyncio.create_task(a.app(scope, self.to_app.get, self.from_app.put))

    async def connect(self) -> MutableMapping[str, Any]:
        await self.to_app.put({"type": "websocket.connect"})
        return await self.next()

    async def next(self) -> MutableMapping[str, Any]:
        return await asyncio.wait_for(self.from_app.get(), 5)

    async def event(self) -> dict[str, Any]:
        message = await self.next()
        assert message["type"] == "websocket.send", message
        found: dict[str, Any] = orjson.loads(message["text"])
        return found

    async def send(self, doc: dict[str, Any]) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": orjson.dumps(doc).decode()})

    async def close(self) -> None:
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 5)


async def _post(a: Instance, token: str, text: str, **data: str) -> dict[str, Any]:
    response = await a.client.post("/api/v1/statuses", data={"status": text, **data}, headers=bearer(token))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_user_stream_gets_notifications_and_home_updates(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    bob = await a.add_member("bob")
    ada, bob_token = await token_with(a, "ada", "read write follow"), await token_with(a, "bob", "write")
    await a.client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(ada))
    await federation.settle()
    socket = Socket(a, stream="user", access_token=ada)
    assert (await socket.connect())["type"] == "websocket.accept"
    status = await _post(a, bob_token, "hello @ada")
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
    bea_on_a = (await a.client.get("/api/v2/search", params={"q": "@bea@b.test", "resolve": "true"},
                                   headers=bearer(ada))).json()["accounts"][0]
    await a.client.post(f"/api/v1/accounts/{bea_on_a['id']}/follow", headers=bearer(ada))
    await federation.settle()
    socket = Socket(a, stream="user", access_token=ada)
    await socket.connect()
    posted = await _post(b, bea, "from afar")
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
    await _post(a, ada, "quiet", visibility="private")
    tagged = await _post(a, ada, "about #maths")
    first, second = await socket.event(), await socket.event()
    assert sorted(map(str, (first["stream"], second["stream"]))) == ["['hashtag', 'maths']", "['public:local']"]
    assert orjson.loads(first["payload"])["id"] == tagged["id"]
    await socket.send({"type": "unsubscribe", "stream": "hashtag", "tag": "maths"})
    await socket.send({"type": "unsubscribe", "stream": "public:local"})
    await _post(a, ada, "more #maths")
    await socket.send({"type": "subscribe", "stream": "public"})
    await a.add_member("bob")
    bob = await token_with(a, "bob", "write")
    bob_id = (await a.client.get("/api/v1/accounts/lookup", params={"acct": "bob"})).json()["id"]
    assert (await a.client.post(f"/api/v1/accounts/{bob_id}/mute", headers=bearer(ada))).status_code == 200
    await _post(a, bob, "muted voice")
    later = await _post(a, ada, "and more")
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
