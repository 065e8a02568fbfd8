"""Note routes: content negotiation, who may see followers-only and direct notes, collections, the outbox."""

from __future__ import annotations

import httpx

from fediverse_learn.http import SigningAuth
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.follows import set_follow
from outbox.compose import like_activity, publish_note
from outbox.publish import publish
from tests.support.instances import Federation, Instance

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def _setup(federation: Federation) -> tuple[Instance, LocalActor, Instance, LocalActor]:
    a = await federation.add("a.test")
    ada = await a.add_member("ada", display_name="Ada <L>")
    b = await federation.add("b.test")
    bob = await b.add_member("bob")
    return a, ada, b, bob


async def _signed_get(federation: Federation, signer: Instance, actor: LocalActor, url: str) -> httpx.Response:
    auth = SigningAuth(signer.services.signer_for(actor))
    async with httpx.AsyncClient(transport=federation.network, auth=auth) as client:
        return await client.get(url, headers={"Accept": AP})


async def _accept_follower(a: Instance, follower_uri: str, followee: str) -> None:
    async with a.services.db.transaction() as tx:
        await set_follow(tx, follower_uri, a.services.uris.actor(followee), "accepted", None, a.services.clock.time())


async def test_note_negotiates_activitypub_and_html(federation: Federation) -> None:
    a, ada, _, _ = await _setup(federation)
    note = await publish_note(a.services, ada, source="Mitochondria <script>x</script>", summary="bio <b>")
    for accept in (AP, LD):
        r = await a.client.get(note.uri, headers={"Accept": accept})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/activity+json; charset=utf-8"
        assert r.headers["vary"] == "Accept"
        doc = r.json()
        assert doc["@context"][0] == "https://www.w3.org/ns/activitystreams"
        assert doc["id"] == note.uri and doc["url"] == f"http://a.test/@ada/{note.id}"
    for url in (note.uri, f"http://a.test/@ada/{note.id}"):
        page = await a.client.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<script>" not in page.text and "Ada &lt;L&gt;" in page.text and "bio &lt;b&gt;" in page.text
        assert f'href="{note.uri}"' in page.text


async def test_note_document_has_mastodons_fields(federation: Federation) -> None:
    a, ada, _, _ = await _setup(federation)
    note = await publish_note(a.services, ada, source="Hello", language="en")
    doc = (await a.client.get(note.uri, headers={"Accept": AP})).json()
    assert set(doc) == {
        "@context", "id", "type", "summary", "inReplyTo", "published", "url", "attributedTo", "to", "cc",
        "sensitive", "atomUri", "inReplyToAtomUri", "content", "contentMap", "source", "attachment", "tag",
        "replies", "likes", "shares", "context",
    }
    # a thread's top-level post is the start of its own FEP-7888 `context` collection
    assert doc["context"] == f"{note.uri}/context"
    assert doc["contentMap"] == {"en": doc["content"]} and doc["summary"] is None
    assert doc["likes"] == {"id": f"{note.uri}/likes", "type": "Collection", "totalItems": 0}
    assert doc["replies"]["first"]["type"] == "CollectionPage"


async def test_unknown_or_misnamed_note_is_404(federation: Federation) -> None:
    a, ada, _, _ = await _setup(federation)
    await a.add_member("cy")
    note = await publish_note(a.services, ada, source="x")
    assert (await a.client.get(f"/users/cy/statuses/{note.id}", headers={"Accept": AP})).status_code == 404
    assert (await a.client.get("/users/ada/statuses/1", headers={"Accept": AP})).status_code == 404
    assert (await a.client.get("/users/nobody/statuses/1")).status_code == 404


async def test_followers_only_note_only_for_signed_followers(federation: Federation) -> None:
    # Given ada's followers-only note, bob on b.test an accepted follower, carol on b.test not
    a, ada, b, bob = await _setup(federation)
    carol = await b.add_member("carol")
    await _accept_follower(a, "http://b.test/users/bob", "ada")
    note = await publish_note(a.services, ada, source="for followers", visibility="private")
    # Then unsigned GETs (AP and HTML) and other signers see 404; bob's signed GET sees it
    assert (await a.client.get(note.uri, headers={"Accept": AP})).status_code == 404
    assert (await a.client.get(note.uri, headers={"Accept": "text/html"})).status_code == 404
    assert (await _signed_get(federation, b, carol, note.uri)).status_code == 404
    r = await _signed_get(federation, b, bob, note.uri)
    assert r.status_code == 200 and r.json()["to"] == ["http://a.test/users/ada/followers"]
    # And its author with her token
    token = await a.token("ada")
    r = await a.client.get(note.uri, headers={"Accept": AP, "Authorization": f"Bearer {token}"})
    assert r.status_code == 200


