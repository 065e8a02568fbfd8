"""Federation policy at every door, with three instances: a.test (the policy), b.test (a partner), c.test
(blocked, or not on the allowlist).

c.test is a real instance: its member's activities are built by its own composer and POSTed signed with
its own key, so a.test could fetch that key if it wanted to; the tests check that it never does.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from fediverse_learn.errors import DomainBlocked, HTTPStatusError
from fediverse_learn.moderation import allow_domain, block_domain, disallow_domain
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.follows import get_follow, list_followers
from fediverse_learn.store.objects import get_note
from fediverse_learn.vocab import PUBLIC
from outbox.compose import build_note, create_activity, follow_activity
from tests.federation.test_flows import c2s, follow, get_ap, post_note, posts_of, stored
from tests.support.instances import Federation, Instance

AP = "application/activity+json"


# --- helpers ------------------------------------------------------------------------------------------

async def send_as(sender: Instance, name: str, url: str, activity: dict[str, Any]) -> int:
    """POST an activity of `name` on `sender` straight to `url`, signed with that member's key."""
    actor = await get_actor(sender.services.db, name)
    assert actor is not None
    response = await sender.services.http.post(url, orjson.dumps(activity), AP, sender.services.signer_for(actor))
    return response.status_code


async def key_fetch_status(fetcher: Instance, url: str) -> int:
    """GET `url` signed by `fetcher`'s instance actor, as a server fetching a key does."""
    signer = fetcher.services.signer_for(fetcher.services.instance)
    try:
        await fetcher.services.http.fetch_activitypub(url, signer)
    except HTTPStatusError as exc:
        return exc.status
    return 200


async def traces(instance: Instance, host: str) -> dict[str, int]:
    """How many rows of `instance`'s store name something on `host`."""
    like = f"http://{host}/%"
    queries = {
        "remote_actors": "SELECT count(*) FROM remote_actors WHERE uri LIKE ?",
        "remote_keys": "SELECT count(*) FROM remote_keys WHERE owner_uri LIKE ?",
        "objects": "SELECT count(*) FROM objects WHERE author_uri LIKE ?",
        "follows": "SELECT count(*) FROM follows WHERE follower_uri LIKE ?1 OR followee_uri LIKE ?1",
        "reactions": "SELECT count(*) FROM reactions WHERE actor_uri LIKE ?",
        "inbox_queue": "SELECT count(*) FROM inbox_queue WHERE actor_uri LIKE ?",
    }
    return {table: int(await instance.services.db.fetchval(sql, (like,))) for table, sql in queries.items()}


NOTHING = {"remote_actors": 0, "remote_keys": 0, "objects": 0, "follows": 0, "reactions": 0, "inbox_queue": 0}


def requests_to(federation: Federation, host: str, since: int = 0) -> list[str]:
    return [f"{r.method} {r.url}" for r in federation.network.requests[since:]
            if httpx.URL(r.url).netloc.decode() == host]


async def three_instances(federation: Federation, mode: str = "blocklist") -> tuple[Instance, Instance, Instance]:
    a = await federation.add("a.test", mode=mode)
    b = await federation.add("b.test")
    c = await federation.add("c.test")
    await a.add_member("ada")
    await b.add_member("bea")
    await c.add_member("carl")
    return a, b, c


async def assert_refused_at_every_door(federation: Federation, a: Instance, c: Instance, note_uri: str) -> None:
    """c.test's Follow, post, reply and key fetch are refused, nothing is fetched from it, nothing stored."""
    since = len(federation.network.requests)
    ada = a.services.uris.actor("ada")
    carl = await get_actor(c.services.db, "carl")
    assert carl is not None
    # When carl follows ada, posts to ada's server and replies to ada's note, each signed with carl's key
    post = build_note(c.services, carl, content_html="<p>Hello a.test</p>", visibility="public")
    reply = build_note(c.services, carl, content_html="<p>A reply</p>", visibility="public", in_reply_to=note_uri)
    statuses = [
        await send_as(c, "carl", f"{ada}/inbox", follow_activity(c.services, carl, ada)),
        await send_as(c, "carl", f"{a.base}/inbox", create_activity(c.services, carl, post)),
        await send_as(c, "carl", f"{ada}/inbox", create_activity(c.services, carl, reply)),
        # and c.test's instance actor fetches ada's key (her actor document), signed
        await key_fetch_status(c, ada),
    ]
    await federation.settle()
    # Then every door answered 403
    assert statuses == [403, 403, 403, 403]
    # And a.test fetched nothing from c.test (no key fetch, no actor fetch), and stored nothing of it
    assert requests_to(federation, "c.test", since) == []
    assert await traces(a, "c.test") == NOTHING
    # When ada mentions carl and addresses him directly
    mention = await c2s(a, "ada", {"type": "Note", "content": "<p>Hi @carl@c.test</p>", "to": [PUBLIC],
                                   "cc": [c.services.uris.actor("carl")]})
    await federation.settle()
    # Then nothing was resolved on or delivered to c.test, and the note was not refused on a.test
    assert requests_to(federation, "c.test", since) == []
    assert mention["object"]["id"].startswith(a.base)
    # And the instance actor's key stays fetchable, even by c.test
    assert await key_fetch_status(c, a.services.uris.instance_actor()) == 200


