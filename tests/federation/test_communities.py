"""Communities across three instances: a community on a.test, a member on b.test (fediverse-learn, group-aware)
and a Mastodon-style actor on c.test (a fake that only mentions and only understands Announce(Note))."""

from __future__ import annotations

import httpx
import orjson
import pytest

from fediverse_learn.store.communities import is_banned
from fediverse_learn.store.follows import get_follow
from fediverse_learn.store.objects import get_note
from inbox.handlers.community import relay_to_communities
from inbox.incoming import Incoming
from outbox.community_actions import NotModerator, answer_join, ban
from tests.support.communities import context_items, join, local, stored
from tests.support.instances import Federation

# --- the thread ---------------------------------------------------------------------------------------

async def test_members_on_three_servers_end_with_complete_threads(federation: Federation) -> None:
    # Given a community on a.test joined by bea (b.test) and by cat (c.test, Mastodon-style)
    s = await join(federation)
    for follower in (s.bea, s.cat.uri):
        follow = await get_follow(s.a.services.db, follower, s.maths)
        assert follow is not None and follow.state == "accepted"
    assert [d["object"]["actor"] for d in s.received_by_cat("Accept")] == [s.cat.uri]
    # When bea starts a thread, cat replies (mentioning bea and the community), bea answers cat
    root1 = await s.member_post(s.b, "bea", "Fractions with pizza")
    reply1 = await s.mastodon_post("Try eighths!", in_reply_to=root1, mention=(s.bea,),
                                   deliver_to=("a.test", "b.test"))
    reply2 = await s.member_post(s.b, "bea", "Eighths it is", in_reply_to=reply1)
    # and cat starts a thread of its own, which ada (the moderator, on a.test) answers
    root2 = await s.mastodon_post("Number lines on the floor")
    reply3 = await s.member_post(s.a, "ada", "We tape them in the hall", in_reply_to=root2)
    thread1, thread2 = [root1, reply1, reply2], [root2, reply3]
    # Then a.test and b.test hold every post of both threads, each post in the community
    for instance in (s.a, s.b):
        for uri in thread1 + thread2:
            note = await stored(instance, uri)
            assert note.audience_uri == s.maths, (instance.host, uri)
    # and each thread's context resolves to its posts in date order, on every server that has a copy
    for thread in (thread1, thread2):
        contexts = {(await stored(i, uri)).context_uri for i in (s.a, s.b) for uri in thread}
        assert len(contexts) == 1 and None not in contexts
        assert await context_items(federation, str(contexts.pop())) == thread
    # and the Mastodon-style actor got one boost per thread, never of a reply, never an Announce(Create)
    boosts = [d for d in s.received_by_cat("Announce") if d["actor"] == s.maths]
    assert sorted(d["object"] for d in boosts) == sorted([root1, root2])
    assert all(isinstance(d["object"], str) for d in boosts)
    # and got the replies addressed to it straight from their authors
    assert {d["object"]["id"] for d in s.received_by_cat("Create")} >= {reply2, reply3}
    # and b.test got every post of both threads as Announce(Create) from the community, the Create unchanged
    relayed = [orjson.loads(r.body) for r in federation.network.sent_to("b.test", "POST", "/inbox")]
    wrapped = {d["object"]["object"]["id"] if isinstance(d["object"]["object"], dict) else d["object"]["object"]
               for d in relayed if d["type"] == "Announce" and d["actor"] == s.maths}
    assert wrapped == set(thread1 + thread2)


async def test_a_thread_is_boosted_once_however_often_its_create_arrives(federation: Federation) -> None:
    s = await join(federation)
    root = await s.mastodon_post("Dice and probability")
    # When Mastodon delivers the same post again, with a new Create id, to the community's own inbox
    note = s.cat.server.documents[httpx.URL(root).path]
    again = {**s.cat.create(note), "id": f"{root}/activity-again"}
    await s.cat.post(federation.network, "http://a.test/users/maths/inbox", again)
    await federation.settle()
    # Then the community still boosted and announced it once
    boosts = [d for d in s.received_by_cat("Announce") if d["object"] == root]
    assert len(boosts) == 1
    rows = await s.a.services.db.fetchall("SELECT shape FROM community_announces ORDER BY shape")
    assert [r["shape"] for r in rows] == ["activity", "object"]


async def test_a_thread_started_on_mastodon_gets_its_first_line_as_title(federation: Federation) -> None:
    s = await join(federation)
    root = await s.mastodon_post("Times tables as songs<br>We sing them every morning")
    for instance in (s.a, s.b):
        assert (await stored(instance, root)).name == "Times tables as songs"


# --- rules --------------------------------------------------------------------------------------------

