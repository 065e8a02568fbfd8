"""Create, Update and Delete handlers: storing posts, edits and deletions under the origin rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fediverse_learn.errors import IdMismatch, ValidationError
from fediverse_learn.store.follows import get_follow, set_follow
from fediverse_learn.store.objects import get_note, is_tombstoned
from fediverse_learn.store.remote import get_remote_actor
from fediverse_learn.vocab import PUBLIC
from inbox.incoming import Reject
from tests.support.fixture_server import KeyRing, World, note_document, person_document
from tests.support.instances import Federation

LEARN = "http://learn.test"
GRACE = f"{LEARN}/users/grace"
ADA = "https://mastodon.test/users/ada"
ADA_FOLLOWERS = f"{ADA}/followers"
BOB = "https://gts.test/users/bob"
NOTE = f"{ADA}/statuses/1"


@pytest.fixture
async def world(federation: Federation, keyring: KeyRing) -> AsyncIterator[World]:
    w = await World.create(federation, keyring)
    w.actor(ADA)
    w.actor(BOB)
    yield w


def activity(kind: str, actor: str, obj: Any, suffix: str = "") -> dict[str, Any]:
    ident = f"{obj if isinstance(obj, str) else obj['id']}#{kind.lower()}{suffix}"
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": ident, "type": kind, "actor": actor,
            "object": obj}


async def test_create_note_stores_it_with_visibility_and_reply(world: World) -> None:
    note = note_document(NOTE, ADA, to=(ADA_FOLLOWERS,), cc=(GRACE,), in_reply_to=f"{GRACE}/statuses/7")
    await world.dispatch(activity("Create", ADA, note))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None
    assert stored.author_uri == ADA and stored.visibility == "private" and not stored.is_local
    assert stored.in_reply_to_uri == f"{GRACE}/statuses/7"
    assert "Fractions with pizza" in stored.content_html


@pytest.mark.parametrize(("kind", "to", "cc", "visibility"), [
    ("Article", (PUBLIC,), (), "public"),
    ("Page", (ADA_FOLLOWERS,), (PUBLIC,), "unlisted"),
    ("Question", (GRACE,), (), "direct"),
])
async def test_create_of_other_post_types_stores_a_readable_post(
    world: World, kind: str, to: tuple[str, ...], cc: tuple[str, ...], visibility: str,
) -> None:
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA, kind=kind, to=to, cc=cc)))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and stored.type == kind and stored.visibility == visibility


async def test_create_dispatched_twice_stores_one_row(world: World) -> None:
    create = activity("Create", ADA, note_document(NOTE, ADA))
    await world.dispatch(create)
    await world.dispatch(create)
    assert len(await world.rows("SELECT id FROM objects WHERE uri = ?", NOTE)) == 1


async def test_create_by_bare_id_fetches_the_note_from_its_origin(world: World) -> None:
    world.serve(note_document(NOTE, ADA, "<p>from the origin</p>"))
    await world.dispatch(activity("Create", ADA, NOTE))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and "from the origin" in stored.content_html
    assert world.federation.network.sent_to("mastodon.test", "GET", "/users/ada/statuses/1")


async def test_create_with_object_from_another_origin_stores_nothing(world: World) -> None:
    # Bob (gts.test) sends a Create of a note on mastodon.test attributed to ada
    forged = note_document(NOTE, ADA, "<p>forged</p>")
    with pytest.raises(ValidationError):
        await world.dispatch(activity("Create", BOB, forged))
    # or attributed to himself
    with pytest.raises(ValidationError):
        await world.dispatch(activity("Create", BOB, note_document(NOTE, BOB)))
    # or as a bare id: not even fetched
    with pytest.raises(ValidationError):
        await world.dispatch(activity("Create", BOB, NOTE))
    assert await get_note(world.learn.services.db, NOTE) is None
    assert world.federation.network.sent_to("mastodon.test", "GET", "/users/ada/statuses/1") == []


async def test_create_of_an_existing_note_changes_nothing(world: World) -> None:
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA, cc=())))
    bob_note = f"{BOB}/statuses/1"
    await world.dispatch(activity("Create", BOB, note_document(bob_note, BOB, "<p>bob's</p>")))
    before = await world.rows("SELECT * FROM objects ORDER BY uri")
    # eve, on ada's server, claims ada's note as hers: nothing changes (GHSA-xjvf-fm67-4qc3)
    eve = "https://mastodon.test/users/eve"
    world.actor(eve)
    await world.dispatch(activity("Create", eve, note_document(NOTE, eve, "<p>eve's</p>", cc=(GRACE,)), suffix="e"))
    # and a re-delivered Create from ada adding recipients changes nothing either (edits are Updates)
    wider = note_document(NOTE, ADA, "<p>changed</p>", cc=(GRACE, BOB))
    await world.dispatch(activity("Create", ADA, wider, suffix="2"))
    assert await world.rows("SELECT * FROM objects ORDER BY uri") == before


async def test_delete_before_create_drops_the_late_create(world: World) -> None:
    # Given ada's Delete overtook its Create
    await world.dispatch(activity("Delete", ADA, {"id": NOTE, "type": "Tombstone"}))
    assert await is_tombstoned(world.learn.services.db, NOTE)
    # When the Create arrives, it is dropped
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA)))
    assert await get_note(world.learn.services.db, NOTE) is None


async def test_delete_tombstones_the_owners_note(world: World) -> None:
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA)))
    await world.dispatch(activity("Delete", ADA, NOTE))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and stored.deleted_at is not None and stored.content_html == ""
    assert await is_tombstoned(world.learn.services.db, NOTE)
    # and it never comes back
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA), suffix="again"))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and stored.deleted_at is not None


async def test_delete_of_someone_elses_note_is_refused(world: World) -> None:
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA)))
    other = "https://mastodon.test/users/eve"
    world.actor(other)
    # eve (same server) and bob (another server) cannot delete ada's note
    with pytest.raises(Reject, match="belongs to"):
        await world.dispatch(activity("Delete", other, NOTE))
    with pytest.raises(Reject, match="another origin"):
        await world.dispatch(activity("Delete", BOB, NOTE))
    # nor one of our members' notes
    grace = await world.learn.add_member("grace")
    ours = await world.local_note(grace)
    with pytest.raises(Reject):
        await world.dispatch(activity("Delete", ADA, ours.uri))
    for uri in (NOTE, ours.uri):
        stored = await get_note(world.learn.services.db, uri)
        assert stored is not None and stored.deleted_at is None
        assert not await is_tombstoned(world.learn.services.db, uri)


async def test_delete_of_an_actor_by_itself_removes_its_traces(world: World) -> None:
    await world.learn.add_member("grace")
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA)))
    async with world.learn.services.db.transaction() as tx:
        await set_follow(tx, ADA, GRACE, "accepted", "https://mastodon.test/f/1", 0.0)
        await set_follow(tx, GRACE, ADA, "accepted", f"{GRACE}/activities/1", 0.0)
    await world.learn.services.resolver.actor(ADA)
    # Bob cannot delete ada
    with pytest.raises(Reject):
        await world.dispatch(activity("Delete", BOB, ADA))
    # Ada deletes herself
    await world.dispatch({**activity("Delete", ADA, ADA), "to": [PUBLIC]})
    db = world.learn.services.db
    assert await get_follow(db, ADA, GRACE) is None and await get_follow(db, GRACE, ADA) is None
    assert await is_tombstoned(db, NOTE)
    assert await get_remote_actor(db, ADA) is None


async def test_update_applies_a_newer_edit_by_the_owner(world: World) -> None:
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA, "<p>v1</p>")))
    edit = note_document(NOTE, ADA, "<p>v2</p>", updated="2024-05-02T10:00:00Z")
    await world.dispatch(activity("Update", ADA, edit))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and "v2" in stored.content_html
    # an older edit arriving late is ignored
    old = note_document(NOTE, ADA, "<p>v1.5</p>", updated="2024-05-02T09:30:00Z")
    await world.dispatch(activity("Update", ADA, old, suffix="old"))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and "v2" in stored.content_html


async def test_update_by_bare_id_refetches_the_note(world: World) -> None:
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA, "<p>v1</p>")))
    world.serve(note_document(NOTE, ADA, "<p>v2 served</p>", updated="2024-05-02T10:00:00Z"))
    await world.dispatch(activity("Update", ADA, NOTE))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and "v2 served" in stored.content_html


async def test_update_of_someone_elses_note_is_refused(world: World) -> None:
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA, "<p>v1</p>")))
    forged = note_document(NOTE, ADA, "<p>forged</p>", updated="2024-05-03T00:00:00Z")
    with pytest.raises(Reject, match="may not update"):
        await world.dispatch(activity("Update", BOB, forged))
    grace = await world.learn.add_member("grace")
    ours = await world.local_note(grace)
    with pytest.raises(Reject):
        await world.dispatch(activity("Update", ADA, note_document(ours.uri, ADA, updated="2030-01-01T00:00:00Z")))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and "v1" in stored.content_html
    unchanged = await get_note(world.learn.services.db, ours.uri)
    assert unchanged == ours


async def test_update_may_not_change_published_or_addressing(world: World) -> None:
    await world.dispatch(activity("Create", ADA, note_document(NOTE, ADA, "<p>v1</p>", to=(ADA_FOLLOWERS,))))
    moved = note_document(NOTE, ADA, "<p>v2</p>", published="2020-01-01T00:00:00Z", updated="2024-05-03T00:00:00Z")
    with pytest.raises(Reject, match="published"):
        await world.dispatch(activity("Update", ADA, moved))
    wider = note_document(NOTE, ADA, "<p>v3</p>", to=(PUBLIC,), cc=(BOB,), updated="2024-05-04T00:00:00Z")
    await world.dispatch(activity("Update", ADA, wider, suffix="3"))
    stored = await get_note(world.learn.services.db, NOTE)
    assert stored is not None and "v3" in stored.content_html
    assert stored.visibility == "private" and stored.to == (ADA_FOLLOWERS,) and stored.cc == ()


async def test_update_of_a_profile_refetches_it_from_its_origin(world: World) -> None:
    await world.learn.services.resolver.actor(ADA)
    # The origin now serves a new name; the embedded copy claims another
    world.actor(ADA, document={**person_document(ADA), "name": "Ada (from origin)"})
    embedded = {**person_document(ADA), "name": "Ada (embedded)"}
    await world.dispatch(activity("Update", ADA, embedded))
    cached = await get_remote_actor(world.learn.services.db, ADA)
    assert cached is not None and cached[0].name == "Ada (from origin)"


async def test_update_of_another_actors_profile_is_refused(world: World) -> None:
    with pytest.raises(Reject, match="profile"):
        await world.dispatch(activity("Update", BOB, person_document(ADA)))


async def test_fetched_document_claiming_another_id_is_not_stored(world: World) -> None:
    world.hosts["mastodon.test"].put(note_document(f"{ADA}/statuses/2", ADA), url=NOTE)
    with pytest.raises(IdMismatch):
        await world.dispatch(activity("Create", ADA, NOTE))
    assert await world.rows("SELECT * FROM objects") == []