async def assert_partner_keeps_working(federation: Federation, a: Instance, b: Instance) -> None:
    """b.test's member follows ada, gets her note, replies; the reply threads on a.test."""
    note = await post_note(a, "ada", "Partners still get this")
    await federation.settle()
    assert len(posts_of(federation, "b.test", note["id"])) == 1
    reply = await c2s(b, "bea", {"type": "Note", "content": "<p>Thanks!</p>", "inReplyTo": note["object"]["id"],
                                 "to": [PUBLIC]})
    await federation.settle()
    assert (await stored(a, reply["object"]["id"])).in_reply_to_uri == note["object"]["id"]


# --- blocklist mode -------------------------------------------------------------------------------------

async def test_blocked_server_is_refused_at_every_door_and_partner_keeps_working(federation: Federation) -> None:
    # Given a.test in blocklist mode (the default), followed from b.test, with c.test suspended
    a, b, c = await three_instances(federation)
    ada = a.services.uris.actor("ada")
    await follow(b, "bea", ada)
    await federation.settle()
    await block_domain(a.services, "c.test", severity="suspend")
    note_uri = (await post_note(a, "ada", "What is a prime?"))["object"]["id"]
    await federation.settle()
    # Then c.test is refused at every door, and b.test keeps working
    await assert_refused_at_every_door(federation, a, c, note_uri)
    await assert_partner_keeps_working(federation, a, b)


async def test_suspending_a_known_server_severs_follows_purges_content_and_stops_delivery(
        federation: Federation) -> None:
    # Given carl (c.test) and ada (a.test) follow each other, ada has a follower on b.test, a.test stored
    # carl's note and a Like of ada's note by carl
    a, b, c = await three_instances(federation)
    ada, carl = a.services.uris.actor("ada"), c.services.uris.actor("carl")
    await follow(b, "bea", ada)
    await follow(c, "carl", ada)
    await follow(a, "ada", carl)
    await federation.settle()
    ada_note = (await post_note(a, "ada", "Fractions"))["object"]["id"]
    carl_note = (await post_note(c, "carl", "Decimals"))["object"]["id"]
    await federation.settle()
    await c2s(c, "carl", {"type": "Like", "object": ada_note})
    await federation.settle()
    await stored(a, carl_note)
    assert (await traces(a, "c.test"))["reactions"] == 1
    # And a delivery to c.test waits for a retry (c.test answered 503)
    federation.network.fail("c.test", 503)
    pending = await post_note(a, "ada", "Waiting for c.test")
    await federation.settle()
    federation.network.heal("c.test")
    # When a.test suspends c.test
    purged = await block_domain(a.services, "c.test", severity="suspend")
    since = len(federation.network.requests)
    # Then the follows both ways, carl's note and like and the cached actors and keys of c.test are gone
    assert purged is not None and (purged.follows, purged.notes, purged.reactions) == (2, 1, 1)
    assert purged.queued_out == 1
    assert await traces(a, "c.test") == NOTHING
    assert await get_note(a.services.db, carl_note) is None
    assert await get_follow(a.services.db, carl, ada) is None and await get_follow(a.services.db, ada, carl) is None
    # And the waiting delivery is never sent, nor anything ada posts later; b.test still gets her notes
    later = await post_note(a, "ada", "After the block")
    federation.clock.advance(3600)
    await federation.settle()
    assert posts_of(federation, "c.test", pending["id"], ok_only=False)[-1].status == 503
    assert requests_to(federation, "c.test", since) == []
    assert len(posts_of(federation, "b.test", later["id"])) == 1
    # And c.test was told nothing (Mastodon severs silently on suspension): carl still thinks he follows ada
    assert (await get_follow(c.services.db, carl, ada)) is not None


async def test_block_covers_subdomains_and_every_port(federation: Federation) -> None:
    # Given a.test blocks c.test, and servers on a subdomain and on another port of it
    a = await federation.add("a.test")
    await a.add_member("ada")
    await block_domain(a.services, "c.test")
    sub = await federation.add("social.c.test")
    port = await federation.add("c.test:8443")
    for instance in (sub, port):
        await instance.add_member("carl")
        carl = await get_actor(instance.services.db, "carl")
        assert carl is not None
        activity = follow_activity(instance.services, carl, a.services.uris.actor("ada"))
        # When each sends a Follow, Then it is refused before any key fetch
        assert await send_as(instance, "carl", f"{a.base}/users/ada/inbox", activity) == 403
    assert requests_to(federation, "social.c.test") == [] and requests_to(federation, "c.test:8443") == []
    # And a.test does not resolve their members either
    with pytest.raises(DomainBlocked):
        await a.services.resolver.actor_by_handle("carl@social.c.test")


