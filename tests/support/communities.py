"""Communities in federation tests: a community on a.test, bea on b.test, cat (Mastodon-style) on c.test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from fediverse_learn.communities import Membership
from fediverse_learn.documents import format_datetime
from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.communities import create_community
from fediverse_learn.store.objects import StoredNote, get_note
from fediverse_learn.vocab import PUBLIC
from tests.support.instances import Federation, Instance
from tests.support.remote import RemoteActorFixture, key_pair_for, remote_actor

__all__ = ["AP", "Scene", "add_community", "c2s", "context_items", "join", "local", "post", "stored"]

AP = "application/activity+json"


async def c2s(instance: Instance, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    """`name` POSTs `doc` to their outbox (C2S) with a bearer token; the activity the server made of it."""
    token = await instance.token(name)
    r = await instance.client.post(f"/users/{name}/outbox", json=doc, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    activity: dict[str, Any] = r.json()
    return activity


async def post(instance: Instance, name: str, text: str, community: str, in_reply_to: str | None = None) -> str:
    """A public note by a member, addressed to a community (cc) as our composer does; its uri."""
    followers = instance.services.uris.followers(name)
    doc = {"type": "Note", "content": f"<p>{text}</p>", "to": [PUBLIC], "cc": [followers, community],
           "inReplyTo": in_reply_to}
    return str((await c2s(instance, name, doc))["object"]["id"])


async def add_community(instance: Instance, name: str, *moderators: str, membership: Membership = "open",
                        restricted: bool = False) -> str:
    uris = instance.services.uris
    await create_community(instance.services.db, name=name, keys=key_pair_for(f"{instance.host}/{name}"),
                           now=instance.services.clock.time(), moderators=[uris.actor(m) for m in moderators],
                           membership=membership, posting_restricted_to_mods=restricted)
    return uris.actor(name)


@dataclass
class Scene:
    federation: Federation
    a: Instance
    b: Instance
    cat: RemoteActorFixture
    maths: str
    bea: str

    async def mastodon_post(self, text: str, *, in_reply_to: str | None = None, mention: tuple[str, ...] = (),
                            deliver_to: tuple[str, ...] = ("a.test",)) -> str:
        """cat posts as Mastodon does: mentions (the community, people) in cc and tags; delivered to the
        shared inbox of each host in `deliver_to`; the note is served on c.test. Returns its uri."""
        self.federation.clock.advance(60)
        mentioned = [self.maths, *mention]
        note = self.cat.note(f"<p>{text}</p>", cc=[self.cat.followers, *mentioned], inReplyTo=in_reply_to,
                             published=format_datetime(self.federation.clock.time()),
                             tag=[{"type": "Mention", "href": m, "name": m} for m in mentioned])
        self.cat.server.serve(note)
        for host in deliver_to:
            r = await self.cat.post(self.federation.network, f"http://{host}/inbox", self.cat.create(note))
            assert r.status_code == 202, r.text
        await self.federation.settle()
        return str(note["id"])

    async def member_post(self, instance: Instance, name: str, text: str, in_reply_to: str | None = None) -> str:
        self.federation.clock.advance(60)
        uri = await post(instance, name, text, self.maths, in_reply_to)
        await self.federation.settle()
        return uri

    async def accepted(self, uri: str) -> bool:
        """Whether the community on a.test took the post (a post may name a community that refused it)."""
        row = await self.a.services.db.fetchone("SELECT 1 FROM community_posts WHERE object_uri = ?", (uri,))
        return row is not None

    def relayed_to_b(self, uri: str) -> bool:
        """Whether the community announced the post's Create to b.test."""
        for r in self.federation.network.sent_to("b.test", "POST", "/inbox"):
            doc = orjson.loads(r.body)
            inner = doc.get("object")
            if doc.get("type") == "Announce" and doc.get("actor") == self.maths and isinstance(inner, dict):
                obj = inner.get("object")
                if (obj.get("id") if isinstance(obj, dict) else obj) == uri:
                    return True
        return False

    def received_by_cat(self, kind: str) -> list[dict[str, Any]]:
        return [doc for r in self.cat.server.received if (doc := r.json()).get("type") == kind]


async def join(federation: Federation, membership: Membership = "open", restricted: bool = False) -> Scene:
    """a.test with ada (moderator) and the community maths; bea on b.test and cat on c.test ask to join."""
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await a.add_member("ada")
    await b.add_member("bea")
    maths = await add_community(a, "maths", "ada", membership=membership, restricted=restricted)
    cat = remote_actor(federation, "c.test", "cat")
    await c2s(b, "bea", {"type": "Follow", "object": maths})
    r = await cat.post(federation.network, "http://a.test/users/maths/inbox", cat.follow(maths))
    assert r.status_code == 202, r.text
    await federation.settle()
    return Scene(federation, a, b, cat, maths, b.services.uris.actor("bea"))


async def stored(instance: Instance, uri: str) -> StoredNote:
    note = await get_note(instance.services.db, uri)
    assert note is not None, f"{uri} is not stored on {instance.host}"
    return note


async def context_items(federation: Federation, url: str) -> list[str]:
    """Every item of a context collection, fetched over the network as any server would."""
    async with httpx.AsyncClient(transport=federation.network) as client:
        doc = (await client.get(url, headers={"Accept": AP})).json()
        assert doc["type"] == "OrderedCollection"
        items: list[str] = []
        page = doc["first"]
        while True:
            items += page["orderedItems"]
            if "next" not in page:
                return items
            page = (await client.get(page["next"], headers={"Accept": AP})).json()


async def local(instance: Instance, name: str) -> LocalActor:
    actor = await get_actor(instance.services.db, name)
    assert actor is not None
    return actor
