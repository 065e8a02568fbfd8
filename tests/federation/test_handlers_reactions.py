"""Like, Announce and their Undo: counted in the reactions table, boosted notes fetched from their origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.objects import get_note
from fediverse_learn.store.reactions import count_reactions
from inbox.incoming import Reject
from tests.support.fixture_server import KeyRing, World, note_document
from tests.support.instances import Federation

ADA = "https://mastodon.test/users/ada"
BOB = "https://gts.test/users/bob"
NOTE = f"{ADA}/statuses/1"
MATHS = "https://lemmy.test/c/maths"
CAROL = "https://lemmy.test/u/carol"
AS = "https://www.w3.org/ns/activitystreams"


@pytest.fixture
async def world(federation: Federation, keyring: KeyRing) -> AsyncIterator[World]:
    w = await World.create(federation, keyring)
    for actor in (ADA, BOB, CAROL):
        w.actor(actor)
    w.actor(MATHS, kind="Group")
    yield w


@pytest.fixture
async def grace(world: World) -> LocalActor:
    return await world.learn.add_member("grace")


def like(actor: str, obj: Any, n: int = 1) -> dict[str, Any]:
    return {"@context": AS, "id": f"{actor}#likes/{n}", "type": "Like", "actor": actor, "object": obj}


def announce(actor: str, obj: Any, n: int = 1) -> dict[str, Any]:
    return {"@context": AS, "id": f"{actor}/announces/{n}", "type": "Announce", "actor": actor, "object": obj,
            "to": [f"{AS}#Public"]}


def undo(actor: str, obj: Any, n: int = 1) -> dict[str, Any]:
    return {"@context": AS, "id": f"{actor}#undo/{n}", "type": "Undo", "actor": actor, "object": obj}


async def counts(world: World, uri: str) -> tuple[int, int]:
    db = world.learn.services.db
    return await count_reactions(db, uri, "like"), await count_reactions(db, uri, "announce")


async def test_like_of_our_note_is_counted_once(world: World, grace: LocalActor) -> None:
    note = await world.local_note(grace)
    await world.dispatch(like(ADA, note.uri))
    await world.dispatch(like(ADA, note.uri))
    await world.dispatch(like(BOB, note.uri))
    assert await counts(world, note.uri) == (2, 0)


async def test_like_of_an_unknown_note_is_ignored(world: World, grace: LocalActor) -> None:
    await world.dispatch(like(ADA, f"{world.learn.base}/users/grace/statuses/999"))
    await world.dispatch(like(ADA, NOTE))
    assert await world.rows("SELECT * FROM reactions") == []


async def test_undo_like_removes_it_only_for_its_actor(world: World, grace: LocalActor) -> None:
    note = await world.local_note(grace)
    the_like = like(ADA, note.uri)
    await world.dispatch(the_like)
    # Bob cannot undo ada's like, embedded or by id
    with pytest.raises(Reject):
        await world.dispatch(undo(BOB, the_like))
    await world.dispatch(undo(BOB, the_like["id"], 2))
    assert await counts(world, note.uri) == (1, 0)
    # Ada can
    await world.dispatch(undo(ADA, the_like))
    assert await counts(world, note.uri) == (0, 0)


async def test_undo_like_before_the_like_drops_the_late_like(world: World, grace: LocalActor) -> None:
    note = await world.local_note(grace)
    await world.dispatch(undo(ADA, like(ADA, note.uri)))
    await world.dispatch(like(ADA, note.uri))
    assert await counts(world, note.uri) == (0, 0)


async def test_announce_of_our_public_note_is_counted(world: World, grace: LocalActor) -> None:
    note = await world.local_note(grace)
    await world.dispatch(announce(ADA, note.uri))
    await world.dispatch(announce(ADA, note.uri))
    assert await counts(world, note.uri) == (0, 1)
    await world.dispatch(undo(ADA, announce(ADA, note.uri)))
    assert await counts(world, note.uri) == (0, 0)


async def test_announce_of_our_followers_only_note_is_ignored(world: World, grace: LocalActor) -> None:
    note = await world.local_note(grace, visibility="private")
    await world.dispatch(announce(ADA, note.uri))
    assert await counts(world, note.uri) == (0, 0)


async def test_announce_of_an_unknown_note_fetches_and_stores_it(world: World) -> None:
    world.serve(note_document(NOTE, ADA, "<p>origin copy</p>"))
    await world.dispatch(announce(BOB, NOTE))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and stored.author_uri == ADA and "origin copy" in stored.content_html
    assert await counts(world, NOTE) == (0, 1)


async def test_announce_with_an_embedded_forged_copy_stores_the_origins_copy(world: World) -> None:
    # Given ada's server serves her real note
    world.serve(note_document(NOTE, ADA, "<p>origin copy</p>"))
    # When bob boosts it embedding a copy he wrote himself
    forged = note_document(NOTE, ADA, "<p>forged by bob</p>")
    await world.dispatch(announce(BOB, forged))
    # Then the origin's copy is stored, fetched from mastodon.test
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and "origin copy" in stored.content_html and "forged" not in stored.content_html
    assert world.federation.network.sent_to("mastodon.test", "GET", "/users/ada/statuses/1")


async def test_announce_of_own_note_embedded_is_taken_without_a_fetch(world: World) -> None:
    await world.dispatch(announce(ADA, note_document(NOTE, ADA, "<p>self boost</p>")))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and "self boost" in stored.content_html
    assert world.federation.network.sent_to("mastodon.test", "GET", "/users/ada/statuses/1") == []


async def test_announce_of_a_followers_only_remote_note_is_not_counted(world: World) -> None:
    world.serve(note_document(NOTE, ADA, to=(f"{ADA}/followers",)))
    await world.dispatch(announce(BOB, NOTE))
    assert await counts(world, NOTE) == (0, 0)


async def test_community_announce_of_a_create_stores_the_post_from_its_origin(world: World) -> None:
    post = "https://lemmy.test/post/42"
    world.serve(note_document(post, CAROL, "<p>origin page</p>", kind="Page"))
    forged = note_document(post, CAROL, "<p>relayed copy</p>", kind="Page")
    create = {"id": "https://lemmy.test/activities/create/1", "type": "Create", "actor": CAROL, "object": forged}
    await world.dispatch(announce(MATHS, create))
    stored = await get_note(world.learn.services.db, post)
    assert stored is not None and stored.author_uri == CAROL and "origin page" in stored.content_html
    # a relayed Create is not a boost
    assert await world.rows("SELECT * FROM reactions") == []
