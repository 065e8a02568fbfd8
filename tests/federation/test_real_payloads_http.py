"""Real payload shapes from Mastodon, GoToSocial, Lemmy, Misskey and Fedify, replayed through the HTTP inbox.

Each fixture (tests/fixtures/<server>/*.json) has our member URLs rewritten to a.test, is signed the way
Mastodon signs (tests/support/remote.py) with the key of its actor, whose own fixture document is served
on the fake remote host, and is POSTed to a.test's inbox; then the workers settle. This goes through the
endpoint, the signature verification (fetching the key from the remote host), the durable queue and the
worker, where tests/federation/test_real_payloads.py calls dispatch directly.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from fediverse_learn.signatures import load_public_key, read_signature, verify_signature
from fediverse_learn.store.actors import create_actor, get_actor
from fediverse_learn.store.follows import get_follow, set_follow
from fediverse_learn.store.objects import StoredNote, get_note, is_tombstoned, save_note
from fediverse_learn.store.reactions import count_reactions
from fediverse_learn.vocab import has_type
from outbox.compose import build_note
from tests.support.fixture_server import FIXTURES, load_fixture
from tests.support.instances import Federation, Instance
from tests.support.remote import AS_CONTEXT, RemoteActorFixture, key_pair_for, remote_actor

LEARN = "http://a.test"
GRACE = f"{LEARN}/users/grace"
SCIENCE = f"{LEARN}/users/science"
FIXTURE_NOTE = "https://learn.test/users/grace/notes/01HXNOTE00000000000000001"
ACTORS = ("mastodon/person.json", "gotosocial/person.json", "lemmy/person.json", "lemmy/group.json",
          "misskey/person.json", "fedify/person.json")
KEY_DOCUMENTS = {"gotosocial/main_key.json": "https://gts.test/users/bob/main-key"}   # GoToSocial's key URL
ADA = "https://mastodon.test/users/ada"
BOB = "https://gts.test/users/bob"
CAROL = "https://lemmy.test/u/carol"
DANA = "https://misskey.test/users/9tq8xz3k2b"
ERIN = "https://fedify.test/users/erin"
MASTODON_NOTE = f"{ADA}/statuses/11238400000000000"
REPLAYED_TYPES = ("Create", "Follow", "Like", "Announce", "Update", "Delete", "Undo", "Accept")


@dataclass
class Local:
    """a.test with grace, her public note and the `science` community; the fixture actors on their hosts."""

    federation: Federation
    a: Instance
    note_uri: str
    signers: dict[str, tuple[RemoteActorFixture, str]] = field(default_factory=dict)   # actor uri -> (key, keyId)

    def load(self, relative: str) -> dict[str, Any]:
        return load_fixture(relative, {FIXTURE_NOTE: self.note_uri, "https://learn.test/c/science": SCIENCE,
                                       "https://learn.test": LEARN})

    async def deliver(self, activity: dict[str, Any], inbox: str = "/inbox") -> httpx.Response:
        """POST the activity to a.test's `inbox`, signed by its actor's fixture key."""
        signer, key_id = self.signers[str(activity["actor"])]
        return await signer.post(self.a.client, f"{LEARN}{inbox}", activity, key_id=key_id)

    async def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.a.services.db.fetchall(sql, params)]


def _mount_fixture_actor(federation: Federation, relative: str) -> tuple[str, RemoteActorFixture, str]:
    """Serve the fixture actor document on its host with a real key; (uri, signer, keyId)."""
    doc = load_fixture(relative)
    url = httpx.URL(str(doc["id"]))
    signer = remote_actor(federation, url.host, url.path.rstrip("/").rsplit("/", 1)[-1])
    served = copy.deepcopy(doc)
    served["publicKey"]["publicKeyPem"] = signer.public_key_pem
    signer.overrides.update(served)     # served at /users/{name} for Mastodon-like paths ...
    signer.server.serve(served)         # ... and at its own path otherwise (Lemmy's /u/carol, /c/maths)
    return str(doc["id"]), signer, str(served["publicKey"]["id"])


@pytest.fixture
async def local(federation: Federation) -> AsyncIterator[Local]:
    a = await federation.add("a.test")
    services = a.services
    # keys generated once per session: RSA generation would dominate these tests' time
    grace = await create_actor(services.db, name="grace", kind="person", keys=key_pair_for(GRACE),
                               now=services.clock.time())
    await create_actor(services.db, name="science", kind="group", keys=key_pair_for(SCIENCE),
                       now=services.clock.time())
    note = build_note(services, grace, content_html="<p>Pizza fractions</p>", visibility="public")
    async with services.db.transaction() as tx:
        await save_note(tx, note)
    here = Local(federation, a, note.uri)
    for relative in ACTORS:
        uri, signer, key_id = _mount_fixture_actor(federation, relative)
        here.signers[uri] = (signer, key_id)
    for relative, key_url in KEY_DOCUMENTS.items():
        signer, _ = here.signers[str(load_fixture(relative)["id"])]
        key_doc = load_fixture(relative)
        key_doc["publicKey"]["publicKeyPem"] = signer.public_key_pem
        signer.server.documents[httpx.URL(key_url).path] = key_doc   # served at the key's URL
    yield here


Check = Callable[[Local], Awaitable[None]]


def note_stored(uri: str, visibility: str, kind: str = "Note", author: str = ADA, text: str = "",
                in_reply_to: str | None = None) -> Check:
    async def check(here: Local) -> None:
        stored = await get_note(here.a.services.db, uri)
        assert stored is not None, f"{uri} not stored"
        assert (stored.type, stored.visibility, stored.author_uri) == (kind, visibility, author)
        assert text in stored.content_html
        if in_reply_to is not None:
            expected = here.note_uri if in_reply_to == FIXTURE_NOTE else in_reply_to
            assert stored.in_reply_to_uri == expected
        assert len(await here.rows("SELECT id FROM objects WHERE uri = ?", uri)) == 1
    return check


def follow_stored(follower: str, followee: str, state: str = "accepted", answered: str | None = None) -> Check:
    """The follow is stored; with `answered`, an Accept signed by the followee was POSTed to that inbox."""
    async def check(here: Local) -> None:
        row = await get_follow(here.a.services.db, follower, followee)
        assert row is not None and row.state == state
        if answered is None:
            return
        inbox = httpx.URL(answered)
        [post] = here.federation.network.sent_to(inbox.host, "POST", inbox.path)
        accept = orjson.loads(post.body)
        assert accept["type"] == "Accept" and accept["actor"] == followee
        assert accept["object"]["id"] == row.activity_uri and accept["object"]["actor"] == follower
        actor = await get_actor(here.a.services.db, followee.rsplit("/", 1)[-1])
        assert actor is not None
        sig = read_signature("POST", post.url, dict(post.headers), post.body, here.federation.clock.time())
        assert sig.key_id == f"{followee}#main-key"
        verify_signature(sig, load_public_key(actor.public_key_pem))
    return check


def reacted(kind: str) -> Check:
    async def check(here: Local) -> None:
        assert await count_reactions(here.a.services.db, here.note_uri, kind) == 1
    return check


def no_follow(follower: str, followee: str) -> Check:
    async def check(here: Local) -> None:
        assert await get_follow(here.a.services.db, follower, followee) is None
    return check


def tombstoned(uri: str) -> Check:
    async def check(here: Local) -> None:
        assert await is_tombstoned(here.a.services.db, uri)
        note: StoredNote | None = await get_note(here.a.services.db, uri)
        assert note is None or note.deleted_at is not None
    return check


async def serve_lemmy_posts(here: Local) -> None:
    """Lemmy's community relays Creates it did not sign: the posts are fetched from lemmy.test."""
    signer, _ = here.signers[CAROL]
    for relative in ("lemmy/announce_create_page.json", "lemmy/announce_create_note_comment.json"):
        inner = here.load(relative)["object"]["object"]
        signer.server.serve({"@context": AS_CONTEXT, **inner})