async def test_direct_note_only_for_the_mentioned(federation: Federation) -> None:
    a, ada, b, bob = await _setup(federation)
    carol = await b.add_member("carol")
    await _accept_follower(a, "http://b.test/users/carol", "ada")
    note = await publish_note(a.services, ada, source="hi @bob@b.test", visibility="direct")
    assert (await _signed_get(federation, b, bob, note.uri)).status_code == 200
    assert (await _signed_get(federation, b, carol, note.uri)).status_code == 404
    replies = f"{note.uri}/replies"
    assert (await a.client.get(replies, headers={"Accept": AP})).status_code == 404


async def test_bad_signature_is_treated_as_anonymous(federation: Federation) -> None:
    a, ada, _, _ = await _setup(federation)
    note = await publish_note(a.services, ada, source="secret", visibility="private")
    headers = {"Accept": AP, "Signature": 'keyId="http://b.test/users/bob#main-key",signature="eA=="'}
    assert (await a.client.get(note.uri, headers=headers)).status_code == 404


async def test_replies_collection_pages(federation: Federation) -> None:
    a, ada, _, _ = await _setup(federation)
    cy = await a.add_member("cy")
    note = await publish_note(a.services, ada, source="Question")
    replies = [await publish_note(a.services, cy, source=f"answer {i}", in_reply_to=note.uri) for i in range(21)]
    await publish_note(a.services, cy, source="hidden answer", in_reply_to=note.uri, visibility="private")
    doc = (await a.client.get(note.uri, headers={"Accept": AP})).json()
    first = doc["replies"]["first"]
    assert set(first) == {"type", "next", "partOf", "items"}
    assert first["items"] == [r.uri for r in replies[:20]] and first["partOf"] == f"{note.uri}/replies"
    collection = (await a.client.get(f"{note.uri}/replies", headers={"Accept": AP})).json()
    assert collection["type"] == "Collection" and collection["first"] == first
    second = (await a.client.get(first["next"], headers={"Accept": AP})).json()
    assert second["type"] == "CollectionPage" and second["items"] == [replies[20].uri] and "next" not in second
    assert second["id"] == first["next"]


async def test_likes_and_shares_count(federation: Federation) -> None:
    a, ada, _, _ = await _setup(federation)
    note = await publish_note(a.services, ada, source="x")
    async with a.services.db.transaction() as tx:
        await tx.execute("INSERT INTO reactions (kind, actor_uri, object_uri, activity_uri, published)"
                         " VALUES ('like', 'http://b.test/users/bob', ?, 'http://b.test/l/1', 0)", (note.uri,))
    likes = (await a.client.get(f"{note.uri}/likes", headers={"Accept": AP})).json()
    assert likes["totalItems"] == 1 and likes["type"] == "Collection"
    assert (await a.client.get(f"{note.uri}/shares", headers={"Accept": AP})).json()["totalItems"] == 0
    assert (await a.client.get(note.uri, headers={"Accept": AP})).json()["likes"]["totalItems"] == 1


async def test_outbox_pages_public_creates_newest_first(federation: Federation) -> None:
    a, ada, _, _ = await _setup(federation)
    public = []
    for i in range(22):
        public.append(await publish_note(a.services, ada, source=f"note {i}",
                                         visibility="unlisted" if i == 5 else "public"))
        federation.clock.advance(1)
    await publish_note(a.services, ada, source="private", visibility="private")
    await publish_note(a.services, ada, source="direct", visibility="direct")
    await publish(a.services, ada, like_activity(a.services, ada, public[0].uri))
    outbox = (await a.client.get("/users/ada/outbox", headers={"Accept": AP})).json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 22
    first = (await a.client.get(outbox["first"], headers={"Accept": AP})).json()
    assert first["type"] == "OrderedCollectionPage" and first["partOf"] == "http://a.test/users/ada/outbox"
    objects = [item["object"]["id"] for item in first["orderedItems"]]
    assert objects == [n.uri for n in reversed(public)][:20]
    assert all(item["type"] == "Create" and "@context" not in item for item in first["orderedItems"])
    second = (await a.client.get(first["next"], headers={"Accept": AP})).json()
    assert [item["object"]["id"] for item in second["orderedItems"]] == [public[1].uri, public[0].uri]
    back = (await a.client.get(second["prev"], headers={"Accept": AP})).json()
    assert [item["object"]["id"] for item in back["orderedItems"]] == objects[-20:]


async def test_activity_of_non_public_note_hidden_and_featured_empty(federation: Federation) -> None:
    a, ada, _, _ = await _setup(federation)
    await publish_note(a.services, ada, source="private", visibility="private")
    uri = await a.services.db.fetchval("SELECT uri FROM activities")
    assert (await a.client.get(uri, headers={"Accept": AP})).status_code == 404
    featured = (await a.client.get("/users/ada/featured", headers={"Accept": AP})).json()
    assert featured["type"] == "OrderedCollection" and featured["totalItems"] == 0 and featured["orderedItems"] == []
