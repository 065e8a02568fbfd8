"""Admin accounts: list with Mastodon's v1 filters and paging, show, moderate, approve or reject sign-ups."""

from __future__ import annotations

from typing import Any

from fediverse_learn.api.admin_common import SIGN_UP_BASE
from fediverse_learn.api.entities import REMOTE_ACCOUNT_BASE
from fediverse_learn.moderation import file_report
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.api_accounts import remote_actor_id
from fediverse_learn.store.moderation import get_report, is_silenced, is_suspended, list_log
from fediverse_learn.store.registrations import add_sign_up
from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance

ADMIN = "admin:read admin:write"


async def school(federation: Federation) -> tuple[Instance, str]:
    """a.test with a moderator (mod), members ada and bob; returns the moderator's admin token."""
    a = await federation.add("a.test")
    await a.add_member("mod", role="moderator")
    await a.add_member("ada")
    await a.add_member("bob", display_name="Bob B.")
    return a, await token_with(a, "mod", ADMIN)


async def get(a: Instance, path: str, token: str, status: int = 200, **params: Any) -> Any:
    response = await a.client.get(path, params=params, headers=bearer(token))
    assert response.status_code == status, response.text
    return response.json()


async def post(a: Instance, path: str, token: str, status: int = 200, **data: Any) -> Any:
    response = await a.client.post(path, data=data, headers=bearer(token))
    assert response.status_code == status, response.text
    return response.json()


async def _id(a: Instance, name: str) -> str:
    actor = await get_actor(a.services.db, name)
    assert actor is not None
    return str(actor.id)


async def test_list_and_show_local_accounts(federation: Federation) -> None:
    a, token = await school(federation)
    accounts = await get(a, "/api/v1/admin/accounts", token, local="true", active="true")
    assert [x["username"] for x in accounts] == ["bob", "ada", "mod"]
    bob = accounts[0]
    assert bob["domain"] is None and bob["silenced"] is False and bob["suspended"] is False
    assert bob["approved"] is True and bob["disabled"] is False and bob["confirmed"] is True
    assert bob["account"]["acct"] == "bob" and bob["account"]["display_name"] == "Bob B."
    assert bob["role"]["name"] == "" and accounts[2]["role"]["name"] == "moderator"
    assert bob["created_at"].endswith("Z") and bob["ips"] == [] and bob["email"] == ""
    # Paging: newest first, Link header to the next page
    first = await a.client.get("/api/v1/admin/accounts", params={"limit": "2"}, headers=bearer(token))
    assert [x["username"] for x in first.json()] == ["bob", "ada"] and 'rel="next"' in first.headers["link"]
    rest = await get(a, "/api/v1/admin/accounts", token, max_id=first.json()[1]["id"])
    assert [x["username"] for x in rest] == ["mod"]
    assert [x["username"] for x in await get(a, "/api/v1/admin/accounts", token, username="bo")] == ["bob"]
    assert [x["username"] for x in await get(a, "/api/v1/admin/accounts", token, staff="true")] == ["mod"]
    # Show one
    shown = await get(a, f"/api/v1/admin/accounts/{bob['id']}", token)
    assert shown == bob
    await get(a, "/api/v1/admin/accounts/999", token, status=404)


async def test_remote_accounts_are_listed_with_their_domain(federation: Federation) -> None:
    a, token = await school(federation)
    b = await federation.add("b.test")
    await b.add_member("bea")
    await a.services.resolver.actor(b.services.uris.actor("bea"))
    row = await remote_actor_id(a.services.db, b.services.uris.actor("bea"))
    assert row is not None
    remote = await get(a, "/api/v1/admin/accounts", token, remote="true")
    assert [(x["id"], x["username"], x["domain"]) for x in remote] == [(str(REMOTE_ACCOUNT_BASE + row), "bea",
                                                                       "b.test")]
    assert await get(a, "/api/v1/admin/accounts", token, remote="true", by_domain="c.test") == []
    everyone = await get(a, "/api/v1/admin/accounts", token)
    assert [x["username"] for x in everyone] == ["bea", "bob", "ada", "mod"]


