"""Sign-up through the client API (`POST /api/v1/accounts`) under each registration mode."""

from __future__ import annotations

import dataclasses
from typing import Any

from fediverse_learn.registrations import approve_sign_up, create_invite
from fediverse_learn.store.actors import get_actor
from tests.api.support import PASSWORD, bearer, register_app
from tests.support.instances import Federation, Instance


async def _school(federation: Federation, mode: str) -> Instance:
    a = await federation.add("a.test")
    cfg = a.services.config
    a.services.config = dataclasses.replace(cfg, instance=dataclasses.replace(cfg.instance, registrations=mode))
    return a


async def _app_token(a: Instance, scope: str = "write:accounts") -> str:
    app = await register_app(a)
    response = await a.client.post("/oauth/token", auth=(app["client_id"], app["client_secret"]),
                                   data={"grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _form(name: str, **extra: str) -> dict[str, str]:
    return {"username": name, "email": f"{name}@school.example", "password": PASSWORD, "agreement": "true",
            "locale": "en", "reason": "I am in class 7b", **extra}


async def _sign_up(a: Instance, token: str, name: str, **extra: str) -> Any:
    return await a.client.post("/api/v1/accounts", data=_form(name, **extra), headers=bearer(token))


async def test_open_mode_creates_a_member_who_can_use_the_token(federation: Federation) -> None:
    a = await _school(federation, "open")
    response = await _sign_up(a, await _app_token(a, "write"), "ada")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and isinstance(body["created_at"], int)
    assert body["scope"] == "read write follow push" and body["access_token"]
    me = await a.client.get("/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["username"] == "ada"
    v2 = (await a.client.get("/api/v2/instance")).json()["registrations"]
    assert v2["enabled"] is True and v2["approval_required"] is False
    assert (await a.client.get("/api/v1/instance")).json()["registrations"] is True


async def test_invite_mode_needs_a_usable_invite(federation: Federation) -> None:
    a = await _school(federation, "invite")
    token = await _app_token(a)
    refused = await _sign_up(a, token, "ada")
    assert refused.status_code == 403 and "invite" in refused.json()["error"]
    once = await create_invite(a.services, max_uses=1)
    expiring = await create_invite(a.services, expires_in_days=1)
    first = await _sign_up(a, token, "ada", invite_code=once.code)
    assert first.status_code == 200, first.text
    assert (await get_actor(a.services.db, "ada")) is not None
    exhausted = await _sign_up(a, token, "bob", invite_code=once.code)
    assert exhausted.status_code == 403 and "exhausted" in exhausted.json()["error"]
    federation.clock.advance(86_401)
    expired = await _sign_up(a, token, "bob", invite_code=expiring.code)
    assert expired.status_code == 403 and "expired" in expired.json()["error"]
    assert await get_actor(a.services.db, "bob") is None
    v2 = (await a.client.get("/api/v2/instance")).json()["registrations"]
    assert v2["enabled"] is True and v2["approval_required"] is False


async def test_approval_mode_queues_the_sign_up(federation: Federation) -> None:
    a = await _school(federation, "approval")
    token = await _app_token(a)
    response = await _sign_up(a, token, "ada")
    assert response.status_code == 200, response.text
    assert response.json()["access_token"] is None and response.json()["approval_required"] is True
    assert await get_actor(a.services.db, "ada") is None
    again = await _sign_up(a, token, "ada")
    assert again.status_code == 422
    await approve_sign_up(a.services, "ada")
    assert await get_actor(a.services.db, "ada") is not None
    invited = await _sign_up(a, token, "bob", invite_code=(await create_invite(a.services)).code)
    assert invited.status_code == 200 and invited.json()["access_token"]
    v2 = (await a.client.get("/api/v2/instance")).json()["registrations"]
    assert v2["enabled"] is True and v2["approval_required"] is True


async def test_closed_mode_is_forbidden(federation: Federation) -> None:
    a = await _school(federation, "closed")
    response = await _sign_up(a, await _app_token(a), "ada")
    assert response.status_code == 403 and "closed" in response.json()["error"]
    assert await get_actor(a.services.db, "ada") is None


async def test_validation_failures_have_mastodons_shape(federation: Federation) -> None:
    a = await _school(federation, "open")
    token = await _app_token(a)
    assert (await _sign_up(a, token, "ada")).status_code == 200
    taken = await _sign_up(a, token, "ada")
    assert taken.status_code == 422
    assert taken.json()["error"].startswith("Validation failed")
    assert taken.json()["details"]["username"][0]["error"] == "ERR_TAKEN"
    bad = await a.client.post("/api/v1/accounts", data={"username": "Not Valid!", "password": "short"},
                              headers=bearer(token))
    assert bad.status_code == 422
    details = bad.json()["details"]
    assert details["username"][0]["error"] == "ERR_INVALID"
    assert details["password"][0]["error"] == "ERR_TOO_SHORT"
    assert details["agreement"][0]["error"] == "ERR_ACCEPTED"
    missing = await a.client.post("/api/v1/accounts", data={"username": "cid", "agreement": "true"},
                                  headers=bearer(token))
    assert missing.status_code == 422 and missing.json()["details"]["password"][0]["error"] == "ERR_BLANK"


async def test_an_app_token_with_write_accounts_is_needed(federation: Federation) -> None:
    a = await _school(federation, "open")
    no_token = await a.client.post("/api/v1/accounts", data=_form("ada"))
    assert no_token.status_code == 401
    read_only = await _sign_up(a, await _app_token(a, "read"), "ada")
    assert read_only.status_code == 403
    assert await get_actor(a.services.db, "ada") is None
