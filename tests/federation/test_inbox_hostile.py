"""Hostile deliveries to the inbox, one per class: each is refused with its status and reason, nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import orjson
import pytest

from fediverse_learn.store.actors import create_actor
from fediverse_learn.store.domains import set_rule
from tests.support.instances import Federation, Instance
from tests.support.network import Network
from tests.support.remote import RemoteActorFixture, key_pair_for, remote_actor

INBOX = "http://a.test/users/ada/inbox"
ADA = "http://a.test/users/ada"


@dataclass
class Scene:
    federation: Federation
    a: Instance
    bea: RemoteActorFixture        # the actor the activities claim
    mallory: RemoteActorFixture    # another actor on the same Mastodon server

    @property
    def network(self) -> Network:
        return self.federation.network

    async def stored(self) -> int:
        return int(await self.a.services.db.fetchval("SELECT count(*) FROM inbox_queue"))

    def key_fetches(self) -> list[str]:
        return [r.url for r in self.network.sent_to("mastodon.test", "GET")]


@pytest.fixture
async def scene(federation: Federation) -> AsyncIterator[Scene]:
    a = await federation.add("a.test")
    await create_actor(a.services.db, name="ada", kind="person", keys=key_pair_for("local ada"),
                       now=federation.clock.time())
    bea = remote_actor(federation, "mastodon.test", "bea")
    yield Scene(federation, a, bea, remote_actor(federation, "mastodon.test", "mallory"))


def refused(r: httpx.Response, status: int, words: str) -> bool:
    return r.status_code == status and words in r.json()["error"]


async def test_unsigned_post_is_401(scene: Scene) -> None:
    r = await scene.a.client.post(INBOX, content=b'{"id": "https://mastodon.test/1", "type": "Follow", '
                                  b'"actor": "https://mastodon.test/users/bea", "object": "http://a.test/users/ada"}',
                                  headers={"Content-Type": "application/activity+json"})
    assert refused(r, 401, "Request not signed")
    assert await scene.stored() == 0
    assert scene.key_fetches() == []


async def test_tampered_signature_is_401(scene: Scene) -> None:
    body = orjson.dumps(scene.bea.follow(ADA))
    headers = scene.bea.sign(INBOX, body)
    headers["Signature"] = headers["Signature"].replace('signature="', 'signature="AAAA')
    r = await scene.a.client.post(INBOX, content=body, headers=headers)
    assert refused(r, 401, "signature does not verify")
    assert await scene.stored() == 0


async def test_expired_signature_is_401(scene: Scene) -> None:
    three_hours_ago = scene.federation.clock.now() - timedelta(hours=3)
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.follow(ADA), now=three_hours_ago)
    assert refused(r, 401, "outside acceptable time window")
    assert await scene.stored() == 0


async def test_signature_from_the_future_is_401(scene: Scene) -> None:
    later = scene.federation.clock.now() + timedelta(hours=2)
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.follow(ADA), now=later)
    assert refused(r, 401, "outside acceptable time window")
    assert await scene.stored() == 0


async def test_activity_signed_by_another_actor_is_401_signer_does_not_match(scene: Scene) -> None:
    # Given mallory signs, with her own valid key, a Follow that claims to be bea's
    follow = scene.bea.follow(ADA)
    # When it is delivered
    r = await scene.mallory.post(scene.a.client, INBOX, follow)
    # Then it is refused before any side effect: the signer is not the actor (SECURITY.md b.5 rule 1)
    assert refused(r, 401, f"signer does not match actor: signed by {scene.mallory.uri}")
    assert await scene.stored() == 0


async def test_bea_key_id_with_another_private_key_is_401(scene: Scene) -> None:
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.follow(ADA), private_key=scene.mallory.private_key)
    assert refused(r, 401, "signature does not verify")
    assert await scene.stored() == 0


async def test_body_that_does_not_match_its_digest_is_401(scene: Scene) -> None:
    # Given a validly signed Follow whose body is swapped for another activity after signing
    signed_body = b'{"id": "https://mastodon.test/1", "type": "Like"}'
    headers = scene.bea.sign(INBOX, signed_body)
    swapped = scene.bea.follow(ADA)
    # When the swapped body is delivered with the original headers
    r = await scene.a.client.post(INBOX, content=orjson.dumps(swapped), headers=headers)
    # Then the digest check refuses it
    assert refused(r, 401, "Invalid Digest value")
    assert await scene.stored() == 0


async def test_request_signed_for_another_server_is_401(scene: Scene) -> None:
    # A delivery signed for b.test replayed to a.test: the signed Host is not ours
    body = orjson.dumps(scene.bea.follow(ADA))
    headers = scene.bea.sign("http://b.test/users/ada/inbox", body)
    r = await scene.a.client.post(INBOX, content=body, headers=headers)
    assert r.status_code == 401
    assert "b.test" in r.json()["error"]
    assert await scene.stored() == 0


async def test_blocked_signer_domain_is_403_without_fetching_the_key(scene: Scene) -> None:
    # Given a.test blocks mastodon.test
    await set_rule(scene.a.services.db, "mastodon.test", "block", scene.federation.clock.time())
    scene.a.services.forget_domain_rules()
    # When bea delivers a validly signed Follow
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.follow(ADA))
    # Then it is refused as blocked, and mastodon.test was never contacted
    assert refused(r, 403, "mastodon.test is blocked")
    assert scene.key_fetches() == []
    assert await scene.stored() == 0


async def test_key_server_down_is_503_and_a_later_delivery_succeeds(scene: Scene) -> None:
    # Given mastodon.test answers 503 to every GET (its key cannot be fetched)
    scene.network.fail("mastodon.test", 503, only=lambda request: request.method == "GET")
    follow = scene.bea.follow(ADA)
    # When bea delivers a Follow
    r = await scene.bea.post(scene.a.client, INBOX, follow)
    # Then the sender is told to retry, and nothing is stored
    assert refused(r, 503, "Unable to fetch key JSON")
    assert r.headers["retry-after"]
    assert await scene.stored() == 0
    # And when the key server is back and the sender retries later, the delivery is accepted
    scene.network.heal("mastodon.test")
    scene.federation.clock.advance(600)
    assert (await scene.bea.post(scene.a.client, INBOX, follow)).status_code == 202
    assert await scene.stored() == 1


async def test_create_with_object_from_another_origin_is_400(scene: Scene) -> None:
    note = scene.bea.note("Fractions, explained")
    note["id"] = "https://other.test/notes/1"
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.create(note) | {"id": scene.bea.server.new_id()})
    assert refused(r, 400, "the embedded object https://other.test/notes/1 is not on the actor's host")
    assert await scene.stored() == 0


async def test_create_attributed_to_another_actor_is_400(scene: Scene) -> None:
    note = scene.bea.note("Written by mallory, really", attributedTo=scene.mallory.uri)
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.create(note))
    assert refused(r, 400, "not attributed to the actor")
    assert await scene.stored() == 0


async def test_activity_claiming_our_host_is_400(scene: Scene) -> None:
    # Given bea "updates" a note that lives on a.test
    note = scene.bea.note("Now it says what I want", id="http://a.test/users/ada/statuses/1")
    update = scene.bea.activity("Update", note)
    r = await scene.bea.post(scene.a.client, INBOX, update)
    assert refused(r, 400, "claims this server's host a.test")
    assert await scene.stored() == 0


async def test_activity_id_on_another_host_is_400(scene: Scene) -> None:
    follow = scene.bea.follow(ADA) | {"id": "https://other.test/follows/1"}
    r = await scene.bea.post(scene.a.client, INBOX, follow)
    assert refused(r, 400, "the activity id is not on the actor's host mastodon.test")
    assert await scene.stored() == 0


async def test_delete_of_another_actor_is_403(scene: Scene) -> None:
    delete = scene.bea.activity("Delete", {"id": scene.mallory.uri, "type": "Person"})
    r = await scene.bea.post(scene.a.client, INBOX, delete)
    assert refused(r, 403, "an actor may only delete itself")
    assert await scene.stored() == 0


async def test_self_delete_of_gone_account_is_202_and_ignored(scene: Scene) -> None:
    # Given bea's account is gone: her actor and key answer 410
    scene.network.fail("mastodon.test", 410, only=lambda request: request.method == "GET")
    # When her server delivers the account deletion, signed with the key it no longer serves
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.delete_account())
    # Then it is accepted so the sender stops retrying, but nothing is stored
    assert r.status_code == 202
    assert await scene.stored() == 0
    # And any other activity from that account is still refused
    follow = await scene.bea.post(scene.a.client, INBOX, scene.bea.follow(ADA))
    assert refused(follow, 401, "Unable to fetch key JSON")
    assert await scene.stored() == 0


async def test_self_delete_while_key_server_is_down_is_503(scene: Scene) -> None:
    scene.network.fail("mastodon.test", 503, only=lambda request: request.method == "GET")
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.delete_account())
    assert refused(r, 503, "Unable to fetch key JSON")
    assert await scene.stored() == 0