async def test_moderation_actions_on_an_account(federation: Federation) -> None:
    a, token = await school(federation)
    bob_id, bob_uri = await _id(a, "bob"), a.services.uris.actor("bob")
    mod_uri = a.services.uris.actor("mod")
    # Silence, listed as silenced, unsilence
    assert await post(a, f"/api/v1/admin/accounts/{bob_id}/action", token, type="silence", text="calm down") == {}
    assert await is_silenced(a.services.db, bob_uri)
    assert [x["username"] for x in await get(a, "/api/v1/admin/accounts", token, silenced="true")] == ["bob"]
    assert (await post(a, f"/api/v1/admin/accounts/{bob_id}/unsilence", token))["silenced"] is False
    # A warning (type none) is logged with the moderator
    await post(a, f"/api/v1/admin/accounts/{bob_id}/action", token, type="none", text="be kind")
    # Suspend, then lift it
    await post(a, f"/api/v1/admin/accounts/{bob_id}/action", token, type="suspend")
    assert await is_suspended(a.services.db, bob_uri)
    assert (await get(a, f"/api/v1/admin/accounts/{bob_id}", token))["suspended"] is True
    assert [x["username"] for x in await get(a, "/api/v1/admin/accounts", token, suspended="true")] == ["bob"]
    assert (await post(a, f"/api/v1/admin/accounts/{bob_id}/unsuspend", token))["suspended"] is False
    log = [(e.action, e.moderator, e.comment) for e in await list_log(a.services.db, target=bob_uri)]
    assert log == [("unsuspend", mod_uri, ""), ("suspend", mod_uri, ""), ("warn", mod_uri, "be kind"),
                   ("unsilence", mod_uri, ""), ("silence", mod_uri, "calm down")]
    # Unsupported types and unknown accounts
    await post(a, f"/api/v1/admin/accounts/{bob_id}/action", token, 422, type="sensitive")
    await post(a, "/api/v1/admin/accounts/999/action", token, 404, type="silence")


async def test_action_with_a_report_resolves_it(federation: Federation) -> None:
    a, token = await school(federation)
    ada = await get_actor(a.services.db, "ada")
    assert ada is not None
    report = await file_report(a.services, ada, a.services.uris.actor("bob"), [], "rude", forward=False)
    mod_id = await _id(a, "mod")
    await post(a, f"/api/v1/admin/accounts/{mod_id}/action", token, 422, type="silence", report_id=str(report.id))
    await post(a, f"/api/v1/admin/accounts/{await _id(a, 'bob')}/action", token, type="silence",
               report_id=str(report.id))
    resolved = await get_report(a.services.db, report.id)
    assert resolved is not None and resolved.action_taken == "silence"
    assert resolved.resolved_by == a.services.uris.actor("mod")


async def test_approve_and_reject_sign_ups(federation: Federation) -> None:
    a, token = await school(federation)
    now = a.services.clock.time()
    carla = await add_sign_up(a.services.db, name="carla", password_hash=None, email="c@school.test",
                              reason="I am in class 4b", invite_id=None, now=now)
    await add_sign_up(a.services.db, name="dan", password_hash=None, email=None, reason="", invite_id=None, now=now)
    pending = await get(a, "/api/v1/admin/accounts", token, pending="true")
    assert [x["username"] for x in pending] == ["dan", "carla"]
    assert pending[1]["id"] == str(SIGN_UP_BASE + carla.id) and pending[1]["approved"] is False
    assert pending[1]["invite_request"] == "I am in class 4b" and pending[1]["email"] == "c@school.test"
    approved = await post(a, f"/api/v1/admin/accounts/{pending[1]['id']}/approve", token)
    assert approved["username"] == "carla" and approved["approved"] is True
    assert approved["id"] == await _id(a, "carla") and approved["invite_request"] == "I am in class 4b"
    rejected = await post(a, f"/api/v1/admin/accounts/{pending[0]['id']}/reject", token)
    assert rejected["username"] == "dan"
    assert await get(a, "/api/v1/admin/accounts", token, pending="true") == []
    assert await get_actor(a.services.db, "dan") is None
    # An active account is not pending: 403, as Mastodon answers
    await post(a, f"/api/v1/admin/accounts/{approved['id']}/approve", token, 403)


async def test_admin_accounts_need_a_moderator_and_the_admin_scopes(federation: Federation) -> None:
    a, _ = await school(federation)
    bob_id = await _id(a, "bob")
    assert (await a.client.get("/api/v1/admin/accounts")).status_code == 401
    assert (await a.client.post(f"/api/v1/admin/accounts/{bob_id}/action", data={"type": "silence"})).status_code \
        == 401
    plain = await token_with(a, "mod", "read write follow")
    await get(a, "/api/v1/admin/accounts", plain, 403)
    read_only = await token_with(a, "mod", "admin:read:accounts")
    await get(a, "/api/v1/admin/accounts", read_only)
    await post(a, f"/api/v1/admin/accounts/{bob_id}/action", read_only, 403, type="silence")
    wrong_kind = await token_with(a, "mod", "admin:read:reports admin:write:reports")
    await get(a, f"/api/v1/admin/accounts/{bob_id}", wrong_kind, 403)
    member = await token_with(a, "ada", ADMIN)
    await get(a, "/api/v1/admin/accounts", member, 403)
    await post(a, f"/api/v1/admin/accounts/{bob_id}/action", member, 403, type="suspend")
    assert not await is_suspended(a.services.db, a.services.uris.actor("bob"))
