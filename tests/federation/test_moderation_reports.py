"""Reports both ways (a member's report forwarded as a Flag from the instance actor; a remote Flag queued),
and moderators' actions: warn, silence, suspend (a local one federates as Delete), delete a post; each logged."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fediverse_learn.errors import NotFound, ValidationError
from fediverse_learn.moderation import (
    delete_post,
    file_report,
    resolve_report,
    silence_account,
    suspend_account,
    unsuspend_account,
    warn_account,
)
from fediverse_learn.signatures import load_public_key, read_signature, verify_signature
from fediverse_learn.store.actors import LocalActor, get_actor, lookup_token
from fediverse_learn.store.follows import get_follow, list_followers
from fediverse_learn.store.moderation import is_silenced, is_suspended, list_log, list_reports
from fediverse_learn.store.objects import get_note, is_tombstoned
from fediverse_learn.store.remote import get_remote_actor
from tests.federation.test_flows import follow, post_note, stored
from tests.support.instances import Federation, Instance


async def member(instance: Instance, name: str) -> LocalActor:
    actor = await get_actor(instance.services.db, name)
    assert actor is not None
    return actor


async def two_schools(federation: Federation) -> tuple[Instance, Instance, str]:
    """ada on a.test followed by bea on b.test; ada's note stored on b.test. Returns the note's uri."""
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await a.add_member("ada")
    await b.add_member("bea")
    await follow(b, "bea", a.services.uris.actor("ada"))
    await federation.settle()
    note_uri = str((await post_note(a, "ada", "Buy followers cheap"))["object"]["id"])
    await federation.settle()
    await stored(b, note_uri)
    return a, b, note_uri


def received(federation: Federation, host: str, kind: str) -> list[tuple[dict[str, Any], Any]]:
    """The activities of type `kind` POSTed to `host` and accepted, with their requests."""
    found = []
    for r in federation.network.sent_to(host, "POST"):
        doc = orjson.loads(r.body)
        if doc.get("type") == kind and r.status == 202:
            found.append((doc, r))
    return found


# --- reports -------------------------------------------------------------------------------------------

async def test_member_report_is_forwarded_as_an_anonymous_flag_and_queued_there(federation: Federation) -> None:
    # Given ada's note on b.test
    a, b, note_uri = await two_schools(federation)
    ada, bea = a.services.uris.actor("ada"), b.services.uris.actor("bea")
    # When bea reports ada and the note, agreeing to forward the report
    report = await file_report(b.services, await member(b, "bea"), ada, [note_uri, "http://b.test/nope"],
                               "Spam links in every post", forward=True, category="spam")
    await federation.settle()
    # Then b.test queued it, with the note only, as forwarded
    assert (report.reporter_uri, report.target_uri, report.object_uris) == (bea, ada, (note_uri,))
    assert report.category == "spam" and report.forwarded_as is not None
    # And a.test got one Flag from b.test's instance actor, signed by its key, naming nobody of b.test
    [(flag, request)] = received(federation, "a.test", "Flag")
    assert flag["id"] == report.forwarded_as
    assert flag["actor"] == b.services.uris.instance_actor()
    assert flag["object"] == [ada, note_uri] and flag["content"] == "Spam links in every post"
    assert bea not in request.body.decode() and "bea" not in request.body.decode()
    sig = read_signature("POST", request.url, dict(request.headers), request.body, federation.clock.time())
    assert sig.key_id == b.services.uris.instance_key_id()
    verify_signature(sig, load_public_key(b.services.instance.public_key_pem))
    # And it landed in a.test's moderation queue
    [queued] = await list_reports(a.services.db)
    assert (queued.reporter_uri, queued.target_uri, queued.object_uris) == (
        b.services.uris.instance_actor(), ada, (note_uri,))
    assert queued.comment == "Spam links in every post"


async def test_report_is_not_forwarded_without_consent_or_about_a_local_account(federation: Federation) -> None:
    a, b, _ = await two_schools(federation)
    await b.add_member("otto")
    bea = await member(b, "bea")
    kept = await file_report(b.services, bea, a.services.uris.actor("ada"), [], "hmm", forward=False)
    local = await file_report(b.services, bea, b.services.uris.actor("otto"), [], "rude", forward=True)
    await federation.settle()
    assert kept.forwarded_as is None and local.forwarded_as is None
    assert received(federation, "a.test", "Flag") == []
    assert [r.id for r in await list_reports(b.services.db)] == [kept.id, local.id]


async def test_report_of_nobody_or_with_a_bad_category_is_refused(federation: Federation) -> None:
    a = await federation.add("a.test")
    ada = await a.add_member("ada")
    with pytest.raises(NotFound):
        await file_report(a.services, ada, a.services.uris.actor("nobody"), [], "", forward=False)
    with pytest.raises(ValidationError):
        await file_report(a.services, ada, "http://gone.test/users/x", [], "", forward=True)
    with pytest.raises(ValidationError, match="category"):
        await file_report(a.services, ada, a.services.uris.actor("ada"), [], "", forward=False, category="meh")


# --- actions -------------------------------------------------------------------------------------------

async def test_local_suspension_federates_as_delete_of_the_actor_and_is_logged(federation: Federation) -> None:
    # Given ada (a.test) followed by bea (b.test) and following carl (c.test); b.test reported her
    a, b, note_uri = await two_schools(federation)
    c = await federation.add("c.test")
    await c.add_member("carl")
    await a.add_member("amy")
    ada = a.services.uris.actor("ada")
    await follow(a, "ada", c.services.uris.actor("carl"))
    await follow(a, "amy", ada)
    await federation.settle()
    token = await a.token("ada")
    await file_report(b.services, await member(b, "bea"), ada, [note_uri], "spam", forward=True)
    await federation.settle()
    [report] = await list_reports(a.services.db)
    # When a moderator of a.test resolves the report by suspending ada
    resolved = await resolve_report(a.services, report.id, "suspend", moderator="http://a.test/users/mod",
                                    comment="spam account")
    await federation.settle()
    # Then b.test and c.test each got one Delete of ada, signed with her key
    actor = await member(a, "ada")
    for host in ("b.test", "c.test"):
        [(delete, request)] = received(federation, host, "Delete")
        assert delete["actor"] == ada and delete["object"] == ada
        sig = read_signature("POST", request.url, dict(request.headers), request.body, federation.clock.time())
        assert sig.key_id == a.services.uris.key_id("ada")
        verify_signature(sig, load_public_key(actor.public_key_pem))
    # And b.test forgot her: the follow is gone, her note tombstoned, her cached actor hidden
    assert await get_follow(b.services.db, b.services.uris.actor("bea"), ada) is None
    assert await is_tombstoned(b.services.db, note_uri)
    assert await get_remote_actor(b.services.db, ada) is None
    # And on a.test she is suspended and signed out, her local follower kept, the report closed, all logged
    assert await is_suspended(a.services.db, ada)
    assert await lookup_token(a.services.db, token) is None
    assert await list_followers(a.services.db, ada) == [a.services.uris.actor("amy")]
    assert (resolved.action_taken, resolved.resolved_by) == ("suspend", "http://a.test/users/mod")
    log = await list_log(a.services.db, target=ada)
    assert [(e.action, e.report_id) for e in log] == [("resolve_report", report.id), ("suspend", report.id)]
    assert log[1].comment == "spam account" and log[1].detail["delete_sent_to"] == 2
    # And a second suspension, or a second resolution, is refused; unsuspending is logged
    with pytest.raises(ValidationError):
        await suspend_account(a.services, ada)
    with pytest.raises(ValidationError, match="resolved already"):
        await resolve_report(a.services, report.id, "none")
    await unsuspend_account(a.services, ada)
    assert not await is_suspended(a.services.db, ada)


async def test_remote_suspension_severs_follows_with_reject_and_undo_and_purges(federation: Federation) -> None:
    # Given ada (a.test) and bea (b.test) follow each other, and ada's note is on b.test
    a, b, note_uri = await two_schools(federation)
    ada, bea = a.services.uris.actor("ada"), b.services.uris.actor("bea")
    await follow(a, "ada", bea)
    await federation.settle()
    # When b.test's moderator suspends ada
    await suspend_account(b.services, ada, moderator="http://b.test/users/mod")
    await federation.settle()
    # Then a.test was sent a Reject of ada's Follow and an Undo of bea's, so neither follow remains there
    assert [d["object"]["actor"] for d, _ in received(federation, "a.test", "Reject")] == [ada]
    assert [d["object"]["actor"] for d, _ in received(federation, "a.test", "Undo")] == [bea]
    assert await get_follow(a.services.db, bea, ada) is None and await get_follow(a.services.db, ada, bea) is None
    # And on b.test the follows and her note are gone, and she is suspended
    assert await get_follow(b.services.db, bea, ada) is None and await get_follow(b.services.db, ada, bea) is None
    assert await get_note(b.services.db, note_uri) is None
    assert await is_suspended(b.services.db, ada)
    assert [e.action for e in await list_log(b.services.db)] == ["suspend"]


async def test_delete_post_federates_for_ours_and_tombstones_a_remote_copy(federation: Federation) -> None:
    a, b, note_uri = await two_schools(federation)
    # When b.test's moderator deletes its copy of ada's note, Then only b.test forgets it
    await delete_post(b.services, note_uri, comment="off topic")
    await federation.settle()
    assert await is_tombstoned(b.services.db, note_uri) and not await is_tombstoned(a.services.db, note_uri)
    assert received(federation, "a.test", "Delete") == []
    # When a.test's moderator deletes a second note of ada, Then the Delete reaches b.test
    second = str((await post_note(a, "ada", "Second"))["object"]["id"])
    await federation.settle()
    await delete_post(a.services, second, moderator="http://a.test/users/mod")
    await federation.settle()
    assert await is_tombstoned(a.services.db, second) and await is_tombstoned(b.services.db, second)
    assert [(e.action, e.target) for e in await list_log(a.services.db)] == [("delete_post", second)]
    with pytest.raises(NotFound):
        await delete_post(a.services, second)


async def test_warn_and_silence_are_recorded(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    ada = a.services.uris.actor("ada")
    await warn_account(a.services, ada, comment="be kind")
    await silence_account(a.services, ada)
    assert await is_silenced(a.services.db, ada)
    await silence_account(a.services, ada, silenced=False)
    assert not await is_silenced(a.services.db, ada)
    assert [e.action for e in await list_log(a.services.db, target=ada)] == ["unsilence", "silence", "warn"]
    with pytest.raises(NotFound):
        await warn_account(a.services, a.services.uris.actor("nobody"))
