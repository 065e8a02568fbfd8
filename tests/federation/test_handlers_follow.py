"""Follow, Accept, Reject and Undo(Follow) handlers against a real instance and fake remote hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fediverse_learn.store.actors import remove_actor
from fediverse_learn.store.follows import get_follow, set_follow
from inbox.incoming import Reject
from tests.support.fixture_server import KeyRing, World
from tests.support.instances import Federation

LEARN = "http://learn.test"
GRACE = f"{LEARN}/users/grace"
ADA = "https://mastodon.test/users/ada"
BOB = "https://gts.test/users/bob"
FOLLOW_ID = "https://mastodon.test/9d4f2c1e-7a2b-4c55-9a0e-3f1d2b6c8e71"


@pytest.fixture
async def world(federation: Federation, keyring: KeyRing) -> AsyncIterator[World]:
    w = await World.create(federation, keyring)
    w.actor(ADA)
    w.actor(BOB)
    yield w


def follow(actor: str = ADA, target: str = GRACE, ident: str = FOLLOW_ID) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": ident, "type": "Follow", "actor": actor,
            "object": target}


def undo(actor: str, obj: Any, ident: str = "https://mastodon.test/users/ada#follows/1/undo") -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": ident, "type": "Undo", "actor": actor,
            "object": obj}


async def test_follow_of_member_is_accepted_and_an_accept_is_delivered(world: World) -> None:
    await world.learn.add_member("grace")
    # When ada follows grace
    await world.dispatch(follow())
    # Then the follow is stored accepted, with the Follow's id
    row = await get_follow(world.learn.services.db, ADA, GRACE)
    assert row is not None and row.state == "accepted" and row.activity_uri == FOLLOW_ID
    # and one Accept is queued for ada's inbox, embedding the Follow
    deliveries = await world.rows("SELECT inbox_url, body FROM deliveries")
    assert [d["inbox_url"] for d in deliveries] == [f"{ADA}/inbox"]
    # and once the workers run, ada's server receives it, signed by grace
    await world.federation.settle()
    posts = world.federation.network.sent_to("mastodon.test", "POST", "/users/ada/inbox")
    assert len(posts) == 1 and 'keyId="http://learn.test/users/grace#main-key"' in posts[0].headers["signature"]
    accept = world.hosts.received("mastodon.test")[0]
    assert accept["type"] == "Accept" and accept["actor"] == GRACE
    assert accept["object"]["id"] == FOLLOW_ID and accept["object"]["actor"] == ADA


async def test_follow_dispatched_twice_stores_one_row_and_one_accept(world: World) -> None:
    await world.learn.add_member("grace")
    await world.dispatch(follow())
    await world.dispatch(follow())
    assert len(await world.rows("SELECT * FROM follows")) == 1
    assert len(await world.rows("SELECT * FROM deliveries")) == 1


async def test_follow_of_member_who_approves_by_hand_is_pending_and_unanswered(world: World) -> None:
    await world.learn.add_member("grace", manually_approves_followers=True)
    await world.dispatch(follow())
    row = await get_follow(world.learn.services.db, ADA, GRACE)
    assert row is not None and row.state == "pending"
    assert await world.rows("SELECT * FROM deliveries") == []


async def test_follow_of_unknown_or_remote_actor_is_refused(world: World) -> None:
    with pytest.raises(Reject, match="none of our members"):
        await world.dispatch(follow(target=f"{LEARN}/users/nobody"))
    with pytest.raises(Reject):
        await world.dispatch(follow(target=BOB))
    assert await world.rows("SELECT * FROM follows") == []


async def test_follow_of_removed_member_is_answered_with_a_reject(world: World) -> None:
    await world.learn.add_member("grace")
    await remove_actor(world.learn.services.db, "grace", "person", world.federation.clock.time())
    await world.dispatch(follow())
    assert await world.rows("SELECT * FROM follows") == []
    await world.federation.settle()
    answers = world.hosts.received("mastodon.test")
    assert [a["type"] for a in answers] == ["Reject"] and answers[0]["object"]["id"] == FOLLOW_ID


async def test_undo_follow_removes_the_follow(world: World) -> None:
    await world.learn.add_member("grace")
    await world.dispatch(follow())
    await world.dispatch(undo(ADA, follow()))
    assert await get_follow(world.learn.services.db, ADA, GRACE) is None


async def test_undo_follow_by_bare_id_removes_the_follow(world: World) -> None:
    await world.learn.add_member("grace")
    await world.dispatch(follow())
    await world.dispatch(undo(ADA, FOLLOW_ID))
    assert await get_follow(world.learn.services.db, ADA, GRACE) is None


async def test_undo_of_another_actors_follow_changes_nothing(world: World) -> None:
    await world.learn.add_member("grace")
    await world.dispatch(follow())
    # Bob embeds ada's Follow: refused
    with pytest.raises(Reject, match="may not undo"):
        await world.dispatch(undo(BOB, follow(), ident="https://gts.test/users/bob/undo/1"))
    # Bob names it by id: looked up as (id, bob), which matches nothing of ada's
    await world.dispatch(undo(BOB, FOLLOW_ID, ident="https://gts.test/users/bob/undo/2"))
    row = await get_follow(world.learn.services.db, ADA, GRACE)
    assert row is not None and row.state == "accepted"


async def test_undo_follow_before_the_follow_drops_the_late_follow(world: World) -> None:
    await world.learn.add_member("grace")
    # Given the Undo overtook its Follow
    await world.dispatch(undo(ADA, follow()))
    # When the Follow arrives
    await world.dispatch(follow())
    # Then nothing is stored and nothing answered
    assert await world.rows("SELECT * FROM follows") == []
    assert await world.rows("SELECT * FROM deliveries") == []


async def _grace_follows(world: World, target: str = ADA) -> str:
    """Grace's pending Follow of `target`, as the outbox would have stored it; returns its id."""
    services = world.learn.services
    await world.learn.add_member("grace")
    follow_id = services.uris.activity("grace", 12345)
    async with services.db.transaction() as tx:
        await set_follow(tx, GRACE, target, "pending", follow_id, world.federation.clock.time())
    return follow_id


