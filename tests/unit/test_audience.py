"""Audience resolution: followers expand to inboxes (sharedInbox once), blocked and own hosts dropped,
local recipients split off, bto/bcc used but never delivered."""

from __future__ import annotations

import orjson

from fediverse_learn.converters import RemoteActor
from fediverse_learn.store.actors import LocalActor, get_actor
from fediverse_learn.store.domains import set_rule
from fediverse_learn.store.follows import set_follow
from fediverse_learn.store.remote import save_remote_actor
from fediverse_learn.vocab import PUBLIC
from outbox.audience import resolve_audience, without_private_fields
from outbox.publish import publish
from tests.support.instances import Federation, Instance

FOLLOWERS = "http://a.test/users/ada/followers"


def _remote(uri: str, shared_inbox: str | None) -> RemoteActor:
    host = uri.split("/")[2]
    return RemoteActor(
        uri=uri, type="Person", username=uri.rsplit("/", 1)[1], domain=host, name="", summary_html="", url=None,
        inbox=f"{uri}/inbox", shared_inbox=shared_inbox, outbox=None, followers=f"{uri}/followers", following=None,
        featured=None, keys=(), manually_approves_followers=False, discoverable=True, indexable=True, bot=False,
        also_known_as=(), moved_to=None, published=None, icon_url=None, header_url=None,
        posting_restricted_to_mods=False, moderators=None,
    )


async def _instance(federation: Federation) -> Instance:
    """a.test with ada (followed by two on m.test sharing an inbox, one on solo.test without one, one on
    blocked.test, and cy on a.test) and dan on a.test (not following)."""
    a = await federation.add("a.test")
    await a.add_member("ada")
    await a.add_member("cy")
    await a.add_member("dan")
    now = a.services.clock.time()
    followers = [
        _remote("http://m.test/users/one", "http://m.test/inbox"),
        _remote("http://m.test/users/two", "http://m.test/inbox"),
        _remote("http://solo.test/users/three", None),
        _remote("http://blocked.test/users/four", "http://blocked.test/inbox"),
    ]
    for actor in followers:
        await save_remote_actor(a.services.db, actor, now)
    await save_remote_actor(a.services.db, _remote("http://far.test/users/eve", "http://far.test/inbox"), now)
    async with a.services.db.transaction() as tx:
        for uri in [f.uri for f in followers] + ["http://a.test/users/cy"]:
            await set_follow(tx, uri, "http://a.test/users/ada", "accepted", None, now)
        await set_follow(tx, "http://far.test/users/eve", "http://a.test/users/ada", "pending", None, now)
    await set_rule(a.services.db, "blocked.test", "block", now)
    a.services.forget_domain_rules()
    return a


async def _ada(a: Instance) -> LocalActor:
    ada = await get_actor(a.services.db, "ada")
    assert ada is not None
    return ada


async def test_followers_expand_to_deduplicated_inboxes_and_local_names(federation: Federation) -> None:
    a = await _instance(federation)
    activity = {"id": "http://a.test/users/ada/activities/1", "type": "Create", "to": [PUBLIC], "cc": [FOLLOWERS]}
    audience = await resolve_audience(a.services, await _ada(a), activity)
    assert sorted(audience.inboxes) == ["http://m.test/inbox", "http://solo.test/users/three/inbox"]
    assert audience.local == ("cy",)


async def test_addressed_actors_and_objects_addressing_count(federation: Federation) -> None:
    a = await _instance(federation)
    activity = {"type": "Create", "to": ["as:Public"], "object": {
        "type": "Note", "cc": ["http://far.test/users/eve", "http://a.test/users/dan", "http://m.test/users/one"]}}
    audience = await resolve_audience(a.services, await _ada(a), activity)
    assert sorted(audience.inboxes) == ["http://far.test/inbox", "http://m.test/inbox"]
    assert audience.local == ("dan",)


async def test_blocked_own_and_unknown_addressees_are_dropped(federation: Federation) -> None:
    a = await _instance(federation)
    activity = {"type": "Like", "to": ["http://blocked.test/users/four", "http://a.test/users/ada",
                                       "http://a.test/users/nobody", "http://a.test/users/cy/followers"]}
    extra = ["http://blocked.test/inbox", "http://a.test/inbox", "http://a.test/users/dan/inbox"]
    audience = await resolve_audience(a.services, await _ada(a), activity, extra)
    assert audience.inboxes == ()
    assert audience.local == ("dan",)


async def test_bto_and_bcc_are_used_then_stripped(federation: Federation) -> None:
    a = await _instance(federation)
    ada = await _ada(a)
    activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": "http://a.test/users/ada/activities/7",
                "type": "Like", "actor": "http://a.test/users/ada", "object": "http://far.test/notes/1",
                "bto": ["http://far.test/users/eve"], "bcc": ["http://a.test/users/dan"]}
    audience = await resolve_audience(a.services, ada, activity)
    assert audience.inboxes == ("http://far.test/inbox",) and audience.local == ("dan",)
    assert "bto" not in without_private_fields(activity) and "bcc" not in without_private_fields(activity)
    await publish(a.services, ada, activity)
    bodies = [orjson.loads(r["body"]) for r in await a.services.db.fetchall("SELECT body FROM deliveries")]
    bodies += [orjson.loads(r["body"]) for r in await a.services.db.fetchall("SELECT body FROM inbox_queue")]
    stored = orjson.loads(await a.services.db.fetchval("SELECT document FROM activities"))
    assert len(bodies) == 2
    for doc in (*bodies, stored):
        assert "bto" not in doc and "bcc" not in doc and doc["id"] == activity["id"]
