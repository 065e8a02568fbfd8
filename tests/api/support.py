"""Helpers for client API tests: members with passwords, tokens with chosen scopes, the OAuth flow."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from argon2 import PasswordHasher

from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.oauth import issue_token, set_password_hash
from tests.support.instances import Instance

__all__ = ["PASSWORD", "bearer", "fast_hash", "form_fields", "pkce_pair", "register_app", "set_password", "sign_in",
           "token_with"]

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
