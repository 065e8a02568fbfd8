"""The delivery worker against recording receivers: signatures, outcomes, retries, limits, host health, crashes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_learn.clock import FakeClock
from fediverse_learn.errors import SignatureError
from fediverse_learn.signatures import load_public_key, read_signature, verify_signature
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.deliveries import claim_deliveries, enqueue_deliveries
from fediverse_learn.store.domains import set_rule
from fediverse_learn.store.hosts import (
    FAILURE_DAYS_THRESHOLD,
    get_host_health,
    mark_host_available,
    unavailable_hosts,
)
from outbox.delivery import AP_CONTENT_TYPE, DeliveryWorker
from outbox.retry import BREAKER_THRESHOLD
from tests.support.instances import Federation, Instance

DAY = 86_400.0
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


@dataclass
class Flight:
    """In-flight requests, shared by receivers to measure a limit. With `hold_at`, requests wait at a gate
    that the test opens once `hold_at` of them are in flight together (`reached`)."""

    hold_at: int | None = None
    current: int = 0
    most: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def open_when_reached(self) -> None:
        await self.reached.wait()
        self.gate.set()


@dataclass
class Receiver:
    """A remote inbox that verifies the draft-cavage signature with the sender's key and records the body."""

    host: str
    sender: LocalActor
    key_id: str
    clock: FakeClock
    flight: Flight = field(default_factory=Flight)
    status: int = 202
    answer: bytes = b""
    on_request: Any = None
    bodies: list[bytes] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [orjson.loads(b)["id"] for b in self.bodies]

    async def inbox(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        self.flight.current += 1
        self.flight.most = max(self.flight.most, self.flight.current)
        try:
            if self.flight.hold_at is not None:
                if self.flight.current >= self.flight.hold_at:
                    self.flight.reached.set()
                await self.flight.gate.wait()
            if self.on_request is not None:
                self.on_request()
            try:
                sig = read_signature("POST", str(request.url), headers, body, self.clock.time())
                verify_signature(sig, load_public_key(self.sender.public_key_pem))
                assert sig.key_id == self.key_id, sig.key_id
                assert {"(request-target)", "host", "date", "digest"} <= set(sig.covered), sig.covered
            except (SignatureError, AssertionError) as exc:
                self.rejected.append(str(exc))
                return Response(status_code=401)
            self.bodies.append(body)
            self.headers.append(headers)
            return Response(self.answer, status_code=self.status)
        finally:
            self.flight.current -= 1

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/inbox", self.inbox, methods=["POST"])])


def add_receiver(federation: Federation, host: str, sender: Instance, actor: LocalActor,
                 flight: Flight | None = None) -> Receiver:
    receiver = Receiver(host=host, sender=actor, key_id=sender.services.uris.key_id(actor.name),
                        clock=federation.clock, flight=flight or Flight())
    federation.network.add(host, receiver.app())
    return receiver


def create_activity(a: Instance, actor: LocalActor, n: int) -> tuple[str, bytes]:
    """A Create(Note) by `actor` on a, as publish would store it."""
    uris = a.services.uris
    note = uris.note(actor.name, 1000 + n)
    uri = uris.activity(actor.name, 1000 + n)
    activity = {
        "@context": AS_CONTEXT,
        "id": uri,
        "type": "Create",
        "actor": uris.actor(actor.name),
        "published": "2026-09-21T12:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [uris.followers(actor.name)],
        "object": {
            "id": note, "type": "Note", "attributedTo": uris.actor(actor.name),
            "content": f"<p>Learning note {n}</p>", "published": "2026-09-21T12:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [uris.followers(actor.name)],
        },
    }
    return uri, orjson.dumps(activity)


async def enqueue(a: Instance, actor: LocalActor, n: int, hosts: list[str]) -> tuple[str, bytes]:
    uri, body = create_activity(a, actor, n)
    async with a.services.db.transaction() as tx:
        await enqueue_deliveries(tx, uri, actor.id, [f"http://{h}/inbox" for h in hosts], body,
                                 a.services.clock.time())
    return uri, body


async def rows(a: Instance) -> list[dict[str, Any]]:
    found = await a.services.db.fetchall(
        "SELECT id, activity_uri, host, state, attempts, next_attempt_at, lease_until, last_error"
        " FROM deliveries ORDER BY id")
    return [dict(r) for r in found]


async def sender(federation: Federation, **config: Any) -> tuple[Instance, LocalActor]:
    a = await federation.add("a.test", **config)
    return a, await a.add_member("ada")


async def test_delivery_posts_activity_signed_with_valid_signature_and_digest(federation: Federation) -> None:
    # Given ada on a.test and one queued Create for r1.test's inbox
    a, ada = await sender(federation)
    r1 = add_receiver(federation, "r1.test", a, ada)
    uri, body = await enqueue(a, ada, 1, ["r1.test"])
    # When a's delivery worker steps
    handled = await DeliveryWorker(a.services).step()
    # Then r1 received the exact body, signed by ada's key (verified against her key in a's database)
    assert handled == 1
    assert r1.rejected == []
    assert r1.bodies == [body]
    headers = r1.headers[0]
    assert headers["content-type"] == AP_CONTENT_TYPE
    assert headers["digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert 'algorithm="rsa-sha256"' in headers["signature"]
    assert headers["date"] == federation.clock.now().strftime("%a, %d %b %Y %H:%M:%S GMT")
    # and the row is done, so the next step has nothing to do
    assert [(r["activity_uri"], r["state"], r["attempts"]) for r in await rows(a)] == [(uri, "done", 1)]
    assert await DeliveryWorker(a.services).step() == 0
    assert len(federation.network.sent_to("r1.test", "POST", "/inbox")) == 1


async def test_delivery_signs_at_send_time_not_enqueue_time(federation: Federation) -> None:
    # Given a row queued an hour before the worker gets to it
    a, ada = await sender(federation)
    r1 = add_receiver(federation, "r1.test", a, ada)
    await enqueue(a, ada, 1, ["r1.test"])
    federation.clock.advance(3600)
    # When it is sent
    await DeliveryWorker(a.services).step()
    # Then its Date is the sending time, so the receiver's time window accepts it
    assert r1.rejected == []
    assert r1.headers[0]["date"] == federation.clock.now().strftime("%a, %d %b %Y %H:%M:%S GMT")


async def test_delivery_reaches_host_exactly_once_after_503_then_connection_error(federation: Federation) -> None:
    a, ada = await sender(federation)
    r1 = add_receiver(federation, "r1.test", a, ada)
    await enqueue(a, ada, 1, ["r1.test"])
    worker = DeliveryWorker(a.services)
    t0 = federation.clock.time()
    # Given r1 answers 503
    federation.network.fail("r1.test", 503)
    # When the worker steps
    assert await worker.step() == 1
    # Then the row is queued again, 15-45 s later (n⁴ + 15 + jitter, n = 0), with the reason
    [row] = await rows(a)
    assert row["state"] == "queued" and row["attempts"] == 1 and row["lease_until"] is None
    assert t0 + 15 <= row["next_attempt_at"] <= t0 + 45
    assert "503" in row["last_error"]
    # and nothing is sent before it is due
    federation.clock.set(row["next_attempt_at"] - 1)
    assert await worker.step() == 0
    # Given r1 now refuses connections
    federation.network.fail("r1.test", None)
    federation.clock.set(row["next_attempt_at"])
    assert await worker.step() == 1
    [row] = await rows(a)
    assert row["state"] == "queued" and row["attempts"] == 2
    assert "FetchError" in row["last_error"]
    # When r1 is back and the retry is due
    federation.network.heal("r1.test")
    federation.clock.set(row["next_attempt_at"])
    assert await worker.step() == 1
    # Then r1 got the note exactly once, after three attempts
    assert len(r1.bodies) == 1 and r1.rejected == []
    assert [r.status for r in federation.network.sent_to("r1.test", "POST", "/inbox")] == [503, None, 202]
    assert [(r["state"], r["attempts"]) for r in await rows(a)] == [("done", 3)]
    federation.clock.advance(DAY)
    assert await worker.step() == 0


@pytest.mark.parametrize("status", [410, 400, 403, 404, 501])
async def test_delivery_drops_at_once_on_unsalvageable_status(federation: Federation, status: int) -> None:
    a, ada = await sender(federation)
    add_receiver(federation, "r1.test", a, ada)
    await enqueue(a, ada, 1, ["r1.test"])
    # Given r1 answers an unsalvageable status
    federation.network.fail("r1.test", status)
    worker = DeliveryWorker(a.services)
    # When the worker steps
    assert await worker.step() == 1
    # Then the row failed with the reason kept, and is never sent again
    [row] = await rows(a)
    assert row["state"] == "failed"
    assert str(status) in row["last_error"]
    federation.network.heal("r1.test")
    federation.clock.advance(DAY)
    assert await worker.step() == 0
    assert len(federation.network.sent_to("r1.test", "POST", "/inbox")) == 1
    # and an answering host is not counted as failing
    assert await get_host_health(a.services.db, "r1.test") is None


@pytest.mark.parametrize("status", [429, 500, 502, 401, 408])
async def test_delivery_retries_on_salvageable_status(federation: Federation, status: int) -> None:
    a, ada = await sender(federation)
    r1 = add_receiver(federation, "r1.test", a, ada)
    await enqueue(a, ada, 1, ["r1.test"])
    # Given r1 answers the status once
    federation.network.fail("r1.test", status, times=1)
    worker = DeliveryWorker(a.services)
    # When the worker steps, then again once the retry is due
    assert await worker.step() == 1
    [row] = await rows(a)
    assert row["state"] == "queued" and str(status) in row["last_error"]
    federation.clock.set(row["next_attempt_at"])
    assert await worker.step() == 1
    # Then the second attempt delivered it
    assert len(r1.bodies) == 1
    assert [r["state"] for r in await rows(a)] == ["done"]


async def test_delivery_gives_up_after_max_attempts(federation: Federation) -> None:
    # Given at most 3 attempts and a host that is always down
    a, ada = await sender(federation, delivery_max_attempts=3)
    await enqueue(a, ada, 1, ["down.test"])
    worker = DeliveryWorker(a.services)
    # When every due attempt is made
    for _ in range(3):
        assert await worker.step() == 1
        federation.clock.advance(DAY)
    # Then the row failed with why, after exactly 3 requests
    [row] = await rows(a)
    assert row["state"] == "failed" and row["attempts"] == 3
    assert row["last_error"].startswith("gave up after 3 attempts: FetchError")
    assert await worker.step() == 0
    assert len(federation.network.sent_to("down.test", "POST", "/inbox")) == 3


async def test_delivery_counts_a_2xx_with_too_large_body_as_delivered(federation: Federation) -> None:
    # Given r1 accepts with an answer body over the size cap
    a, ada = await sender(federation)
    r1 = add_receiver(federation, "r1.test", a, ada)
    r1.answer = b"x" * (a.services.config.federation.max_body_bytes + 1)
    await enqueue(a, ada, 1, ["r1.test"])
    # When the worker steps
    await DeliveryWorker(a.services).step()
    # Then the delivery counts as done
    assert len(r1.bodies) == 1
    assert [r["state"] for r in await rows(a)] == ["done"]


async def test_delivery_drops_rows_of_a_host_blocked_after_enqueue_without_sending(federation: Federation) -> None:
    a, ada = await sender(federation)
    add_receiver(federation, "r1.test", a, ada)
    add_receiver(federation, "r2.test", a, ada)
    await enqueue(a, ada, 1, ["r1.test", "r2.test"])
    # Given r1 was blocked after the rows were queued
    await set_rule(a.services.db, "r1.test", "block", federation.clock.time())
    a.services.forget_domain_rules()
    # When the worker steps
    assert await DeliveryWorker(a.services).step() == 2
    # Then nothing went to r1, its row failed with the reason, and r2 got its copy
    assert federation.network.sent_to("r1.test") == []
    assert len(federation.network.sent_to("r2.test", "POST", "/inbox")) == 1
    states = {r["host"]: (r["state"], r["last_error"]) for r in await rows(a)}
    assert states["r1.test"][0] == "failed" and "domain policy" in states["r1.test"][1]
    assert states["r2.test"][0] == "done"


async def test_delivery_never_exceeds_the_per_host_concurrency(federation: Federation) -> None:
    # Given at most 3 concurrent requests per host and 12 activities for r1, whose gate holds requests
    # until 3 are in flight at once
    a, ada = await sender(federation, delivery_concurrency_per_host=3)
    r1 = add_receiver(federation, "r1.test", a, ada, Flight(hold_at=3))
    for n in range(12):
        await enqueue(a, ada, n, ["r1.test"])
    # When the worker sends the batch
    async with asyncio.timeout(10):
        handled, _ = await asyncio.gather(DeliveryWorker(a.services).step(), r1.flight.open_when_reached())
    assert handled == 12
    # Then 3 were in flight together, never more, and all arrived
    assert r1.flight.most == 3
    assert len(r1.bodies) == 12 and r1.rejected == []


async def test_delivery_never_exceeds_the_global_concurrency(federation: Federation) -> None:
    # Given at most 4 concurrent requests overall, 4 per host, and 4 activities for each of 3 hosts
    a, ada = await sender(federation, delivery_concurrency=4, delivery_concurrency_per_host=4)
    flight = Flight(hold_at=4)
    receivers = [add_receiver(federation, f"r{i}.test", a, ada, flight) for i in range(1, 4)]
    for n in range(4):
        await enqueue(a, ada, n, [r.host for r in receivers])
    # When the worker sends the batch
    async with asyncio.timeout(10):
        handled, _ = await asyncio.gather(DeliveryWorker(a.services).step(), flight.open_when_reached())
    assert handled == 12
    # Then at most 4 were in flight across the hosts
    assert flight.most == 4
    assert [len(r.bodies) for r in receivers] == [4, 4, 4]


async def test_delivery_fans_out_to_50_hosts_in_one_step(federation: Federation) -> None:
    # Given one activity for 50 remote inboxes
    a, ada = await sender(federation)
    receivers = [add_receiver(federation, f"r{i}.test", a, ada) for i in range(1, 51)]
    uri, _ = await enqueue(a, ada, 1, [r.host for r in receivers])
    # When the worker steps once
    assert await DeliveryWorker(a.services).step() == 50
    # Then every host got it once, with a valid signature
    assert all(r.ids == [uri] and r.rejected == [] for r in receivers)
    assert {r["state"] for r in await rows(a)} == {"done"}


async def test_delivery_fails_fast_once_a_host_failed_10_times_in_a_row(federation: Federation) -> None:
    # Given 12 activities for a host that refuses connections, sent one at a time
    a, ada = await sender(federation, delivery_concurrency_per_host=1)
    for n in range(12):
        await enqueue(a, ada, n, ["down.test"])
    # When the worker steps
    assert await DeliveryWorker(a.services).step() == 12
    # Then only the first 10 were tried; all 12 wait for their retry
    assert len(federation.network.sent_to("down.test")) == BREAKER_THRESHOLD
    found = await rows(a)
    assert {r["state"] for r in found} == {"queued"}
    assert sum("circuit open" in r["last_error"] for r in found) == 12 - BREAKER_THRESHOLD


async def test_delivery_releases_rows_whose_lease_runs_out_before_sending(federation: Federation) -> None:
    # Given two rows for one host, sent one at a time, and a host so slow the lease nearly runs out
    a, ada = await sender(federation, delivery_concurrency_per_host=1)
    r1 = add_receiver(federation, "r1.test", a, ada)
    r1.on_request = lambda: federation.clock.advance(100)
    await enqueue(a, ada, 1, ["r1.test"])
    await enqueue(a, ada, 2, ["r1.test"])
    # When the worker steps with a 120 s lease
    assert await DeliveryWorker(a.services, lease=120.0).step() == 2
    # Then the second row was given back unsent, the attempt not counted, due at once
    assert len(r1.bodies) == 1
    first, second = await rows(a)
    assert first["state"] == "done"
    assert (second["state"], second["attempts"], second["lease_until"]) == ("queued", 0, None)
    r1.on_request = None
    assert await DeliveryWorker(a.services).step() == 1
    assert len(r1.bodies) == 2


async def test_delivery_skips_a_host_failing_on_7_days_until_it_is_marked_available(
    federation: Federation,
) -> None:
    a, ada = await sender(federation)
    r7 = add_receiver(federation, "r7.test", a, ada)
    worker = DeliveryWorker(a.services)
    db = a.services.db
    # Given r7 refuses connections while a posts one activity a day for 7 days
    federation.network.fail("r7.test", None)
    for day in range(FAILURE_DAYS_THRESHOLD):
        await enqueue(a, ada, day, ["r7.test"])
        assert await worker.step() >= 1
        health = await get_host_health(db, "r7.test")
        assert health is not None and len(health.failure_days) == day + 1
        assert health.unavailable == (day + 1 == FAILURE_DAYS_THRESHOLD)
        federation.clock.advance(DAY)
    # Then r7 is unavailable: a new activity for it stays queued and nothing is claimed or sent
    assert await unavailable_hosts(db) == {"r7.test"}
    sent = len(federation.network.sent_to("r7.test"))
    await enqueue(a, ada, 99, ["r7.test"])
    assert await worker.step() == 0
    assert len(federation.network.sent_to("r7.test")) == sent
    assert {r["state"] for r in await rows(a)} == {"queued"}
    # When r7 is back and sends us something (the inbox marks it available)
    federation.network.heal("r7.test")
    assert await mark_host_available(db, "r7.test") is True
    assert await mark_host_available(db, "r7.test") is False
    # Then its waiting rows are delivered and its health is clean
    assert await worker.step() == FAILURE_DAYS_THRESHOLD + 1
    assert len(set(r7.ids)) == len(r7.ids) == FAILURE_DAYS_THRESHOLD + 1
    assert {r["state"] for r in await rows(a)} == {"done"}
    assert await get_host_health(db, "r7.test") is None
    assert await unavailable_hosts(db) == set()


async def test_delivery_success_resets_the_failure_days_of_a_host(federation: Federation) -> None:
    a, ada = await sender(federation)
    r1 = add_receiver(federation, "r1.test", a, ada)
    worker = DeliveryWorker(a.services)
    # Given r1 failed on one day
    federation.network.fail("r1.test", 503)
    await enqueue(a, ada, 1, ["r1.test"])
    await worker.step()
    health = await get_host_health(a.services.db, "r1.test")
    assert health is not None and len(health.failure_days) == 1 and not health.unavailable
    # When it answers the retry
    federation.network.heal("r1.test")
    federation.clock.advance(DAY)
    await worker.step()
    # Then its failures are forgotten
    assert len(r1.bodies) == 1
    assert await get_host_health(a.services.db, "r1.test") is None


async def test_delivery_loses_nothing_when_a_worker_dies_mid_fan_out(federation: Federation) -> None:
    # Given one activity for 30 hosts
    a, ada = await sender(federation)
    receivers = {f"r{i}.test": add_receiver(federation, f"r{i}.test", a, ada) for i in range(1, 31)}
    uri, _ = await enqueue(a, ada, 1, list(receivers))
    db = a.services.db
    # and a worker that claimed 10 rows, POSTed 3 of them, and was killed before marking anything done
    abandoned = await claim_deliveries(db, federation.clock.time(), lease=120.0, limit=10)
    assert len(abandoned) == 10
    signer = a.services.signer_for(ada)
    for row in abandoned[:3]:
        answer = await a.services.http.post(row.inbox_url, row.body, AP_CONTENT_TYPE, signer)
        assert answer.status_code == 202
    # When a new worker starts: it sends every row not held by a lease
    worker = DeliveryWorker(a.services)
    assert await worker.step() == 20
    assert await worker.step() == 0
    abandoned_hosts = {r.host for r in abandoned}
    assert all(len(r.bodies) == 1 for h, r in receivers.items() if h not in abandoned_hosts)
    # and once the dead worker's lease has passed, it sends the abandoned rows too
    federation.clock.advance(121)
    assert await worker.step() == 10
    # Then no inbox lost the activity: each got it once, except the 3 POSTed just before the crash,
    # which got it twice (at least once; receivers deduplicate by activity id)
    twice = {r.host for r in abandoned[:3]}
    assert {h: r.ids.count(uri) for h, r in receivers.items()} == {h: 2 if h in twice else 1 for h in receivers}
    assert all(r.rejected == [] for r in receivers.values())
    assert {r["state"] for r in await rows(a)} == {"done"}
    assert await worker.step() == 0
