"""Block, Flag and Move handlers: blocks end follows, reports reach the queue, moves need the target's consent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.blocks import is_blocked
from fediverse_learn.store.follows import get_follow, set_follow
from fediverse_learn.store.moves import list_moves
from fediverse_learn.store.reports import list_open_reports
from inbox.incoming import Reject
from tests.support.fixture_server import KeyRing, World
from tests.support.instances import Federation

LEARN = "http://learn.test"
GRACE = f"{LEARN}/users/grace"
ADA = "https://mastodon.test/users/ada"
ADA_NEW = "https://gts.test/users/ada"
BOB = "https://gts.test/users/bob"
AS = "https://www.w3.org/ns/activitystreams"


@pytest.fixture
async def world(federation: Federation, keyring: KeyRing) -> AsyncIterator[World]:
    w = await World.create(federation, keyring)
    w.actor(ADA)
    w.actor(BOB)
    yield w


@pytest.fixture
async def grace(world: World) -> LocalActor:
    return await world.learn.add_member("grace")


def act(kind: str, actor: str, obj: Any, n: int = 1, **extra: Any) -> dict[str, Any]:
    return {"@context": AS, "id": f"{actor}#{kind.lower()}/{n}", "type": kind, "actor": actor, "object": obj,
            **extra}


async def follow_both_ways(world: World, remote: str) -> None:
    async with world.learn.services.db.transaction() as tx:
        await set_follow(tx, remote, GRACE, "accepted", f"{remote}#follow", 0.0)
        await set_follow(tx, GRACE, remote, "accepted", f"{GRACE}/activities/1", 0.0)


async def test_block_of_a_member_is_recorded_and_ends_follows_both_ways(world: World, grace: LocalActor) -> None:
    await follow_both_ways(world, ADA)
    block = act("Block", ADA, GRACE)
    await world.dispatch(block)
    await world.dispatch(block)
    db = world.learn.services.db
    assert await is_blocked(db, ADA, GRACE)
    assert len(await world.rows("SELECT * FROM blocks")) == 1
    assert await get_follow(db, ADA, GRACE) is None and await get_follow(db, GRACE, ADA) is None
    # Undo(Block) lifts it, and only for its actor
    with pytest.raises(Reject):
        await world.dispatch(act("Undo", BOB, block))
    assert await is_blocked(db, ADA, GRACE)
    await world.dispatch(act("Undo", ADA, block))
    assert not await is_blocked(db, ADA, GRACE)


async def test_follow_from_a_blocked_actor_is_rejected(world: World, grace: LocalActor) -> None:
    await world.dispatch(act("Block", ADA, GRACE))
    await world.dispatch(act("Follow", ADA, GRACE))
    assert await get_follow(world.learn.services.db, ADA, GRACE) is None
    await world.federation.settle()
    assert [a["type"] for a in world.hosts.received("mastodon.test")] == ["Reject"]


async def test_block_of_someone_else_is_ignored(world: World, grace: LocalActor) -> None:
    await world.dispatch(act("Block", ADA, BOB))
    assert await world.rows("SELECT * FROM blocks") == []


async def test_flag_of_a_member_and_posts_reaches_the_moderation_queue(world: World, grace: LocalActor) -> None:
    note = await world.local_note(grace)
    flag = act("Flag", "https://mastodon.test/actor", [GRACE, note.uri, "https://mastodon.test/users/x/1"],
               content="Spam links in every post")
    world.actor("https://mastodon.test/actor", kind="Application")
    await world.dispatch(flag)
    await world.dispatch(flag)
    reports = await list_open_reports(world.learn.services.db)
    assert len(reports) == 1
    report = reports[0]
    assert report.target_uri == GRACE and report.reporter_uri == "https://mastodon.test/actor"
    assert report.object_uris == (note.uri,) and report.comment == "Spam links in every post"


async def test_flag_of_a_post_alone_targets_its_author(world: World, grace: LocalActor) -> None:
    note = await world.local_note(grace)
    await world.dispatch(act("Flag", ADA, note.uri))
    reports = await list_open_reports(world.learn.services.db)
    assert [(r.target_uri, r.object_uris) for r in reports] == [(GRACE, (note.uri,))]


async def test_flag_of_nobody_of_ours_is_ignored(world: World, grace: LocalActor) -> None:
    await world.dispatch(act("Flag", ADA, [BOB]))
    assert await list_open_reports(world.learn.services.db) == []


async def test_move_to_an_account_naming_the_old_one_moves_our_follows(world: World, grace: LocalActor) -> None:
    # Given grace follows ada, and ada's new account names the old one
    async with world.learn.services.db.transaction() as tx:
        await set_follow(tx, GRACE, ADA, "accepted", f"{GRACE}/activities/1", 0.0)
    world.actor(ADA_NEW, also_known_as=(ADA,))
    # When ada moves
    move = act("Move", ADA, ADA, target=ADA_NEW)
    await world.dispatch(move)
    await world.dispatch(move)
    # Then the move is recorded once, grace's follow now points at the new account and a Follow is sent
    db = world.learn.services.db
    assert [(m.target_uri, m.accepted) for m in await list_moves(db, ADA)] == [(ADA_NEW, True)]
    assert await get_follow(db, GRACE, ADA) is None
    moved = await get_follow(db, GRACE, ADA_NEW)
    assert moved is not None and moved.state == "pending"
    await world.federation.settle()
    follows = world.hosts.received("gts.test")
    assert [(f["type"], f["actor"], f["object"]) for f in follows] == [("Follow", GRACE, ADA_NEW)]
    assert follows[0]["id"] == moved.activity_uri


async def test_move_to_an_account_not_naming_the_old_one_moves_nothing(world: World, grace: LocalActor) -> None:
    async with world.learn.services.db.transaction() as tx:
        await set_follow(tx, GRACE, ADA, "accepted", f"{GRACE}/activities/1", 0.0)
    # The target is fetched fresh: a cached copy naming ada does not count
    world.actor(ADA_NEW, also_known_as=(ADA,))
    await world.learn.services.resolver.actor(ADA_NEW)
    world.actor(ADA_NEW)
    await world.dispatch(act("Move", ADA, ADA, target=ADA_NEW))
    db = world.learn.services.db
    assert [(m.target_uri, m.accepted) for m in await list_moves(db, ADA)] == [(ADA_NEW, False)]
    assert await get_follow(db, GRACE, ADA) is not None and await get_follow(db, GRACE, ADA_NEW) is None


async def test_move_of_someone_else_is_refused(world: World, grace: LocalActor) -> None:
    world.actor(ADA_NEW, also_known_as=(ADA,))
    with pytest.raises(Reject, match="only move itself"):
        await world.dispatch(act("Move", BOB, ADA, target=ADA_NEW))
    assert await list_moves(world.learn.services.db, ADA) == []