def answer(kind: str, actor: str, obj: Any) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}#{kind.lower()}s/1", "type": kind,
            "actor": actor, "object": obj}


async def test_accept_of_our_follow_by_the_followee_accepts_it(world: World) -> None:
    follow_id = await _grace_follows(world)
    await world.dispatch(answer("Accept", ADA, follow(GRACE, ADA, follow_id)))
    row = await get_follow(world.learn.services.db, GRACE, ADA)
    assert row is not None and row.state == "accepted"


async def test_accept_naming_our_follow_by_id_accepts_it(world: World) -> None:
    follow_id = await _grace_follows(world)
    await world.dispatch(answer("Accept", ADA, follow_id))
    row = await get_follow(world.learn.services.db, GRACE, ADA)
    assert row is not None and row.state == "accepted"


async def test_accept_of_our_follow_by_another_actor_is_refused(world: World) -> None:
    follow_id = await _grace_follows(world)
    # Bob accepts grace's Follow of ada
    with pytest.raises(Reject, match="may not answer"):
        await world.dispatch(answer("Accept", BOB, follow(GRACE, ADA, follow_id)))
    # Bob accepts it by id: grace never followed bob, so nothing matches
    await world.dispatch(answer("Accept", BOB, follow_id))
    row = await get_follow(world.learn.services.db, GRACE, ADA)
    assert row is not None and row.state == "pending"
    assert await get_follow(world.learn.services.db, GRACE, BOB) is None


async def test_reject_of_our_follow_removes_it(world: World) -> None:
    follow_id = await _grace_follows(world)
    await world.dispatch(answer("Reject", ADA, follow(GRACE, ADA, follow_id)))
    assert await get_follow(world.learn.services.db, GRACE, ADA) is None
