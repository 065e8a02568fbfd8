"""Whole federation flows between in-process instances: real apps, real keys and signatures, real SQLite.

Members act through the C2S outbox (POST /users/{name}/outbox with a bearer token) as a client would;
`federation.settle()` runs every instance's inbox and delivery workers until nothing is left to do.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from fediverse_learn.errors import SignatureError
from fediverse_learn.signatures import load_public_key, read_signature, verify_signature
from fediverse_learn.store.actors import LocalActor, create_actor, get_actor
from fediverse_learn.store.deliveries import claim_deliveries
from fediverse_learn.store.follows import get_follow, list_followers, set_follow
from fediverse_learn.store.notes_query import get_activity
from fediverse_learn.store.objects import StoredNote, get_note, is_tombstoned
from fediverse_learn.vocab import PUBLIC
from outbox.compose import accept_activity
from outbox.publish import publish
from outbox.retry import retry_delay
from tests.support.instances import Federation, Instance
from tests.support.network import RecordedRequest
from tests.support.remote import RemoteActorFixture, key_pair_for, remote_actor

AP = "application/activity+json"
# The longest first retry wait: n⁴ + 15 + jitter·30·(n+1) with n = 0 and jitter 1.
FIRST_RETRY = retry_delay(1, 1.0) + 1
SECOND_RETRY = retry_delay(2, 1.0) + 1


# --- helpers ------------------------------------------------------------------------------------------

async def add_member(instance: Instance, name: str, **kw: Any) -> LocalActor:
    """A member with a key generated once per session (RSA generation dominates these tests' time)."""
    return await create_actor(instance.services.db, name=name, kind="person",
                              keys=key_pair_for(f"{instance.host}/{name}"), now=instance.services.clock.time(), **kw)


async def c2s(instance: Instance, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    """`name` POSTs `doc` to their outbox with a bearer token; the activity the server made of it."""
    token = await instance.token(name)
    r = await instance.client.post(f"/users/{name}/outbox", json=doc, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    activity: dict[str, Any] = r.json()
    return activity


async def post_note(instance: Instance, name: str, content: str, **note: Any) -> dict[str, Any]:
    """A public note by `name` through C2S; the Create."""
    return await c2s(instance, name, {"type": "Note", "content": f"<p>{content}</p>", "to": [PUBLIC],
                                      "cc": [instance.services.uris.followers(name)], **note})


async def follow(follower: Instance, name: str, followee_uri: str) -> dict[str, Any]:
    """`name` on `follower` follows `followee_uri` through C2S; the Follow."""
    return await c2s(follower, name, {"type": "Follow", "object": followee_uri})


async def get_ap(instance: Instance, url: str) -> httpx.Response:
    return await instance.client.get(url, headers={"Accept": AP})


def posts_of(federation: Federation, host: str, activity_id: str, path: str = "/inbox",
             ok_only: bool = True) -> list[RecordedRequest]:
    """POSTs of the activity `activity_id` to `host`'s `path` (only the ones answered 2xx by default)."""
    return [
        r for r in federation.network.sent_to(host, "POST", path)
        if orjson.loads(r.body).get("id") == activity_id
        and (not ok_only or (r.status is not None and 200 <= r.status < 300))
    ]


async def follow_state(instance: Instance, follower: str, followee: str) -> str | None:
    """The state of a follow as `instance` holds it; None if it holds none."""
    row = await get_follow(instance.services.db, follower, followee)
    return row.state if row is not None else None


async def stored(instance: Instance, uri: str) -> StoredNote:
    note = await get_note(instance.services.db, uri)
    assert note is not None, f"{uri} is not stored on {instance.host}"
    return note


async def ada_with_followers(federation: Federation, **hosts: int) -> tuple[Instance, str, dict[str, Instance]]:
    """ada on a.test, followed (accepted) by `count` members on each host of `hosts` (`b_test=2`)."""
    a = await federation.add("a.test")
    await add_member(a, "ada")
    ada = a.services.uris.actor("ada")
    followers: dict[str, Instance] = {}
    for key, count in hosts.items():
        host = key.replace("_", ".")
        instance = followers[host] = await federation.add(host)
        for n in range(count):
            await add_member(instance, f"m{n}")
            await follow(instance, f"m{n}", ada)
    await federation.settle()
    assert len(await list_followers(a.services.db, ada)) == sum(hosts.values())
    return a, ada, followers


# --- follow --------------------------------------------------------------------------------------------

async def test_follow_is_accepted_across_instances(federation: Federation) -> None:
    # Given ada on a.test and bea on b.test
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await add_member(a, "ada")
    await add_member(b, "bea")
    ada, bea = a.services.uris.actor("ada"), b.services.uris.actor("bea")
    # When bea follows ada through b's C2S outbox, and the workers settle
    sent = await follow(b, "bea", ada)
    assert await follow_state(b, bea, ada) == "pending"
    await federation.settle()
    # Then b holds the follow as accepted, and a lists bea among ada's accepted followers
    on_b = await get_follow(b.services.db, bea, ada)
    assert on_b is not None and on_b.state == "accepted"
    on_a = await get_follow(a.services.db, bea, ada)
    assert on_a is not None and (on_a.state, on_a.activity_uri) == ("accepted", sent["id"])
    assert await list_followers(a.services.db, ada) == [bea]
    assert (await get_ap(a, f"{ada}/followers")).json()["totalItems"] == 1
    assert (await get_ap(a, f"{ada}/followers?page=1")).json()["orderedItems"] == [bea]
    assert (await get_ap(b, f"{bea}/following?page=1")).json()["orderedItems"] == [ada]
    # And the Accept went to bea's own inbox, once, embedding her Follow
    [accept] = [r for r in federation.network.sent_to("b.test", "POST", "/users/bea/inbox")]
    assert accept.status == 202
    doc = orjson.loads(accept.body)
    assert doc["type"] == "Accept" and doc["actor"] == ada and doc["object"]["id"] == sent["id"]


# --- post ----------------------------------------------------------------------------------------------

async def test_post_reaches_each_follower_host_shared_inbox_once_signed_by_author(federation: Federation) -> None:
    # Given ada on a.test followed by two members on b.test and one on c.test
    a, ada, hosts = await ada_with_followers(federation, b_test=2, c_test=1)
    actor = await get_actor(a.services.db, "ada")
    assert actor is not None
    # When ada posts a note
    create = await post_note(a, "ada", "Fractions are parts of a whole")
    await federation.settle()
    # Then each follower host got exactly one POST of the Create, on its shared inbox
    for host in ("b.test", "c.test"):
        posts = [r for r in federation.network.sent_to(host, "POST") if orjson.loads(r.body).get("id") == create["id"]]
        assert [httpx.URL(r.url).path for r in posts] == ["/inbox"], host
        [post] = posts
        assert post.status == 202
        # signed by ada's key, with a signature that verifies against it
        sig = read_signature("POST", post.url, dict(post.headers), post.body, federation.clock.time())
        assert sig.key_id == a.services.uris.key_id("ada")
        verify_signature(sig, load_public_key(actor.public_key_pem))
    # And the note is stored on b and c, once each
    for instance in hosts.values():
        note = await stored(instance, create["object"]["id"])
        assert note.author_uri == ada and "Fractions are parts of a whole" in note.content_html
        assert note.visibility == "public"


async def test_signature_of_delivery_does_not_verify_with_another_key(federation: Federation) -> None:
    # Given ada followed by a member of b.test, and a second member whose key is not ada's
    a, _, _ = await ada_with_followers(federation, b_test=1)
    other = await add_member(a, "otto")
    # When ada posts
    create = await post_note(a, "ada", "Keys matter")
    await federation.settle()
    # Then the delivered signature is bound to ada's key: it does not verify with otto's
    [post] = posts_of(federation, "b.test", create["id"])
    sig = read_signature("POST", post.url, dict(post.headers), post.body, federation.clock.time())
    with pytest.raises(SignatureError):
        verify_signature(sig, load_public_key(other.public_key_pem))


async def test_followers_only_note_reaches_followers_and_stays_private(federation: Federation) -> None:
    # Given ada followed by a member of b.test
    a, _, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    # When ada posts a note to her followers only
    create = await c2s(a, "ada", {"type": "Note", "content": "<p>Marking week starts Monday</p>",
                                  "to": [a.services.uris.followers("ada")]})
    await federation.settle()
    # Then b stores it as followers-only, and a does not show it to anyone who asks without a signature
    assert len(posts_of(federation, "b.test", create["id"])) == 1
    assert (await stored(b, create["object"]["id"])).visibility == "private"
    assert (await get_ap(a, create["object"]["id"])).status_code == 404


# --- reply ---------------------------------------------------------------------------------------------

async def test_reply_from_other_instance_threads_under_the_note(federation: Federation) -> None:
    # Given bea on b.test follows ada on a.test, and ada posted a note
    a, _, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    note_uri = (await post_note(a, "ada", "What is a prime?"))["object"]["id"]
    await federation.settle()
    # When b's member replies through C2S
    reply = await c2s(b, "m0", {"type": "Note", "content": "<p>Only 1 and itself divide it</p>",
                               "inReplyTo": note_uri, "to": [PUBLIC]})
    reply_uri = reply["object"]["id"]
    await federation.settle()
    # Then a stored the reply, threaded under ada's note
    on_a = await stored(a, reply_uri)
    assert on_a.in_reply_to_uri == note_uri
    assert on_a.author_uri == b.services.uris.actor("m0")
    # And the note's replies collection on a lists it
    replies = (await get_ap(a, f"{note_uri}/replies")).json()
    assert replies["first"]["items"] == [reply_uri]
    # And the note document's embedded replies collection lists it too
    doc = (await get_ap(a, note_uri)).json()
    assert reply_uri in str(doc["replies"])


async def test_deleted_reply_leaves_the_thread(federation: Federation) -> None:
    # Given a reply from b.test threaded under ada's note on a.test
    a, _, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    note_uri = (await post_note(a, "ada", "What is a prime?"))["object"]["id"]
    await federation.settle()
    reply = await c2s(b, "m0", {"type": "Note", "content": "<p>A number with two divisors</p>",
                               "inReplyTo": note_uri, "to": [PUBLIC]})
    await federation.settle()
    assert (await get_ap(a, f"{note_uri}/replies")).json()["first"]["items"] == [reply["object"]["id"]]
    # When its author deletes it
    await c2s(b, "m0", {"type": "Delete", "object": reply["object"]["id"]})
    await federation.settle()
    # Then a tombstoned its copy, and the note's replies collection no longer lists it
    assert await is_tombstoned(a.services.db, reply["object"]["id"])
    assert (await get_ap(a, f"{note_uri}/replies")).json()["first"]["items"] == []


# --- likes and boosts ----------------------------------------------------------------------------------

async def test_like_and_boost_are_counted_and_undo_of_like_uncounts(federation: Federation) -> None:
    # Given ada's note, known on b.test
    a, _, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    note_uri = (await post_note(a, "ada", "Photosynthesis"))["object"]["id"]
    await federation.settle()
    # When b's member Likes and Announces it through C2S
    like = await c2s(b, "m0", {"type": "Like", "object": note_uri})
    await c2s(b, "m0", {"type": "Announce", "object": note_uri})
    await federation.settle()
    # Then ada's note document on a counts one like and one share
    doc = (await get_ap(a, note_uri)).json()
    assert (doc["likes"]["totalItems"], doc["shares"]["totalItems"]) == (1, 1)
    assert (await get_ap(a, f"{note_uri}/likes")).json()["totalItems"] == 1
    assert (await get_ap(a, f"{note_uri}/shares")).json()["totalItems"] == 1
    # When the member undoes the Like
    await c2s(b, "m0", {"type": "Undo", "object": like["id"]})
    await federation.settle()
    # Then the like is gone on a, the boost stays
    doc = (await get_ap(a, note_uri)).json()
    assert (doc["likes"]["totalItems"], doc["shares"]["totalItems"]) == (0, 1)


async def test_boost_reaches_the_boosters_followers_and_its_undo_too(federation: Federation) -> None:
    # Given ada's note on a.test, known on b.test, and cy on c.test following b's member (not ada)
    a, _, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    c = await federation.add("c.test")
    await add_member(c, "cy")
    booster = b.services.uris.actor("m0")
    await follow(c, "cy", booster)
    note_uri = (await post_note(a, "ada", "Boost me"))["object"]["id"]
    await federation.settle()
    assert await get_note(c.services.db, note_uri) is None
    # When b's member boosts it
    announce = await c2s(b, "m0", {"type": "Announce", "object": note_uri})
    await federation.settle()
    # Then c got the Announce once and fetched and stored ada's note; a counts the share
    assert len(posts_of(federation, "c.test", announce["id"])) == 1
    assert (await stored(c, note_uri)).author_uri == a.services.uris.actor("ada")
    assert (await get_ap(a, note_uri)).json()["shares"]["totalItems"] == 1
    # When the boost is undone
    undo = await c2s(b, "m0", {"type": "Undo", "object": announce["id"]})
    await federation.settle()
    # Then the Undo reached both a and c, and a no longer counts the share
    assert len(posts_of(federation, "c.test", undo["id"])) == 1
    assert len(posts_of(federation, "a.test", undo["id"])) == 1
    assert (await get_ap(a, note_uri)).json()["shares"]["totalItems"] == 0


# --- edit and delete -----------------------------------------------------------------------------------

async def test_edit_then_delete_propagate_to_followers(federation: Federation) -> None:
    # Given ada's note, stored on b.test
    a, _, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    note_uri = (await post_note(a, "ada", "Water boils at 90 C"))["object"]["id"]
    await federation.settle()
    before = await stored(b, note_uri)
    assert before.updated is None
    # When ada edits it through C2S
    federation.clock.advance(60)
    await c2s(a, "ada", {"type": "Update", "object": {"id": note_uri, "type": "Note",
                                                      "content": "<p>Water boils at 100 C</p>"}})
    await federation.settle()
    # Then b's copy has the new content and an `updated` time
    after = await stored(b, note_uri)
    assert "100 C" in after.content_html and "90 C" not in after.content_html
    assert after.updated is not None
    # When ada deletes it
    await c2s(a, "ada", {"type": "Delete", "object": note_uri})
    await federation.settle()
    # Then b's copy is tombstoned, and a answers 410 for the note
    gone = await stored(b, note_uri)
    assert gone.deleted_at is not None
    assert await is_tombstoned(b.services.db, note_uri)
    r = await get_ap(a, note_uri)
    assert r.status_code == 410
    assert r.json()["type"] == "Tombstone"


# --- unfollow ------------------------------------------------------------------------------------------

async def test_unfollow_stops_delivery(federation: Federation) -> None:
    # Given a member of b.test follows ada, and got her first note
    a, ada, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    first = await post_note(a, "ada", "First")
    await federation.settle()
    assert len(posts_of(federation, "b.test", first["id"])) == 1
    held = await get_follow(b.services.db, b.services.uris.actor("m0"), ada)
    assert held is not None and held.state == "accepted" and held.activity_uri is not None
    follow_uri = held.activity_uri
    # When the member undoes the Follow through C2S
    await c2s(b, "m0", {"type": "Undo", "object": follow_uri})
    await federation.settle()
    # Then a has no follower left, b no follow
    assert await list_followers(a.services.db, ada) == []
    assert await get_follow(b.services.db, b.services.uris.actor("m0"), ada) is None
    # And ada's next note is not delivered to b at all
    second = await post_note(a, "ada", "Second")
    await federation.settle()
    assert posts_of(federation, "b.test", second["id"], ok_only=False) == []
    assert await get_note(b.services.db, second["object"]["id"]) is None


async def test_follow_again_after_unfollow_resumes_delivery(federation: Federation) -> None:
    # Given a member of b.test who followed ada and then unfollowed
    a, ada, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    member_uri = b.services.uris.actor("m0")
    held = await get_follow(b.services.db, member_uri, ada)
    assert held is not None and held.activity_uri is not None
    await c2s(b, "m0", {"type": "Undo", "object": held.activity_uri})
    await federation.settle()
    assert await follow_state(a, member_uri, ada) is None
    # When they follow her again
    await follow(b, "m0", ada)
    await federation.settle()
    # Then both sides hold the follow as accepted, and ada's next note reaches b
    assert (await follow_state(a, member_uri, ada), await follow_state(b, member_uri, ada)) == ("accepted",) * 2
    create = await post_note(a, "ada", "Welcome back")
    await federation.settle()
    assert len(posts_of(federation, "b.test", create["id"])) == 1
    await stored(b, create["object"]["id"])


# --- manual approval -----------------------------------------------------------------------------------

async def test_follow_of_manually_approving_member_stays_pending(federation: Federation) -> None:
    # Given ada on a.test approves followers by hand, and bea on b.test
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await add_member(a, "ada", manually_approves_followers=True)
    await add_member(b, "bea")
    ada, bea = a.services.uris.actor("ada"), b.services.uris.actor("bea")
    # When bea follows ada
    follow_doc = await follow(b, "bea", ada)
    await federation.settle()
    # Then the follow is pending on both sides, and no Accept was sent
    assert await follow_state(a, bea, ada) == "pending"
    assert await follow_state(b, bea, ada) == "pending"
    assert federation.network.sent_to("b.test", "POST") == []
    # And ada's followers-only and public notes are not delivered to the pending follower
    private = await c2s(a, "ada", {"type": "Note", "content": "<p>For followers</p>",
                                   "to": [a.services.uris.followers("ada")]})
    public = await post_note(a, "ada", "For everyone")
    await federation.settle()
    assert federation.network.sent_to("b.test", "POST") == []
    assert await get_note(b.services.db, private["object"]["id"]) is None
    assert await get_note(b.services.db, public["object"]["id"]) is None
    # When ada approves. Approving follow requests has no API yet (a later issue): the test does directly
    # what that API will do, through the store and outbox.publish: mark the follow accepted, publish the
    # Accept of bea's Follow (compose.accept_activity) to her personal inbox.
    actor = await get_actor(a.services.db, "ada")
    assert actor is not None
    received = await get_follow(a.services.db, bea, ada)
    assert received is not None and received.activity_uri == follow_doc["id"]
    async with a.services.db.transaction() as tx:
        await set_follow(tx, bea, ada, "accepted", None, a.services.clock.time())
    await publish(a.services, actor, accept_activity(a.services, actor, follow_doc), [f"{bea}/inbox"])
    await federation.settle()
    # Then b holds the follow accepted, and ada's next note reaches b
    assert await follow_state(b, bea, ada) == "accepted"
    later = await post_note(a, "ada", "Welcome")
    await federation.settle()
    assert len(posts_of(federation, "b.test", later["id"])) == 1
    await stored(b, later["object"]["id"])


# --- failures ------------------------------------------------------------------------------------------

async def test_note_reaches_host_exactly_once_after_it_was_down_twice(federation: Federation) -> None:
    # Given ada followed by a member of b.test
    a, _, hosts = await ada_with_followers(federation, b_test=1)
    b = hosts["b.test"]
    # And b.test answers 503 once
    federation.network.fail("b.test", 503, times=1)
    # When ada posts, and the first attempt fails
    create = await post_note(a, "ada", "Retry me")
    await federation.settle()
    assert [r.status for r in posts_of(federation, "b.test", create["id"], ok_only=False)] == [503]
    # And after the first retry wait b.test refuses the connection once
    federation.network.fail("b.test", None, times=1)
    federation.clock.advance(FIRST_RETRY)
    await federation.settle()
    assert [r.status for r in posts_of(federation, "b.test", create["id"], ok_only=False)] == [503, None]
    # And after the second wait b.test is back
    federation.network.heal("b.test")
    federation.clock.advance(SECOND_RETRY)
    await federation.settle()
    # Then exactly one POST of the Create succeeded, and b stored the note
    assert [r.status for r in posts_of(federation, "b.test", create["id"], ok_only=False)] == [503, None, 202]
    await stored(b, create["object"]["id"])
    # And nothing more is sent later
    federation.clock.advance(86_400)
    await federation.settle()
    assert len(posts_of(federation, "b.test", create["id"], ok_only=False)) == 3


async def test_crash_during_fan_out_loses_no_delivery(federation: Federation) -> None:
    # Given ada followed by one actor on each of 12 Mastodon-like remote hosts
    a = await federation.add("a.test")
    await add_member(a, "ada")
    ada = a.services.uris.actor("ada")
    remotes: list[RemoteActorFixture] = [remote_actor(federation, f"r{n}.test", "fan") for n in range(12)]
    for remote in remotes:
        response = await remote.post(federation.network, f"{a.base}/inbox", remote.follow(ada))
        assert response.status_code == 202
    await federation.settle()
    assert len(await list_followers(a.services.db, ada)) == 12
    # When ada posts, and a worker claims part of the fan-out and dies before sending it (lease left held)
    create = await post_note(a, "ada", "Fan out")
    lease = 120.0
    abandoned = await claim_deliveries(a.services.db, federation.clock.time(), lease, 5)
    assert len(abandoned) == 5
    await federation.settle()
    # Then the rest were delivered at once, the abandoned ones not yet
    abandoned_hosts = {row.host for row in abandoned}
    for remote in remotes:
        got = [p for p in remote.server.received if orjson.loads(p.body)["id"] == create["id"]]
        assert len(got) == (0 if remote.host in abandoned_hosts else 1), remote.host
    # When the lease has passed
    federation.clock.advance(lease + 1)
    await federation.settle()
    # Then every host received the Create, the abandoned ones exactly once
    for remote in remotes:
        got = [p for p in remote.server.received if orjson.loads(p.body)["id"] == create["id"]]
        assert len(got) >= 1, remote.host
        if remote.host in abandoned_hosts:
            assert len(got) == 1, remote.host
    assert await get_activity(a.services.db, create["id"]) is not None
    states = await a.services.db.fetchall("SELECT state FROM deliveries WHERE activity_uri = ?", (create["id"],))
    assert [r["state"] for r in states] == ["done"] * 12
