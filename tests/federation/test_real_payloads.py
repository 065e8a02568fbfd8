"""Real payload shapes from Mastodon, GoToSocial, Lemmy, Misskey and Fedify, replayed through dispatch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fediverse_learn.keys import generate_key_pair
from fediverse_learn.store.actors import create_actor
from fediverse_learn.store.follows import get_follow, set_follow
from fediverse_learn.store.objects import get_note, is_tombstoned
from fediverse_learn.store.reactions import count_reactions
from fediverse_learn.vocab import has_type
from tests.support.fixture_server import FIXTURES, KeyRing, World, load_fixture
from tests.support.instances import Federation

LEARN = "http://learn.test"
GRACE = f"{LEARN}/users/grace"
SCIENCE = f"{LEARN}/users/science"
FIXTURE_NOTE = "https://learn.test/users/grace/notes/01HXNOTE00000000000000001"
ACTORS = ("mastodon/person.json", "gotosocial/person.json", "lemmy/person.json", "lemmy/group.json",
          "misskey/person.json", "fedify/person.json")
ADA = "https://mastodon.test/users/ada"
BOB = "https://gts.test/users/bob"
CAROL = "https://lemmy.test/u/carol"
DANA = "https://misskey.test/users/9tq8xz3k2b"
ERIN = "https://fedify.test/users/erin"
MASTODON_NOTE = f"{ADA}/statuses/11238400000000000"
REPLAYED_TYPES = ("Create", "Follow", "Like", "Announce", "Update", "Delete", "Undo", "Accept")


@dataclass
class Local:
    """The local side the fixtures talk to: grace, her note, the `science` community."""

    world: World
    note_uri: str

    def load(self, relative: str) -> dict[str, Any]:
        return load_fixture(relative, {FIXTURE_NOTE: self.note_uri, "https://learn.test/c/science": SCIENCE,
                                       "https://learn.test": LEARN})


@pytest.fixture
async def local(federation: Federation, keyring: KeyRing) -> AsyncIterator[Local]:
    world = await World.create(federation, keyring)
    grace = await world.learn.add_member("grace")
    services = world.learn.services
    await create_actor(services.db, name="science", kind="group", keys=await generate_key_pair(),
                       now=services.clock.time())
    note = await world.local_note(grace)
    here = Local(world, note.uri)
    for relative in ACTORS:
        world.actor(str(load_fixture(relative)["id"]), document=load_fixture(relative))
    yield here


Check = Callable[[Local], Awaitable[None]]


def note_stored(uri: str, visibility: str, kind: str = "Note", author: str = ADA, text: str = "",
                in_reply_to: str | None = None) -> Check:
    async def check(here: Local) -> None:
        db = here.world.learn.services.db
        stored = await get_note(db, uri)
        assert stored is not None, f"{uri} not stored"
        assert (stored.type, stored.visibility, stored.author_uri) == (kind, visibility, author)
        assert text in stored.content_html
        if in_reply_to is not None:
            expected = here.note_uri if in_reply_to == FIXTURE_NOTE else in_reply_to
            assert stored.in_reply_to_uri == expected
        assert len(await here.world.rows("SELECT id FROM objects WHERE uri = ?", uri)) == 1
    return check


def follow_stored(follower: str, followee: str, state: str = "accepted", answered: str | None = None) -> Check:
    async def check(here: Local) -> None:
        row = await get_follow(here.world.learn.services.db, follower, followee)
        assert row is not None and row.state == state
        if answered is not None:
            inboxes = [d["inbox_url"] for d in await here.world.rows("SELECT inbox_url FROM deliveries")]
            assert inboxes == [answered]
    return check


def reacted(kind: str) -> Check:
    async def check(here: Local) -> None:
        assert await count_reactions(here.world.learn.services.db, here.note_uri, kind) == 1
    return check


def no_follow(follower: str, followee: str) -> Check:
    async def check(here: Local) -> None:
        assert await get_follow(here.world.learn.services.db, follower, followee) is None
    return check


def tombstoned(uri: str) -> Check:
    async def check(here: Local) -> None:
        assert await is_tombstoned(here.world.learn.services.db, uri)
    return check


async def serve_lemmy_posts(here: Local) -> None:
    """Lemmy's community relays Creates it did not sign: the posts are fetched from lemmy.test."""
    for relative in ("lemmy/announce_create_page.json", "lemmy/announce_create_note_comment.json"):
        inner = here.load(relative)["object"]["object"]
        here.world.serve({"@context": "https://www.w3.org/ns/activitystreams", **inner})


