"""Registrations: the four modes, invites (expiry, uses, revocation), the approval queue, roster import, roles,
and the member-safety settings the inbox checks."""

from __future__ import annotations

import dataclasses

import pytest
from argon2 import PasswordHasher

from fediverse_learn.errors import InvalidName, NameTaken, NotFound, ValidationError
from fediverse_learn.passwords import verify_password
from fediverse_learn.registrations import (
    InviteInvalid,
    RegistrationError,
    RegistrationsClosed,
    approve_sign_up,
    create_invite,
    direct_message_recipients,
    direct_message_refused,
    has_role,
    import_roster,
    instance_defaults,
    invite_link,
    new_invite_code,
    register,
    reject_sign_up,
    reply_accepted,
    revoke,
    set_member_role,
    settings_of,
    update_settings,
)
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.follows import set_follow
from fediverse_learn.store.moderation import list_log
from fediverse_learn.store.objects import StoredNote
from fediverse_learn.store.registrations import get_invite, list_sign_ups
from tests.support.instances import Federation, Instance

PASSWORD = "correct horse battery"
REMOTE = "http://far.test/users/stranger"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest cost: the same format (verify_password reads the cost from the hash)."""
    monkeypatch.setattr("fediverse_learn.registrations.hash_password",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash)


@pytest.fixture
async def school(federation: Federation) -> Instance:
    return await federation.add("a.test")


def with_mode(instance: Instance, mode: str) -> Instance:
    config = instance.services.config
    instance.services.config = dataclasses.replace(
        config, instance=dataclasses.replace(config.instance, registrations=mode))
    return instance


async def password_of(instance: Instance, name: str) -> str | None:
    return await instance.services.db.fetchval("SELECT password_hash FROM actors WHERE name = ?", (name,))  # type: ignore[no-any-return]


# --- modes and invites ---------------------------------------------------------------------------------

async def test_closed_registrations_refuse_everyone_even_with_an_invite(school: Instance) -> None:
    invite = await create_invite(school.services)
    with pytest.raises(RegistrationsClosed):
        await register(with_mode(school, "closed").services, "ada", PASSWORD, invite.code, "")


async def test_invite_mode_needs_a_usable_invite_and_counts_its_uses(school: Instance) -> None:
    services = with_mode(school, "invite").services
    with pytest.raises(InviteInvalid, match="needed"):
        await register(services, "ada", PASSWORD, None, "")
    invite = await create_invite(services, max_uses=2, expires_in_days=7)
    assert invite_link(services.uris, invite.code) == f"http://a.test/invite/{invite.code}"
    first = await register(services, "ada", PASSWORD, invite.code, "", email="ada@school.test")
    second = await register(services, "bea", PASSWORD, invite.code, "")
    assert (first.state, second.state) == ("active", "active")
    assert first.actor is not None and first.actor.role == "member"
    assert verify_password(await password_of(school, "ada"), PASSWORD)
    # Then the invite is used up
    with pytest.raises(InviteInvalid, match="exhausted"):
        await register(services, "cid", PASSWORD, invite.code, "")
    used = await get_invite(services.db, invite.code)
    assert used is not None and used.uses == 2
    assert await get_actor(services.db, "cid") is None


async def test_expired_revoked_and_unknown_invites_are_refused(federation: Federation, school: Instance) -> None:
    services = with_mode(school, "invite").services
    expiring = await create_invite(services, expires_in_days=1)
    revoked = await create_invite(services)
    await revoke(services, revoked.code)
    federation.clock.advance(86_401)
    for code, why in ((expiring.code, "expired"), (revoked.code, "revoked"), ("nonsense", "unknown")):
        with pytest.raises(InviteInvalid, match=why):
            await register(services, "ada", PASSWORD, code, "")
    with pytest.raises(NotFound):
        await revoke(services, revoked.code)
    with pytest.raises(ValidationError):
        await create_invite(services, max_uses=0)
    assert [e.action for e in await list_log(services.db)] == ["revoke_invite", "create_invite", "create_invite"]


async def test_open_mode_and_bad_sign_ups(school: Instance) -> None:
    services = with_mode(school, "open").services
    await school.add_member("taken")
    assert (await register(services, "ada", PASSWORD, None, "")).state == "active"
    with pytest.raises(NameTaken):
        await register(services, "ada", PASSWORD, None, "")
    with pytest.raises(NameTaken):
        await register(services, "taken", PASSWORD, None, "")
    with pytest.raises(InvalidName):
        await register(services, "Ada Lovelace", PASSWORD, None, "")
    with pytest.raises(InvalidName):
        await register(services, "admin", PASSWORD, None, "")
    with pytest.raises(RegistrationError, match="at least"):
        await register(services, "shorty", "short", None, "")


# --- approval ------------------------------------------------------------------------------------------

async def test_approval_queues_sign_ups_holds_their_names_and_approves_or_rejects(school: Instance) -> None:
    services = with_mode(school, "approval").services
    # When ada and bea sign up without an invite
    pending = await register(services, "ada", PASSWORD, None, "I teach maths")
    await register(services, "bea", PASSWORD, None, "")
    # Then they wait, with no account yet, and their names are held
    assert (pending.state, pending.actor) == ("pending", None)
    assert await get_actor(services.db, "ada") is None
    assert [(s.name, s.reason) for s in await list_sign_ups(services.db)] == [("ada", "I teach maths"), ("bea", "")]
    with pytest.raises(NameTaken):
        await register(services, "ada", PASSWORD, None, "")
    # And a valid invite skips the queue
    invite = await create_invite(services)
    assert (await register(services, "cid", PASSWORD, invite.code, "")).state == "active"
    # When a moderator approves ada and rejects bea
    actor = await approve_sign_up(services, "ada", moderator="http://a.test/users/mod")
    await reject_sign_up(services, "bea", comment="not a member of staff")
    # Then ada is a member who can sign in with her password, bea's name is free again
    assert actor.name == "ada" and verify_password(await password_of(school, "ada"), PASSWORD)
    assert await list_sign_ups(services.db) == []
    assert [s.password_hash for s in await list_sign_ups(services.db, "rejected")] == [None]
    assert (await register(services, "bea", PASSWORD, None, "again")).state == "pending"
    with pytest.raises(NotFound):
        await approve_sign_up(services, "ada")
    actions = [(e.action, e.target) for e in await list_log(services.db)]
    assert ("approve_sign_up", "ada") in actions and ("reject_sign_up", "bea") in actions


# --- roster import -------------------------------------------------------------------------------------

ROSTER = """name,display_name,role,email
ada,Ada Lovelace,admin,ada@school.test
bea,Bea,,
Cid,Cid Campeador,member,cid@school.test
bad name,Nope,member,
dan,Dan,principal,
eve,Eve,member,not-an-address
ada,Ada again,member,
"""


async def test_roster_import_creates_members_reports_bad_lines_and_is_idempotent(school: Instance) -> None:
    await school.add_member("zed")
    services = school.services
    result = await import_roster(services, ROSTER + "zed,Zed,member,\n")
    assert result.created == ["ada", "bea", "cid"]
    assert result.existing == ["zed"]
    assert [p.split(":")[0] for p in result.problems] == ["line 5", "line 6", "line 7", "line 8"]
    assert "repeats line 2" in result.problems[-1]
    ada = await get_actor(services.db, "ada")
    assert ada is not None and (ada.display_name, ada.role, ada.discoverable, ada.indexable) == (
        "Ada Lovelace", "admin", False, False)
    assert (await settings_of(services, ada)).email == "ada@school.test"
    # When the same roster is imported again, Then nothing is created twice
    again = await import_roster(services, ROSTER)
    assert again.created == [] and again.existing == ["ada", "bea", "cid"]


async def test_roster_without_header_and_a_name_awaiting_approval(school: Instance) -> None:
    services = with_mode(school, "approval").services
    await register(services, "ada", PASSWORD, None, "")
    result = await import_roster(services, "ada,Ada\nbea,Bea,moderator\n")
    assert result.created == ["bea"] and "awaits approval" in result.problems[0]
    bea = await get_actor(services.db, "bea")
    assert bea is not None and bea.role == "moderator"


# --- roles and safety settings -------------------------------------------------------------------------

async def test_roles_are_set_and_ordered(school: Instance) -> None:
    await school.add_member("ada")
    assert await set_member_role(school.services, "ada", "moderator") == "member"
    ada = await get_actor(school.services.db, "ada")
    assert ada is not None and has_role(ada, "moderator") and has_role(ada, "member") and not has_role(ada, "admin")
    with pytest.raises(ValidationError):
        await set_member_role(school.services, "ada", "principal")
    with pytest.raises(NotFound):
        await set_member_role(school.services, "nobody", "admin")
    [entry] = await list_log(school.services.db)
    assert (entry.action, entry.detail) == ("set_role", {"from": "member", "to": "moderator"})


async def test_direct_messages_from_strangers_follow_each_members_setting(school: Instance) -> None:
    services = with_mode(school, "open").services
    for name in ("ada", "bea", "cid"):
        await register(services, name, PASSWORD, None, "")
    uris = services.uris
    ada, bea, cid = [await get_actor(services.db, n) for n in ("ada", "bea", "cid")]
    assert ada is not None and bea is not None and cid is not None
    assert instance_defaults(services.config).remote_direct_messages == "anyone"
    await update_settings(services, ada, remote_direct_messages="followed")
    await update_settings(services, cid, remote_direct_messages="none")
    everyone = [uris.actor("ada"), uris.actor("bea"), uris.actor("cid"), "http://far.test/users/x"]
    # A stranger reaches only bea; once ada follows the stranger, ada too; a member reaches everyone
    assert await direct_message_recipients(services, REMOTE, everyone) == [uris.actor("bea")]
    async with services.db.transaction() as tx:
        await set_follow(tx, uris.actor("ada"), REMOTE, "accepted", None, 0.0)
    assert await direct_message_recipients(services, REMOTE, everyone) == [uris.actor("ada"), uris.actor("bea")]
    assert len(await direct_message_recipients(services, uris.actor("bea"), everyone)) == 3
    # The inbox drops a message only when it addresses members here and none of them accepts it
    assert await direct_message_refused(services, REMOTE, [uris.actor("cid")])
    assert not await direct_message_refused(services, REMOTE, [uris.actor("cid"), uris.actor("bea")])
    assert not await direct_message_refused(services, REMOTE, [uris.actor("nobody"), "http://far.test/users/x"])
    with pytest.raises(ValidationError):
        await update_settings(services, ada, reply_policy="friends")


async def test_replies_follow_the_authors_reply_policy(school: Instance) -> None:
    services = with_mode(school, "open").services
    ada = (await register(services, "ada", PASSWORD, None, "")).actor
    assert ada is not None
    uris = services.uris
    note = StoredNote(
        id=1, uri=uris.note("ada", 1), local_actor_id=ada.id, author_uri=uris.actor("ada"), type="Note",
        visibility="public", content_html="", source=None, source_type=None, summary=None, name=None,
        sensitive=False, language=None, url=None, in_reply_to_uri=None, context_uri=None, audience_uri=None,
        to=(), cc=("http://far.test/users/friend",), tags=(), published=0.0, updated=None, deleted_at=None)
    assert await reply_accepted(services, REMOTE, note)
    await update_settings(services, ada, reply_policy="mentioned")
    assert not await reply_accepted(services, REMOTE, note)
    assert await reply_accepted(services, "http://far.test/users/friend", note)
    assert await reply_accepted(services, uris.actor("ada"), note)
    await update_settings(services, ada, reply_policy="followers")
    async with services.db.transaction() as tx:
        await set_follow(tx, REMOTE, uris.actor("ada"), "accepted", None, 0.0)
    assert await reply_accepted(services, REMOTE, note)
    remote_note = dataclasses.replace(note, local_actor_id=None, author_uri="http://far.test/users/friend")
    assert await reply_accepted(services, "http://far.test/users/anyone", remote_note)


def test_invite_codes_never_look_like_a_command_line_option() -> None:
    codes = {new_invite_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 16 and not c.startswith("-") and c.replace("-", "").replace("_", "").isalnum()
               for c in codes)
