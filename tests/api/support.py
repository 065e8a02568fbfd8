"""Helpers for client API tests: members with passwords, tokens with chosen scopes, the OAuth flow, posting and
editing statuses, a streaming WebSocket client."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from argon2 import PasswordHasher

from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.oauth import issue_token, set_password_hash
from tests.support.instances import Federation, Instance

__all__ = ["PASSWORD", "Socket", "ada_follows_bob", "bearer", "edit_status", "fast_hash", "form_fields", "pkce_pair",
           "post_status", "register_app", "set_password", "sign_in", "token_with"]

PASSWORD = "correct horse battery"
# Argon2 hashes carry their parameters, so verification follows them: cheap ones keep the tests fast.
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def fast_hash(password: str) -> str:
    return _FAST.hash(password)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def set_password(instance: Instance, name: str, password: str = PASSWORD) -> LocalActor:
    actor = await get_actor(instance.services.db, name)
    assert actor is not None
    await set_password_hash(instance.services.db, actor.id, fast_hash(password), instance.services.clock.time())
    return actor


async def token_with(instance: Instance, name: str, scopes: str) -> str:
    """A member's token with exactly these scopes (as `fediverse-learn token` makes, without an app)."""
    actor = await get_actor(instance.services.db, name)
    assert actor is not None
    issued = await issue_token(instance.services.db, actor_id=actor.id, app_id=None, scopes=tuple(scopes.split()),
                               now=instance.services.clock.time(), refresh=False)
    return issued.access_token


async def register_app(instance: Instance, redirect_uri: str = "https://app.example/cb",
                       scopes: str = "read write follow push") -> dict[str, Any]:
    response = await instance.client.post("/api/v1/apps", data={
        "client_name": "Test App", "redirect_uris": redirect_uri, "scopes": scopes, "website": "https://app.example"})
    assert response.status_code == 200, response.text
    app: dict[str, Any] = response.json()
    return app


def form_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def pkce_pair() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(hashlib.sha256(b"verifier seed").digest() * 2).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def sign_in(instance: Instance, app: dict[str, Any], name: str, *, password: str = PASSWORD,
                  scope: str = "read write follow", state: str | None = "xyz",
                  challenge: str | None = None) -> str:
    """Run /oauth/authorize to the redirect; return the authorization code."""
    query = {"client_id": app["client_id"], "redirect_uri": app["redirect_uris"][0], "response_type": "code",
             "scope": scope, **({"state": state} if state else {}),
             **({"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {})}
    page = await instance.client.get("/oauth/authorize", params=query)
    assert page.status_code == 200, page.text
    consent = await instance.client.post("/oauth/authorize", data={
        **form_fields(page.text), "username": name, "password": password})
    assert consent.status_code == 200, consent.text
    done = await instance.client.post("/oauth/authorize", data={**form_fields(consent.text), "decision": "approve"})
    assert done.status_code == 302, done.text
    query_back = parse_qs(urlsplit(done.headers["location"]).query)
    assert query_back.get("state") == ([state] if state else None)
    return query_back["code"][0]


async def ada_follows_bob(federation: Federation, bob_scopes: str) -> tuple[Instance, str, str]:
    """a.test where ada follows bob, settled: a, ada's token (read write follow), bob's token with `bob_scopes`."""
    a = await federation.add("a.test")
    await a.add_member("ada")
    bob = await a.add_member("bob")
    ada, bob_token = await token_with(a, "ada", "read write follow"), await token_with(a, "bob", bob_scopes)
    response = await a.client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(ada))
    assert response.status_code == 200, response.text
    await federation.settle()
    return a, ada, bob_token


async def post_status(instance: Instance, token: str, text: str, **data: str) -> dict[str, Any]:
    """POST /api/v1/statuses as the token's owner (`data`: visibility and the like); the status as answered."""
    response = await instance.client.post("/api/v1/statuses", data={"status": text, **data}, headers=bearer(token))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def edit_status(instance: Instance, token: str, status_id: str, text: str) -> dict[str, Any]:
    """PUT /api/v1/statuses/:id with new text; the edited status as answered."""
    response = await instance.client.put(f"/api/v1/statuses/{status_id}", data={"status": text},
                                         headers=bearer(token))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


class Socket:
    """A WebSocket client of /api/v1/streaming speaking ASGI to the app directly."""

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