def our_pending_follow_of(followee: str) -> Callable[[Local], Awaitable[None]]:
    async def setup(here: Local) -> None:
        async with here.a.services.db.transaction() as tx:
            await set_follow(tx, GRACE, followee, "pending", f"{GRACE}/activities/1", 0.0)
    return setup


@dataclass(frozen=True)
class Case:
    check: Check
    inbox: str = "/inbox"                 # where its server sends it: the shared inbox, or a personal one
    before: tuple[str, ...] = ()
    setup: Callable[[Local], Awaitable[None]] | None = None


GRACE_INBOX = "/users/grace/inbox"
CASES: dict[str, Case] = {
    "mastodon/create_note_public.json": Case(note_stored(f"{MASTODON_NOTE}1", "public", text="Pizza slices")),
    "mastodon/create_note_followers_only.json": Case(note_stored(f"{MASTODON_NOTE}2", "private")),
    "mastodon/create_note_direct.json": Case(note_stored(f"{MASTODON_NOTE}3", "direct"), inbox=GRACE_INBOX),
    "mastodon/create_note_reply.json": Case(note_stored(f"{MASTODON_NOTE}4", "public", in_reply_to=FIXTURE_NOTE)),
    "mastodon/create_question.json": Case(note_stored(f"{MASTODON_NOTE}5", "public", kind="Question")),
    "mastodon/update_note.json": Case(note_stored(f"{MASTODON_NOTE}1", "public", text="(and year 6!)"),
                                      before=("mastodon/create_note_public.json",)),
    "mastodon/delete_tombstone.json": Case(tombstoned(f"{MASTODON_NOTE}2"),
                                           before=("mastodon/create_note_followers_only.json",)),
    "mastodon/follow.json": Case(follow_stored(ADA, GRACE, answered=f"{ADA}/inbox"), inbox=GRACE_INBOX),
    "mastodon/undo_follow.json": Case(no_follow(ADA, GRACE), inbox=GRACE_INBOX, before=("mastodon/follow.json",)),
    "mastodon/accept_follow.json": Case(follow_stored(GRACE, ADA), inbox=GRACE_INBOX,
                                        setup=our_pending_follow_of(ADA)),
    "mastodon/like.json": Case(reacted("like"), inbox=GRACE_INBOX),
    "mastodon/announce.json": Case(reacted("announce")),
    "gotosocial/create_note_public.json": Case(note_stored(
        "https://gts.test/users/bob/statuses/01HXGTS0000000000000000001", "public", author=BOB, text="Pendulum")),
    "gotosocial/create_note_reply.json": Case(note_stored(
        "https://gts.test/users/bob/statuses/01HXGTS0000000000000000002", "public", author=BOB,
        in_reply_to=FIXTURE_NOTE)),
    "gotosocial/follow.json": Case(follow_stored(BOB, GRACE, answered=f"{BOB}/inbox"), inbox=GRACE_INBOX),
    "gotosocial/accept_follow.json": Case(follow_stored(GRACE, BOB), inbox=GRACE_INBOX,
                                          setup=our_pending_follow_of(BOB)),
    "gotosocial/like.json": Case(reacted("like"), inbox=GRACE_INBOX),
    "lemmy/follow_group.json": Case(follow_stored(CAROL, SCIENCE, answered=f"{CAROL}/inbox"),
                                    inbox="/users/science/inbox"),
    "lemmy/announce_create_page.json": Case(note_stored(
        "https://lemmy.test/post/42", "public", kind="Page", author=CAROL, text="Fold a strip"),
        setup=serve_lemmy_posts),
    "lemmy/announce_create_note_comment.json": Case(note_stored(
        "https://lemmy.test/comment/7", "public", author=CAROL, in_reply_to="https://lemmy.test/post/42"),
        setup=serve_lemmy_posts),
    "misskey/create_note_quote.json": Case(note_stored(
        "https://misskey.test/notes/9tq9abcd12", "public", author=DANA, text="colour wheel")),
    "misskey/like.json": Case(reacted("like"), inbox=GRACE_INBOX),
    "fedify/create_note_proof.json": Case(note_stored(
        "https://fedify.test/users/erin/posts/01919c1f-8d7a-7cc1-9a3b-5e4f3d2c1b0a", "public", author=ERIN,
        text="first ActivityPub server")),
}


