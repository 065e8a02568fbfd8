"""Moderation inside a community: honoured only from its listed moderators, announced by the community."""

from __future__ import annotations

from typing import Any

import orjson

from fediverse_learn.store.communities import add_moderator, featured_uris, list_moderators
from fediverse_learn.store.objects import get_note, is_tombstoned
from fediverse_learn.uris import LocalRef
from outbox.community_actions import feature_thread, lock_thread, remove_post
from outbox.compose import new_activity_uri
from outbox.publish import publish
from tests.support.communities import AP, Scene, join, local, stored
from tests.support.instances import Federation
from tests.support.remote import remote_actor


def announced_to_b(s: Scene, kind: str) -> list[dict[str, Any]]:
    """The activities of type `kind` the community announced to b.test."""
    posts = [orjson.loads(r.body) for r in s.federation.network.sent_to("b.test", "POST", "/inbox")]
    return [d["object"] for d in posts if d["type"] == "Announce" and d["actor"] == s.maths
            and isinstance(d["object"], dict) and d["object"].get("type") == kind]


async def make_moderator(s: Scene, actor_uri: str) -> None:
    community = await local(s.a, "maths")
    async with s.a.services.db.transaction() as tx:
        await add_moderator(tx, community.id, actor_uri, s.federation.clock.time())


async def parked(s: Scene, activity_id: str) -> str:
    row = await s.a.services.db.fetchone("SELECT state, last_error FROM inbox_queue WHERE activity_id = ?",
                                         (activity_id,))
    assert row is not None and row["state"] == "failed"
    return str(row["last_error"])


async def test_group_document_names_the_moderators_collection(federation: Federation) -> None:
    s = await join(federation)
    group = (await s.a.client.get("/users/maths", headers={"Accept": AP})).json()
    assert group["type"] == "Group" and group["attributedTo"] == f"{s.maths}/moderators"
    assert group["postingRestrictedToMods"] is False     # the served document says the community's settings
    assert s.a.services.uris.parse(group["attributedTo"]) == LocalRef("maths", "moderators")
    moderators = (await s.a.client.get(group["attributedTo"], headers={"Accept": AP})).json()
    assert moderators["type"] == "OrderedCollection"
    assert moderators["orderedItems"] == [s.a.services.uris.actor("ada")]
    assert (await s.a.client.get("/users/ada/moderators", headers={"Accept": AP})).status_code == 404


async def test_a_remote_moderator_removes_a_post_and_the_community_announces_it(federation: Federation) -> None:
    # Given cat (on c.test) as a moderator, and bea's thread, boosted to cat
    s = await join(federation)
    await make_moderator(s, s.cat.uri)
    root = await s.member_post(s.b, "bea", "Off-topic advert")
    # When cat removes it from the community
    remove = s.cat.activity("Remove", root, target=s.maths, audience=s.maths)
    await s.cat.post(federation.network, "http://a.test/inbox", remove)
    await federation.settle()
    # Then a.test's copy is gone and the removal was announced to b.test, where bea's own post stays hers
    assert await is_tombstoned(s.a.services.db, root)
    assert [d["id"] for d in announced_to_b(s, "Remove")] == [remove["id"]]
    assert (await stored(s.b, root)).deleted_at is None
    # and the boost the Mastodon-style follower got is taken back
    undos = s.received_by_cat("Undo")
    assert [u["object"]["object"] for u in undos if u["object"]["type"] == "Announce"] == [root]


async def test_moderation_by_someone_not_a_moderator_is_refused(federation: Federation) -> None:
    s = await join(federation)
    root = await s.member_post(s.b, "bea", "Counting in fives")
    remove = s.cat.activity("Remove", root, target=s.maths)
    await s.cat.post(federation.network, "http://a.test/inbox", remove)
    lock = s.cat.activity("Lock", root, audience=s.maths)
    await s.cat.post(federation.network, "http://a.test/inbox", lock)
    await federation.settle()
    assert "not a moderator" in await parked(s, remove["id"])
    assert "not a moderator" in await parked(s, lock["id"])
    assert (await stored(s.a, root)).deleted_at is None
    assert announced_to_b(s, "Remove") == []


async def test_a_moderator_deletes_a_reply_and_every_copy_in_the_community_goes(federation: Federation) -> None:
    # Given cat's reply in bea's thread, held by a.test and b.test
    s = await join(federation)
    root = await s.member_post(s.b, "bea", "Shapes in the playground")
    reply = await s.mastodon_post("Buy my course", in_reply_to=root)
    assert (await stored(s.b, reply)).audience_uri == s.maths
    # When ada, a moderator on a.test, removes it (a Delete, as Lemmy's moderators send)
    await remove_post(s.a.services, await local(s.a, "ada"), await local(s.a, "maths"), reply, reason="spam")
    await federation.settle()
    # Then it is gone on a.test and on b.test, and no longer in the thread
    assert await is_tombstoned(s.a.services.db, reply)
    assert await is_tombstoned(s.b.services.db, reply)
    assert [d["object"] for d in announced_to_b(s, "Delete")] == [reply]


