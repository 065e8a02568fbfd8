"""Thread backfill against threads shaped like Mastodon's (`replies` paging), Lemmy's (a Page in a Group) and
NodeBB's (a FEP-f228 `context` collection), and against a hostile server whose chains never end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_learn.store.objects import get_note
from inbox.backfill import MAX_ANCESTORS, backfill_thread, fetch_ancestors
from tests.support.fixture_server import KeyRing, World, load_fixture, note_document, person_document
from tests.support.instances import Federation

ADA = "https://mastodon.test/users/ada"
ZOE = "https://mastodon.test/users/zoe"
BOB = "https://gts.test/users/bob"
CAROL = "https://lemmy.test/u/carol"
DAVE = "https://lemmy.test/u/dave"
MATHS = "https://lemmy.test/c/maths"
MALLORY = "https://evil.test/users/mallory"
STATUS = "https://mastodon.test/users/{}/statuses/11238400000000000{}"


@pytest.fixture
async def world(federation: Federation, keyring: KeyRing) -> AsyncIterator[World]:
    w = await World.create(federation, keyring)
    for actor in (ADA, ZOE, BOB, DAVE, "https://nodebb.test/uid/1", "https://nodebb.test/uid/2", MALLORY):
        w.actor(actor)
    w.actor(CAROL, document=load_fixture("lemmy/person.json"))
    w.actor(MATHS, document=load_fixture("lemmy/group.json"))
    yield w


def serve_bundle(world: World, name: str) -> dict[str, Any]:
    bundle = load_fixture(f"backfill/{name}.json")
    world.serve(*bundle["documents"])
    return bundle


async def stored_uris(world: World) -> set[str]:
    return {r["uri"] for r in await world.rows("SELECT uri FROM objects")}


def gets(world: World, host: str) -> list[str]:
    return [str(httpx.URL(r.url).raw_path, "ascii") for r in world.federation.network.sent_to(host, "GET")]


async def test_a_mastodon_thread_is_backfilled_by_walking_replies_pages(world: World) -> None:
    serve_bundle(world, "mastodon_thread")
    root = STATUS.format("ada", 1)
    result = await backfill_thread(world.learn.services, root)
    thread = {root, STATUS.format("ada", 2), STATUS.format("zoe", 3), STATUS.format("ada", 4),
              "https://gts.test/users/bob/statuses/01HXGTS0000000000000000009"}
    assert await stored_uris(world) == thread
    assert (result.source, result.stored) == ("replies", 5)
    reply = await get_note(world.learn.services.db, STATUS.format("ada", 4))
    assert reply is not None and reply.in_reply_to_uri == STATUS.format("zoe", 3)
    # every GET was signed as our instance actor
    for request in world.federation.network.sent_to("mastodon.test", "GET"):
        assert 'keyId="http://learn.test/actor#main-key"' in request.headers["signature"]


async def test_a_reply_whose_ancestors_we_lack_brings_them(world: World) -> None:
    serve_bundle(world, "mastodon_thread")
    stored = await fetch_ancestors(world.learn.services, STATUS.format("zoe", 3))
    assert stored == 2
    assert await stored_uris(world) == {STATUS.format("zoe", 3), STATUS.format("ada", 1)}


async def test_a_lemmy_comment_relayed_by_its_group_brings_its_thread(world: World) -> None:
    # Given a Lemmy thread: a Page in the community maths, a comment on it, and a reply to that comment
    bundle = serve_bundle(world, "lemmy_thread")
    # When the group announces the reply (its Create names the comment by id only)
    await world.dispatch(bundle["announce"])
    # Then the reply, the comment and the post are stored, each in the community, the post with its title
    db = world.learn.services.db
    post, comment, reply = [await get_note(db, f"https://lemmy.test/{p}") for p in ("post/42", "comment/7",
                                                                                    "comment/8")]
    assert post is not None and post.type == "Page" and post.name == "Teaching fractions with paper strips"
    assert comment is not None and comment.in_reply_to_uri == post.uri
    assert reply is not None and reply.in_reply_to_uri == comment.uri
    assert {n.audience_uri for n in (post, comment, reply)} == {MATHS}


async def test_a_nodebb_topic_is_backfilled_from_its_context_collection(world: World) -> None:
    serve_bundle(world, "nodebb_topic")
    first = "https://nodebb.test/post/1"
    result = await backfill_thread(world.learn.services, first)
    zoe = "https://mastodon.test/users/zoe/statuses/112384000000000009"
    assert await stored_uris(world) == {first, "https://nodebb.test/post/2", "https://nodebb.test/post/3", zoe}
    assert result.source == "context"
    note = await get_note(world.learn.services.db, "https://nodebb.test/post/3")
    assert note is not None and note.context_uri == "https://nodebb.test/topic/1"
    # the embedded post was taken from the page (its origin), nothing looked for `replies`
    paths = gets(world, "nodebb.test")
    assert "/post/3" not in paths and not any("replies" in p for p in paths)
    assert {"/topic/1", "/topic/1?page=1", "/topic/1?page=2"} <= set(paths)


# --- hostile servers ----------------------------------------------------------------------------------

def hostile(keyring: KeyRing) -> Starlette:
    """evil.test: `/up/{n}` replies to `/up/{n+1}` for ever; `/down/{n}` has a `replies` collection whose
    pages each list one more post and link to one more page, for ever."""
    actor = keyring.inject(person_document(MALLORY))

    def ap(doc: dict[str, Any]) -> Response:
        return Response(orjson.dumps(doc), media_type="application/activity+json")

    async def actor_doc(request: Request) -> Response:
        return ap(actor)

    async def up(request: Request) -> Response:
        n = request.path_params["n"]
        return ap(note_document(f"https://evil.test/up/{n}", MALLORY, in_reply_to=f"https://evil.test/up/{n + 1}"))

    async def down(request: Request) -> Response:
        n = request.path_params["n"]
        doc = note_document(f"https://evil.test/down/{n}", MALLORY,
                            in_reply_to=f"https://evil.test/down/{n - 1}" if n else None)
        doc["replies"] = {"id": f"https://evil.test/down/{n}/replies", "type": "Collection",
                          "first": f"https://evil.test/down/{n}/replies?page=1"}
        return ap(doc)

    async def page(request: Request) -> Response:
        n, k = request.path_params["n"], int(request.query_params.get("page", "1"))
        return ap({"id": f"https://evil.test/down/{n}/replies?page={k}", "type": "CollectionPage",
                   "next": f"https://evil.test/down/{n}/replies?page={k + 1}",
                   "items": [f"https://evil.test/down/{n * 1000 + k}"]})

    return Starlette(routes=[Route("/users/mallory", actor_doc), Route("/up/{n:int}", up),
                             Route("/down/{n:int}", down), Route("/down/{n:int}/replies", page)])


async def test_an_endless_replies_chain_stops_at_the_limit(world: World, keyring: KeyRing) -> None:
    world.federation.network.add("evil.test", hostile(keyring))
    result = await backfill_thread(world.learn.services, "https://evil.test/down/1", max_fetches=30)
    assert result.fetches == 30
    posts = [p for p in gets(world, "evil.test") if not p.startswith("/users/")]
    assert len(posts) == 30
    assert 0 < result.stored < 30


async def test_an_endless_ancestor_chain_stops_at_the_limit(world: World, keyring: KeyRing) -> None:
    world.federation.network.add("evil.test", hostile(keyring))
    stored = await fetch_ancestors(world.learn.services, "https://evil.test/up/1")
    assert stored == MAX_ANCESTORS
    assert len([p for p in gets(world, "evil.test") if p.startswith("/up/")]) == MAX_ANCESTORS