def our_pending_follow_of(followee: str) -> Callable[[Local], Awaitable[None]]:
    async def setup(here: Local) -> None:
        async with here.world.learn.services.db.transaction() as tx:
            await set_follow(tx, GRACE, followee, "pending", f"{GRACE}/activities/1", 0.0)
    return setup


@dataclass(frozen=True)
class Case:
    check: Check
    before: tuple[str, ...] = ()
    setup: Callable[[Local], Awaitable[None]] | None = None


CASES: dict[str, Case] = {
    "mastodon/create_note_public.json": Case(note_stored(f"{MASTODON_NOTE}1", "public", text="Pizza slices")),
    "mastodon/create_note_followers_only.json": Case(note_stored(f"{MASTODON_NOTE}2", "private")),
    "mastodon/create_note_direct.json": Case(note_stored(f"{MASTODON_NOTE}3", "direct")),
    "mastodon/create_note_reply.json": Case(note_stored(f"{MASTODON_NOTE}4", "public", in_reply_to=FIXTURE_NOTE)),
    "mastodon/create_question.json": Case(note_stored(f"{MASTODON_NOTE}5", "public", kind="Question")),
    "mastodon/update_note.json": Case(note_stored(f"{MASTODON_NOTE}1", "public", text="(and year 6!)"),
                                      before=("mastodon/create_note_public.json",)),
    "mastodon/delete_tombstone.json": Case(tombstoned(f"{MASTODON_NOTE}2"),
                                           before=("mastodon/create_note_followers_only.json",)),
    "mastodon/follow.json": Case(follow_stored(ADA, GRACE, answered=f"{ADA}/inbox")),
    "mastodon/undo_follow.json": Case(no_follow(ADA, GRACE), before=("mastodon/follow.json",)),
    "mastodon/accept_follow.json": Case(follow_stored(GRACE, ADA), setup=our_pending_follow_of(ADA)),
    "mastodon/like.json": Case(reacted("like")),
    "mastodon/announce.json": Case(reacted("announce")),
    "gotosocial/create_note_public.json": Case(note_stored(
        "https://gts.test/users/bob/statuses/01HXGTS0000000000000000001", "public", author=BOB, text="Pendulum")),
    "gotosocial/create_note_reply.json": Case(note_stored(
        "https://gts.test/users/bob/statuses/01HXGTS0000000000000000002", "public", author=BOB,
        in_reply_to=FIXTURE_NOTE)),
    "gotosocial/follow.json": Case(follow_stored(BOB, GRACE, answered=f"{BOB}/inbox")),
    "gotosocial/accept_follow.json": Case(follow_stored(GRACE, BOB), setup=our_pending_follow_of(BOB)),
    "gotosocial/like.json": Case(reacted("like")),
    "lemmy/follow_group.json": Case(follow_stored(CAROL, SCIENCE, answered=f"{CAROL}/inbox")),
    "lemmy/announce_create_page.json": Case(note_stored(
        "https://lemmy.test/post/42", "public", kind="Page", author=CAROL, text="Fold a strip"),
        setup=serve_lemmy_posts),
    "lemmy/announce_create_note_comment.json": Case(note_stored(
        "https://lemmy.test/comment/7", "public", author=CAROL, in_reply_to="https://lemmy.test/post/42"),
        setup=serve_lemmy_posts),
    "misskey/create_note_quote.json": Case(note_stored(
        "https://misskey.test/notes/9tq9abcd12", "public", author=DANA, text="colour wheel")),
    "misskey/like.json": Case(reacted("like")),
    "fedify/create_note_proof.json": Case(note_stored(
        "https://fedify.test/users/erin/posts/01919c1f-8d7a-7cc1-9a3b-5e4f3d2c1b0a", "public", author=ERIN,
        text="first ActivityPub server")),
}


def test_every_activity_fixture_is_replayed() -> None:
    activities = sorted(
        f"{p.parent.name}/{p.name}" for p in FIXTURES.glob("*/*.json")
        if p.parent.name != "signatures" and has_type(load_fixture(f"{p.parent.name}/{p.name}"), *REPLAYED_TYPES)
    )
    assert activities == sorted(CASES)


@pytest.mark.parametrize("relative", sorted(CASES))
async def test_real_payload_dispatches_and_stores_the_expected_rows(local: Local, relative: str) -> None:
    case = CASES[relative]
    if case.setup is not None:
        await case.setup(local)
    for earlier in case.before:
        await local.world.dispatch(local.load(earlier))
    # When the payload is delivered twice
    payload = local.load(relative)
    await local.world.dispatch(payload)
    await local.world.dispatch(payload)
    # Then the expected rows are there, once
    await case.check(local)