async def test_a_locked_thread_takes_replies_from_moderators_only(federation: Federation) -> None:
    s = await join(federation)
    root = await s.member_post(s.b, "bea", "Homework policy")
    ada, maths = await local(s.a, "ada"), await local(s.a, "maths")
    await lock_thread(s.a.services, ada, maths, root)
    await federation.settle()
    refused = await s.mastodon_post("But why?", in_reply_to=root)
    allowed = await s.member_post(s.a, "ada", "Locked: see the staff handbook", in_reply_to=root)
    assert await stored(s.a, refused) and not await s.accepted(refused)
    assert await get_note(s.b.services.db, refused) is None
    assert await s.accepted(allowed) and s.relayed_to_b(allowed)
    assert [d["object"] for d in announced_to_b(s, "Lock")] == [root]
    # When the thread is unlocked, members reply again
    await lock_thread(s.a.services, ada, maths, root, locked=False)
    await federation.settle()
    later = await s.mastodon_post("Thanks", in_reply_to=root)
    assert await s.accepted(later) and s.relayed_to_b(later)


async def test_pinning_threads_and_adding_moderators(federation: Federation) -> None:
    s = await join(federation)
    root = await s.member_post(s.b, "bea", "Welcome, read this first")
    ada, maths = await local(s.a, "ada"), await local(s.a, "maths")
    await feature_thread(s.a.services, ada, maths, root)
    await federation.settle()
    assert await featured_uris(s.a.services.db, maths.id) == [root]
    featured = (await s.a.client.get("/users/maths/featured", headers={"Accept": AP})).json()
    assert featured["orderedItems"] == [root] and featured["totalItems"] == 1
    assert [d["target"] for d in announced_to_b(s, "Add")] == [f"{s.maths}/featured"]
    await feature_thread(s.a.services, ada, maths, root, featured=False)
    # When ada adds bea to the moderators collection
    add = {"@context": "https://www.w3.org/ns/activitystreams", "id": new_activity_uri(s.a.services, ada),
           "type": "Add", "actor": s.a.services.uris.actor("ada"), "object": s.bea,
           "target": f"{s.maths}/moderators", "to": [s.maths]}
    await publish(s.a.services, ada, add)
    await federation.settle()
    # Then bea is a moderator, the pin is gone, and both changes were announced
    assert await featured_uris(s.a.services.db, maths.id) == []
    assert await list_moderators(s.a.services.db, maths.id) == [s.a.services.uris.actor("ada"), s.bea]
    assert len(announced_to_b(s, "Add")) == 2 and len(announced_to_b(s, "Remove")) == 1


async def test_an_authors_delete_of_a_community_post_is_announced(federation: Federation) -> None:
    s = await join(federation)
    root = await s.member_post(s.b, "bea", "Estimation jars")
    reply = await s.mastodon_post("Count the beans", in_reply_to=root)
    delete = s.cat.activity("Delete", {"id": reply, "type": "Tombstone"}, to=[s.maths])
    await s.cat.post(federation.network, "http://a.test/inbox", delete)
    await federation.settle()
    assert await is_tombstoned(s.a.services.db, reply)
    assert await is_tombstoned(s.b.services.db, reply)
    assert [d["id"] for d in announced_to_b(s, "Delete")] == [delete["id"]]


async def test_a_group_cannot_claim_or_remove_a_post_that_does_not_name_it(federation: Federation) -> None:
    # Given a post by cat that names no community, delivered to b.test (it mentions bea)
    s = await join(federation)
    note = s.cat.note("<p>@bea lunch?</p>", cc=[s.bea], tag=[{"type": "Mention", "href": s.bea}])
    s.cat.server.serve(note)
    await s.cat.post(federation.network, "http://b.test/inbox", s.cat.create(note))
    club = remote_actor(federation, "e.test", "club", type="Group")
    # When a foreign group relays it, then announces its deletion to b.test
    relay = club.activity("Announce", {"id": f"{note['id']}/activity", "type": "Create", "actor": s.cat.uri,
                                       "object": note["id"]})
    removal = club.activity("Announce", {"id": "https://e.test/d/1", "type": "Delete", "actor": club.uri,
                                         "object": note["id"]})
    for activity in (relay, removal):
        assert (await club.post(federation.network, "http://b.test/inbox", activity)).status_code == 202
    await federation.settle()
    # Then b.test's copy is untouched and in no community
    kept = await stored(s.b, str(note["id"]))
    assert kept.deleted_at is None and kept.audience_uri is None