async def test_silenced_server_still_federates(federation: Federation) -> None:
    # Given a.test silences c.test (limit) with reject_media
    a, _, c = await three_instances(federation)
    await block_domain(a.services, "c.test", severity="silence", reject_media=True)
    # When carl follows ada
    await follow(c, "carl", a.services.uris.actor("ada"))
    await federation.settle()
    # Then the follow is accepted, and the silence and media rejection are recorded for the timelines
    assert await list_followers(a.services.db, a.services.uris.actor("ada")) == [c.services.uris.actor("carl")]
    rules = await a.services.domain_rules()
    assert rules.allows("c.test") and rules.silences("c.test") and rules.rejects_media("c.test")
    assert not rules.silences("b.test")


# --- allowlist mode -------------------------------------------------------------------------------------

async def test_allowlist_refuses_unlisted_server_at_every_door_and_partner_keeps_working(
        federation: Federation) -> None:
    # Given a.test in allowlist mode, allowing b.test only
    a, b, c = await three_instances(federation, mode="allowlist")
    await allow_domain(a.services, "b.test")
    # And bea on b.test follows ada (b.test fetches ada's actor signed; a.test fetches bea's key)
    await follow(b, "bea", a.services.uris.actor("ada"))
    await federation.settle()
    assert (await get_follow(b.services.db, b.services.uris.actor("bea"), a.services.uris.actor("ada"))
            ).state == "accepted"  # type: ignore[union-attr]
    note_uri = (await post_note(a, "ada", "Only for partners"))["object"]["id"]
    await federation.settle()
    # Then c.test is refused at every door, and b.test keeps working
    await assert_refused_at_every_door(federation, a, c, note_uri)
    await assert_partner_keeps_working(federation, a, b)


async def test_allowlist_still_serves_webfinger_public_pages_and_instance_key(federation: Federation) -> None:
    # Given a.test in allowlist mode, allowing b.test
    a, b, c = await three_instances(federation, mode="allowlist")
    await allow_domain(a.services, "b.test")
    note = await post_note(a, "ada", "Public learning note")
    # When b.test resolves ada by her handle (WebFinger, then a signed fetch of her actor)
    found = await b.services.resolver.actor_by_handle("ada@a.test")
    # Then it gets her actor, keys included
    assert found.uri == a.services.uris.actor("ada") and found.keys
    # And WebFinger, the profile page and the note page are served to anyone
    assert (await a.client.get("/.well-known/webfinger", params={"resource": "acct:ada@a.test"})).status_code == 200
    profile = await a.client.get("/@ada", headers={"Accept": "text/html"})
    assert profile.status_code == 200 and "text/html" in profile.headers["content-type"]
    page = await a.client.get(note["object"]["url"], headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert (await get_ap(a, note["object"]["id"])).status_code == 200
    # And the instance actor's key can be fetched, unsigned or signed by a server not on the list
    instance_doc = (await get_ap(a, a.services.uris.instance_actor())).json()
    assert instance_doc["publicKey"]["id"] == a.services.uris.instance_key_id()
    assert await key_fetch_status(c, a.services.uris.instance_actor()) == 200


async def test_allowlist_covers_subdomains_and_a_block_beats_an_allow(federation: Federation) -> None:
    a = await federation.add("a.test", mode="allowlist")
    await allow_domain(a.services, "partner.test")
    await block_domain(a.services, "bad.partner.test")
    rules = await a.services.domain_rules()
    assert rules.allows("partner.test") and rules.allows("school.partner.test:8443")
    assert not rules.allows("bad.partner.test") and not rules.allows("x.bad.partner.test")
    assert not rules.allows("c.test") and not rules.allows("notpartner.test")


async def test_disallowing_a_partner_purges_it_but_spares_a_domain_still_allowed(federation: Federation) -> None:
    # Given a.test in allowlist mode allows b.test and, on its own, sub.b.test; both follow ada; bea posted
    a, b, _ = await three_instances(federation, mode="allowlist")
    sub = await federation.add("sub.b.test")
    await sub.add_member("sam")
    await allow_domain(a.services, "b.test")
    await allow_domain(a.services, "sub.b.test")
    ada = a.services.uris.actor("ada")
    await follow(b, "bea", ada)
    await follow(sub, "sam", ada)
    await follow(a, "ada", b.services.uris.actor("bea"))
    await federation.settle()
    await post_note(b, "bea", "Shared notes")
    await federation.settle()
    assert (await traces(a, "b.test"))["objects"] == 1
    # When b.test is no longer allowed
    purged = await disallow_domain(a.services, "b.test")
    # Then everything of b.test is gone from a.test, sub.b.test is spared, and b.test is refused from now on
    assert purged is not None and purged.follows == 2
    assert await traces(a, "b.test") == NOTHING
    assert await list_followers(a.services.db, ada) == [sub.services.uris.actor("sam")]
    bea = await get_actor(b.services.db, "bea")
    assert bea is not None
    assert await send_as(b, "bea", f"{ada}/inbox", follow_activity(b.services, bea, ada)) == 403