def test_every_activity_fixture_is_replayed_over_http() -> None:
    activities = sorted(
        f"{p.parent.name}/{p.name}" for p in FIXTURES.glob("*/*.json")
        if p.parent.name != "signatures" and has_type(load_fixture(f"{p.parent.name}/{p.name}"), *REPLAYED_TYPES)
    )
    assert activities == sorted(CASES)


async def _unfinished(here: Local) -> list[dict[str, Any]]:
    return await here.rows("SELECT activity_id, state, last_error FROM inbox_queue WHERE state != 'done'")


@pytest.mark.parametrize("relative", sorted(CASES))
async def test_real_payload_posted_to_inbox_is_verified_and_stored(local: Local, relative: str) -> None:
    case = CASES[relative]
    # Given what a.test knows beforehand, and the activities that came before this one
    if case.setup is not None:
        await case.setup(local)
    for earlier in case.before:
        assert (await local.deliver(local.load(earlier), CASES[earlier].inbox)).status_code == 202
        await local.federation.settle()
    # When the payload is POSTed to the inbox, signed by its actor, and the workers settle
    payload = local.load(relative)
    response = await local.deliver(payload, case.inbox)
    assert response.status_code == 202, response.text
    await local.federation.settle()
    # Then it was queued once and handled (not parked), and the expected rows are there
    queued = await local.rows("SELECT state FROM inbox_queue WHERE activity_id = ?", payload["id"])
    assert queued == [{"state": "done"}]
    assert await _unfinished(local) == []
    await case.check(local)
    # When the same payload is redelivered (its server did not see our 202)
    assert (await local.deliver(payload, case.inbox)).status_code == 202
    await local.federation.settle()
    # Then nothing changes: still one queue row, and the rows are as they were
    assert len(await local.rows("SELECT id FROM inbox_queue WHERE activity_id = ?", payload["id"])) == 1
    await case.check(local)


async def test_real_payload_signed_by_another_actor_is_refused(local: Local) -> None:
    # Given Mastodon's Like by ada, signed with the key of dana on misskey.test
    payload = local.load("mastodon/like.json")
    dana, dana_key_id = local.signers[DANA]
    # When it is POSTed to grace's inbox
    response = await dana.post(local.a.client, f"{LEARN}{GRACE_INBOX}", payload, key_id=dana_key_id)
    await local.federation.settle()
    # Then it is refused (the signer is not the actor), nothing is queued and nothing counted
    assert response.status_code == 401
    assert await local.rows("SELECT id FROM inbox_queue") == []
    assert await count_reactions(local.a.services.db, local.note_uri, "like") == 0
