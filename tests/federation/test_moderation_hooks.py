"""Moderation where other modules call it: suspended members' documents (410), direct-message and reply
settings in the inbox, rejected reports, the inbox worker's re-check of the policy, the resolver's cache."""

from __future__ import annotations

import pytest

from fediverse_learn.errors import DomainBlocked
from fediverse_learn.moderation import block_domain, suspend_account
from fediverse_learn.registrations import update_settings
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.moderation import list_reports
from fediverse_learn.store.objects import get_note
from fediverse_learn.vocab import PUBLIC
from tests.federation.test_flows import c2s, follow, get_ap, post_note
from tests.support.instances import Federation, Instance
from tests.support.remote import remote_actor


async def two(federation: Federation) -> tuple[Instance, Instance]:
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await a.add_member("ada")
    await b.add_member("bea")
    return a, b


async def test_suspended_member_documents_answer_410(federation: Federation) -> None:
    a, _ = await two(federation)
    ada = a.services.uris.actor("ada")
    assert (await get_ap(a, ada)).status_code == 200
    await suspend_account(a.services, ada)
    assert (await get_ap(a, ada)).status_code == 410
    assert (await a.client.get("/@ada", headers={"Accept": "text/html"})).status_code == 410


async def test_direct_messages_follow_the_members_setting(federation: Federation) -> None:
    # Given ada accepts direct messages only from accounts she follows
    a, b = await two(federation)
    ada_actor = await get_actor(a.services.db, "ada")
    assert ada_actor is not None
    await update_settings(a.services, ada_actor, remote_direct_messages="followed")
    ada, bea = a.services.uris.actor("ada"), b.services.uris.actor("bea")
    # When bea sends her a direct message, Then a.test drops it
    first = await c2s(b, "bea", {"type": "Note", "content": "<p>Hi @ada@a.test</p>", "to": [ada]})
    await federation.settle()
    assert await get_note(a.services.db, first["object"]["id"]) is None
    # When ada follows bea, Then bea's next direct message is kept
    await follow(a, "ada", bea)
    await federation.settle()
    second = await c2s(b, "bea", {"type": "Note", "content": "<p>Hi again @ada@a.test</p>", "to": [ada]})
    await federation.settle()
    assert await get_note(a.services.db, second["object"]["id"]) is not None


async def test_replies_follow_the_authors_reply_policy(federation: Federation) -> None:
    a, b = await two(federation)
    ada_actor = await get_actor(a.services.db, "ada")
    assert ada_actor is not None
    await update_settings(a.services, ada_actor, reply_policy="mentioned")
    note = (await post_note(a, "ada", "Questions welcome, from my class only"))["object"]["id"]
    reply = await c2s(b, "bea", {"type": "Note", "content": "<p>Me too</p>", "inReplyTo": note, "to": [PUBLIC]})
    await federation.settle()
    assert await get_note(a.services.db, reply["object"]["id"]) is None


async def test_reports_from_a_domain_rejecting_reports_are_ignored(federation: Federation) -> None:
    a, _ = await two(federation)
    await block_domain(a.services, "mastodon.test", severity="noop", reject_reports=True)
    flagger = remote_actor(federation, "mastodon.test", "mod")
    response = await flagger.post(federation.network, f"{a.base}/inbox",
                                  flagger.activity("Flag", [a.services.uris.actor("ada")], content="meh"))
    assert response.status_code == 202
    await federation.settle()
    assert await list_reports(a.services.db) == []


async def test_worker_refuses_what_was_queued_before_a_block_or_a_suspension(federation: Federation) -> None:
    # Given two activities of two remote accounts queued on a.test but not yet handled
    a, _ = await two(federation)
    ada = a.services.uris.actor("ada")
    spam = remote_actor(federation, "spam.test", "x")
    rude = remote_actor(federation, "mastodon.test", "rude")
    assert (await spam.post(federation.network, f"{ada}/inbox", spam.follow(ada))).status_code == 202
    assert (await rude.post(federation.network, f"{ada}/inbox", rude.follow(ada))).status_code == 202
    # When spam.test is blocked and rude suspended before the worker runs
    await block_domain(a.services, "spam.test", severity="silence")   # silence: its row stays queued
    await a.services.db.execute("UPDATE domain_policies SET severity = 'suspend'")
    a.services.forget_domain_rules()
    await suspend_account(a.services, rude.uri)
    await federation.settle()
    # Then neither follow was accepted, and both rows are parked with the reason
    rows = await a.services.db.fetchall("SELECT actor_uri, state, last_error FROM inbox_queue ORDER BY id")
    assert [(r["state"], r["last_error"].split(":")[0]) for r in rows] == [
        ("failed", "DomainBlocked"), ("failed", "Reject")]
    assert spam.server.received == [] and rude.server.received == []


async def test_local_delivery_works_in_allowlist_mode(federation: Federation) -> None:
    a = await federation.add("a.test", mode="allowlist")
    await a.add_member("ada")
    await a.add_member("amy")
    await follow(a, "amy", a.services.uris.actor("ada"))
    await federation.settle()
    note = await post_note(a, "ada", "For my class")
    await federation.settle()
    rows = await a.services.db.fetchall("SELECT state FROM inbox_queue")
    assert {r["state"] for r in rows} == {"done"}
    assert await get_note(a.services.db, note["object"]["id"]) is not None


async def test_resolver_does_not_use_cached_actors_of_a_blocked_domain(federation: Federation) -> None:
    a, b = await two(federation)
    await a.services.resolver.actor_by_handle("bea@b.test")
    await block_domain(a.services, "b.test", severity="silence")   # keeps the cached actor ...
    await a.services.db.execute("UPDATE domain_policies SET severity = 'suspend'")   # ... then forbids it
    a.services.forget_domain_rules()
    with pytest.raises(DomainBlocked):
        await a.services.resolver.actor_by_handle("bea@b.test")
    with pytest.raises(DomainBlocked):
        await a.services.resolver.actor(b.services.uris.actor("bea"))
