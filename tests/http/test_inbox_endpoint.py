"""The inbox endpoints over HTTP: Mastodon-shaped signed deliveries are queued once; malformed bodies refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

import inbox.endpoint
from fediverse_learn.store.actors import create_actor
from tests.support.instances import Federation, Instance
from tests.support.remote import RemoteActorFixture, key_pair_for, remote_actor

INBOX = "http://a.test/users/ada/inbox"
SHARED = "http://a.test/inbox"


@dataclass
class Scene:
    a: Instance
    bea: RemoteActorFixture     # a Mastodon user on mastodon.test

    async def rows(self) -> list[tuple[str, str, str | None, str]]:
        found = await self.a.services.db.fetchall(
            "SELECT activity_id, actor_uri, recipient, state FROM inbox_queue ORDER BY id")
        return [(r[0], r[1], r[2], r[3]) for r in found]

    async def post_raw(self, body: bytes, content_type: str = "application/activity+json",
                       url: str = INBOX) -> httpx.Response:
        return await self.bea.post(self.a.client, url, None, body=body, content_type=content_type)


@pytest.fixture
async def scene(federation: Federation) -> AsyncIterator[Scene]:
    a = await federation.add("a.test")
    await create_actor(a.services.db, name="ada", kind="person", keys=key_pair_for("local ada"),
                       now=federation.clock.time())
    yield Scene(a, remote_actor(federation, "mastodon.test", "bea"))


async def test_signed_follow_to_personal_inbox_is_queued_once(scene: Scene) -> None:
    # Given a Follow from a Mastodon user, signed as Mastodon signs it
    follow = scene.bea.follow("http://a.test/users/ada")
    kicked: list[str] = []
    scene.a.services.kick = kicked.append
    # When it is delivered to ada's inbox
    r = await scene.bea.post(scene.a.client, INBOX, follow)
    # Then it is accepted with an empty body, stored once for ada, and the inbox worker woken
    assert r.status_code == 202
    assert r.content == b""
    assert await scene.rows() == [(follow["id"], scene.bea.uri, "ada", "queued")]
    assert kicked == ["inbox"]


async def test_signed_follow_to_shared_inbox_is_queued_without_recipient(scene: Scene) -> None:
    follow = scene.bea.follow("http://a.test/users/ada")
    r = await scene.bea.post(scene.a.client, SHARED, follow)
    assert r.status_code == 202
    assert await scene.rows() == [(follow["id"], scene.bea.uri, None, "queued")]


async def test_signed_activity_to_instance_actor_inbox_is_queued_for_it(scene: Scene) -> None:
    follow = scene.bea.follow("http://a.test/actor")
    r = await scene.bea.post(scene.a.client, "http://a.test/actor/inbox", follow)
    assert r.status_code == 202
    assert await scene.rows() == [(follow["id"], scene.bea.uri, "instance.actor", "queued")]


async def test_redelivery_is_accepted_and_stored_once(scene: Scene) -> None:
    # Given a Follow already received
    follow = scene.bea.follow("http://a.test/users/ada")
    assert (await scene.bea.post(scene.a.client, INBOX, follow)).status_code == 202
    kicked: list[str] = []
    scene.a.services.kick = kicked.append
    # When the sender delivers it again, to the same and to the shared inbox
    again = await scene.bea.post(scene.a.client, INBOX, follow)
    shared = await scene.bea.post(scene.a.client, SHARED, follow)
    # Then both are 202 and there is still exactly one row; no worker is woken for nothing
    assert again.status_code == shared.status_code == 202
    assert len(await scene.rows()) == 1
    assert kicked == []


async def test_ld_json_and_plain_json_content_types_are_accepted(scene: Scene) -> None:
    for content_type in ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                         "application/json; charset=utf-8"):
        follow = scene.bea.follow("http://a.test/users/ada")
        r = await scene.bea.post(scene.a.client, INBOX, follow, content_type=content_type)
        assert r.status_code == 202, r.text
    assert len(await scene.rows()) == 2


async def test_unknown_local_inbox_is_404(scene: Scene) -> None:
    follow = scene.bea.follow("http://a.test/users/nobody")
    for path in ("/users/nobody/inbox", "/users/instance.actor/inbox"):
        r = await scene.bea.post(scene.a.client, f"http://a.test{path}", follow)
        assert r.status_code == 404
        assert r.json() == {"error": "no such inbox"}
    assert await scene.rows() == []


async def test_wrong_content_type_is_415(scene: Scene) -> None:
    follow = scene.bea.follow("http://a.test/users/ada")
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        r = await scene.bea.post(scene.a.client, INBOX, follow, content_type=content_type)
        assert r.status_code == 415
        assert "is not application/activity+json" in r.json()["error"]
    assert await scene.rows() == []


async def test_compressed_body_is_415(scene: Scene) -> None:
    follow = scene.bea.follow("http://a.test/users/ada")
    r = await scene.bea.post(scene.a.client, INBOX, follow, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 415
    assert "Content-Encoding" in r.json()["error"]
    assert await scene.rows() == []


async def test_oversize_body_by_content_length_is_413(scene: Scene) -> None:
    cap = scene.a.services.config.federation.max_body_bytes
    body = b'{"id": "' + b"x" * cap + b'"}'
    r = await scene.post_raw(body)
    assert r.status_code == 413
    assert f"Content-Length {len(body)} exceeds {cap} bytes" in r.json()["error"]
    assert await scene.rows() == []


async def test_oversize_body_streamed_in_chunks_is_413(scene: Scene) -> None:
    # Given a sender that streams its body without a Content-Length
    cap = scene.a.services.config.federation.max_body_bytes
    chunk = b" " * 65536
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(cap // len(chunk) + 4):
            sent.append(len(chunk))
            yield chunk

    headers = scene.bea.sign(INBOX, b"{}")
    # When it is posted
    r = await scene.a.client.post(INBOX, content=chunks(), headers=headers)
    # Then it is refused as too large, before anything is parsed or verified
    assert "content-length" not in r.request.headers
    assert r.status_code == 413
    assert r.json() == {"error": f"the body exceeds {cap} bytes"}
    assert await scene.rows() == []


async def test_malformed_json_is_400(scene: Scene) -> None:
    r = await scene.post_raw(b'{"id": "https://mastodon.test/1", "type": ')
    assert r.status_code == 400
    assert r.json()["error"].startswith("the body is not valid JSON")
    assert await scene.rows() == []


@pytest.mark.parametrize("body", [b"[]", b'[{"type": "Follow"}]', b'"Follow"', b"42", b"null"])
async def test_json_that_is_not_an_object_is_400(scene: Scene, body: bytes) -> None:
    r = await scene.post_raw(body)
    assert r.status_code == 400
    assert r.json() == {"error": "the body is not a JSON object"}
    assert await scene.rows() == []


async def test_ten_thousand_levels_of_nesting_is_400_without_crash(scene: Scene) -> None:
    for body in (b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        r = await scene.post_raw(body)
        assert r.status_code == 400
        assert "depth limit exceeded" in r.json()["error"]
    assert await scene.rows() == []


async def test_nesting_past_the_limit_is_400(scene: Scene) -> None:
    follow = scene.bea.follow("http://a.test/users/ada")
    deep: object = "x"
    for _ in range(40):
        deep = {"x": deep}
    r = await scene.bea.post(scene.a.client, INBOX, {**follow, "extra": deep})
    assert r.status_code == 400
    assert r.json() == {"error": "the activity nests deeper than 32 levels"}
    assert await scene.rows() == []


@pytest.mark.parametrize(("missing", "reason"), [
    ("id", "the activity has no id that is an absolute http(s) URL"),
    ("type", "the activity has no type"),
    ("actor", "the activity has no actor that is an absolute http(s) URL"),
])
async def test_missing_id_type_or_actor_is_400(scene: Scene, missing: str, reason: str) -> None:
    follow = scene.bea.follow("http://a.test/users/ada")
    del follow[missing]
    r = await scene.bea.post(scene.a.client, INBOX, follow)
    assert r.status_code == 400
    assert r.json() == {"error": reason}
    assert await scene.rows() == []


async def test_queue_above_high_water_is_503_with_retry_after(
    scene: Scene, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a queue already holding more than the high-water mark
    monkeypatch.setattr(inbox.endpoint, "QUEUE_HIGH_WATER", 2)
    for _ in range(3):
        assert (await scene.bea.post(scene.a.client, INBOX, scene.bea.follow("http://a.test/users/ada"))
                ).status_code == 202
    # When another activity arrives
    r = await scene.bea.post(scene.a.client, INBOX, scene.bea.follow("http://a.test/users/ada"))
    # Then the sender is told to come back later, and nothing more is stored
    assert r.status_code == 503
    assert r.headers["retry-after"] == str(inbox.endpoint.RETRY_AFTER)
    assert "queue is full" in r.json()["error"]
    assert len(await scene.rows()) == 3


async def test_get_on_inbox_is_405(scene: Scene) -> None:
    r = await scene.a.client.get("/users/ada/inbox")
    assert r.status_code == 405