async def test_a_banned_actors_post_is_refused(federation: Federation) -> None:
    # Given cat, a member, whom the moderator bans
    s = await join(federation)
    moderator, community = await local(s.a, "ada"), await local(s.a, "maths")
    await ban(s.a.services, moderator, community, s.cat.uri, reason="spam")
    await federation.settle()
    assert await is_banned(s.a.services.db, community.id, s.cat.uri, federation.clock.time())
    assert await get_follow(s.a.services.db, s.cat.uri, s.maths) is None
    # When cat posts to the community
    refused = await s.mastodon_post("Buy cheap calculators")
    # Then a.test keeps it as cat's note but the community shares it with nobody
    assert await stored(s.a, refused) and not await s.accepted(refused)
    assert await get_note(s.b.services.db, refused) is None
    assert [d for d in s.received_by_cat("Announce") if d["object"] == refused] == []
    # and the ban was announced to the group-aware follower server, not to Mastodon-style ones
    blocks = [orjson.loads(r.body) for r in federation.network.sent_to("b.test", "POST", "/inbox")]
    assert any(d["type"] == "Announce" and d["object"]["type"] == "Block" for d in blocks)
    # and a new Follow from cat is rejected
    await s.cat.post(federation.network, "http://a.test/users/maths/inbox", s.cat.follow(s.maths))
    await federation.settle()
    assert s.received_by_cat("Reject") and await get_follow(s.a.services.db, s.cat.uri, s.maths) is None


async def test_an_approval_community_holds_a_join_request_until_a_moderator_accepts(federation: Federation) -> None:
    # Given a community whose membership needs approval, and bea asking to join
    s = await join(federation, membership="approval")
    db = s.a.services.db
    for instance in (s.a, s.b):
        follow = await get_follow(instance.services.db, s.bea, s.maths)
        assert follow is not None and follow.state == "pending", instance.host
    assert federation.network.sent_to("b.test", "POST", "/users/bea/inbox") == []
    # and her post meanwhile is not shared
    early = await s.member_post(s.b, "bea", "Hello?")
    assert await stored(s.a, early) and not await s.accepted(early)
    # When a member who is no moderator tries to accept her, nothing changes
    eve = await s.a.add_member("eve")
    community = await local(s.a, "maths")
    with pytest.raises(NotModerator):
        await answer_join(s.a.services, community, eve, s.bea, accept=True)
    # When the moderator accepts
    ada = await local(s.a, "ada")
    await answer_join(s.a.services, community, ada, s.bea, accept=True)
    await federation.settle()
    # Then she is a member on both servers, and her posts are shared
    for instance in (s.a, s.b):
        follow = await get_follow(instance.services.db, s.bea, s.maths)
        assert follow is not None and follow.state == "accepted", instance.host
    later = await s.member_post(s.b, "bea", "Thanks for having me")
    assert await s.accepted(later) and (await stored(s.a, later)).audience_uri == s.maths
    # and the moderator can refuse cat's request
    await answer_join(s.a.services, community, ada, s.cat.uri, accept=False)
    await federation.settle()
    assert await get_follow(db, s.cat.uri, s.maths) is None and s.received_by_cat("Reject")


async def test_a_restricted_community_takes_threads_from_moderators_and_replies_from_members(
        federation: Federation) -> None:
    s = await join(federation, restricted=True)
    refused = await s.member_post(s.b, "bea", "My own thread")
    announcement = await s.member_post(s.a, "ada", "Staff meeting on Friday")
    reply = await s.member_post(s.b, "bea", "I will be there", in_reply_to=announcement)
    assert await stored(s.a, refused) and not await s.accepted(refused) and not s.relayed_to_b(refused)
    assert await s.accepted(announcement) and s.relayed_to_b(announcement)
    assert await s.accepted(reply)
    assert await get_note(s.b.services.db, announcement) is not None


async def test_an_edit_of_a_community_post_is_relayed_to_group_aware_followers(federation: Federation) -> None:
    # Given cat's post in maths (on a.test and b.test)
    s = await join(federation)
    root = await s.mastodon_post("Sorting shapes")
    note = s.cat.server.documents[httpx.URL(root).path]
    edited = {**note, "content": "<p>Sorting 3D shapes</p>", "updated": "2026-09-21T12:00:00Z"}
    s.cat.server.serve(edited)
    update = s.cat.activity("Update", edited)
    # When its Update is handled on a.test (update.py calls this hook after applying the edit)
    incoming = Incoming(activity=update, actor_uri=s.cat.uri, recipient=None, queue_id=0, attempts=1)
    assert await relay_to_communities(s.a.services, incoming, root) == 1
    assert await relay_to_communities(s.a.services, incoming, root) == 0   # once only
    await federation.settle()
    # Then b.test got the Update wrapped in the community's Announce, and applied it
    relayed = [orjson.loads(r.body) for r in federation.network.sent_to("b.test", "POST", "/inbox")]
    assert [d["object"]["id"] for d in relayed if d["type"] == "Announce" and d["object"]["type"] == "Update"] == [
        update["id"]]
    assert "3D shapes" in (await stored(s.b, root)).content_html
