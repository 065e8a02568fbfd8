"""The inbox worker on a real queue: handled rows are done, transient failures retried, refusals parked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

import inbox.worker
from fediverse_learn.store.actors import create_actor
from fediverse_learn.store.inbox_queue import claim_incoming, enqueue_incoming
from inbox import dispatch
from inbox.incoming import Incoming, Reject, Retry
from inbox.worker import MAX_ATTEMPTS, InboxWorker, backoff
from tests.support.instances import Federation, Instance
from tests.support.remote import key_pair_for, remote_actor

PING = "TestPing"   # an activity type no real handler claims


@dataclass
class Recorder:
    """A handler that records what it saw and runs the test's `then` for each call."""

    seen: list[Incoming] = field(default_factory=list)
    then: Callable[[Incoming], None] = lambda incoming: None

    async def __call__(self, services: Any, incoming: Incoming) -> None:
        self.seen.append(incoming)
        self.then(incoming)


@dataclass
class Scene:
    federation: Federation
    a: Instance
    handler: Recorder
    worker: InboxWorker

    async def queue(self, number: int = 1, body: bytes | None = None) -> str:
        activity_id = f"https://mastodon.test/pings/{number}"
        doc = {"id": activity_id, "type": PING, "actor": "https://mastodon.test/users/bea"}
        await enqueue_incoming(self.a.services.db, activity_id, doc["actor"], "ada",
                               body if body is not None else orjson.dumps(doc), self.federation.clock.time())
        return activity_id

    async def row(self, activity_id: str) -> dict[str, Any]:
        found = await self.a.services.db.fetchone(
            "SELECT state, attempts, next_attempt_at, lease_until, last_error FROM inbox_queue"
            " WHERE activity_id = ?", (activity_id,))
        assert found is not None
        return dict(found)


@pytest.fixture
async def scene(federation: Federation, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Scene]:
    a = await federation.add("a.test")
    handler = Recorder()
    monkeypatch.setitem(dispatch.HANDLERS, (PING, "*"), handler)   # restored after the test
    yield Scene(federation, a, handler, InboxWorker(a.services))


async def test_worker_runs_a_delivered_follow_through_dispatch_and_marks_it_done(
    federation: Federation, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a signed Follow delivered to ada's inbox and a handler observing Follows
    a = await federation.add("a.test")
    await create_actor(a.services.db, name="ada", kind="person", keys=key_pair_for("local ada"),
                       now=federation.clock.time())
    bea = remote_actor(federation, "mastodon.test", "bea")
    follow = bea.follow("http://a.test/users/ada")
    assert (await bea.post(a.client, "http://a.test/users/ada/inbox", follow)).status_code == 202
    handler = Recorder()
    monkeypatch.setitem(dispatch.HANDLERS, ("Follow", "*"), handler)
    # When the inbox worker steps
    handled = await InboxWorker(a.services).step()
    # Then the handler saw the verified activity once, and the row is done
    assert handled == 1
    [incoming] = handler.seen
    assert incoming.activity == follow
    assert (incoming.actor_uri, incoming.recipient, incoming.attempts) == (bea.uri, "ada", 1)
    state = await a.services.db.fetchone("SELECT state, last_error FROM inbox_queue")
    assert state is not None and tuple(state) == ("done", None)
    assert await InboxWorker(a.services).step() == 0


async def test_worker_handles_rows_in_arrival_order(scene: Scene) -> None:
    ids = [await scene.queue(n) for n in (3, 1, 2)]
    assert await scene.worker.step() == 3
    assert [i.activity["id"] for i in scene.handler.seen] == ids


async def test_worker_retries_after_retry_when_the_clock_has_advanced(scene: Scene) -> None:
    # Given a handler that cannot finish the first time
    def fail_first(incoming: Incoming) -> None:
        if incoming.attempts == 1:
            raise Retry("the parent note is not reachable yet")

    scene.handler.then = fail_first
    activity_id = await scene.queue()
    # When the worker steps, the row waits 30 s with the reason
    assert await scene.worker.step() == 1
    row = await scene.row(activity_id)
    assert row["state"] == "queued"
    assert row["next_attempt_at"] == scene.federation.clock.time() + backoff(1)
    assert row["last_error"] == "Retry: the parent note is not reachable yet"
    # Then nothing is due before that
    scene.federation.clock.advance(backoff(1) - 1)
    assert await scene.worker.step() == 0
    # And once it is due, the second attempt succeeds
    scene.federation.clock.advance(1)
    assert await scene.worker.step() == 1
    assert [i.attempts for i in scene.handler.seen] == [1, 2]
    assert (await scene.row(activity_id))["state"] == "done"


async def test_worker_parks_a_rejected_activity_with_its_reason(scene: Scene) -> None:
    def reject(incoming: Incoming) -> None:
        raise Reject("the Note is not attributed to the actor")

    scene.handler.then = reject
    activity_id = await scene.queue()
    assert await scene.worker.step() == 1
    row = await scene.row(activity_id)
    assert (row["state"], row["last_error"]) == ("failed", "Reject: the Note is not attributed to the actor")
    scene.federation.clock.advance(7 * 24 * 3600)
    assert await scene.worker.step() == 0


async def test_worker_retries_a_crash_then_parks_it_after_max_attempts(scene: Scene) -> None:
    # Given a handler that always crashes
    def crash(incoming: Incoming) -> None:
        raise RuntimeError("handler bug")

    scene.handler.then = crash
    activity_id = await scene.queue()
    # When the worker steps each time the row is due
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await scene.worker.step() == 1, attempt
        row = await scene.row(activity_id)
        if attempt < MAX_ATTEMPTS:
            assert row["state"] == "queued"
            assert row["last_error"].startswith("RuntimeError: handler bug\n")
            assert "in crash" in row["last_error"]   # the traceback summary is kept
            scene.federation.clock.advance(backoff(attempt))
    # Then after the last attempt it is parked with the error, never to be tried again
    assert len(scene.handler.seen) == MAX_ATTEMPTS
    assert row["state"] == "failed"
    assert row["last_error"].startswith(f"gave up after {MAX_ATTEMPTS} attempts: RuntimeError: handler bug")
    scene.federation.clock.advance(7 * 24 * 3600)
    assert await scene.worker.step() == 0


async def test_worker_reclaims_a_row_whose_lease_expired(scene: Scene) -> None:
    # Given a worker that claimed a row and crashed before finishing it
    activity_id = await scene.queue()
    services = scene.a.services
    assert len(await claim_incoming(services.db, scene.federation.clock.time(), 300.0, 10)) == 1
    # When another worker steps while the lease holds, it leaves the row alone
    assert await scene.worker.step() == 0
    # Then once the lease has expired, the row is claimed and handled
    scene.federation.clock.advance(300.0)
    assert await scene.worker.step() == 1
    assert scene.handler.seen[0].attempts == 2
    assert (await scene.row(activity_id))["state"] == "done"


async def test_worker_leaves_rows_whose_lease_ran_out_during_the_batch(scene: Scene) -> None:
    # Given a handler so slow that the batch's lease runs out after the first row
    worker = InboxWorker(scene.a.services, lease=60.0)
    scene.handler.then = lambda incoming: scene.federation.clock.advance(61.0)
    first, second = await scene.queue(1), await scene.queue(2)
    # When the worker steps, it handles the first row and leaves the second unhandled
    assert await worker.step() == 2
    assert [i.activity["id"] for i in scene.handler.seen] == [first]
    assert (await scene.row(second))["state"] == "queued"
    # Then the next step claims the second row again, since its lease has expired
    assert await worker.step() == 1
    assert [i.activity["id"] for i in scene.handler.seen] == [first, second]


async def test_worker_parks_a_row_whose_body_is_not_a_json_object(scene: Scene) -> None:
    bad = await scene.queue(1, body=b"[1, 2]")
    broken = await scene.queue(2, body=b"{not json")
    assert await scene.worker.step() == 2
    assert scene.handler.seen == []
    assert (await scene.row(bad))["last_error"] == "ValidationError: the stored body is not a JSON object"
    assert (await scene.row(broken))["state"] == "failed"


async def test_worker_marks_an_activity_without_handler_done(scene: Scene) -> None:
    activity_id = "https://mastodon.test/x/1"
    doc = {"id": activity_id, "type": "Wobble", "actor": "https://mastodon.test/users/bea"}
    await enqueue_incoming(scene.a.services.db, activity_id, doc["actor"], None, orjson.dumps(doc),
                           scene.federation.clock.time())
    assert await scene.worker.step() == 1
    assert (await scene.row(activity_id))["state"] == "done"


async def test_worker_step_never_raises_when_storage_fails(
    scene: Scene, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*args: Any) -> None:
        raise RuntimeError("disk I/O error")

    activity_id = await scene.queue()
    monkeypatch.setattr(inbox.worker, "finish_incoming", broken)
    assert await scene.worker.step() == 1          # handled, but the outcome could not be written
    assert (await scene.row(activity_id))["state"] == "queued"
    monkeypatch.setattr(inbox.worker, "claim_incoming", broken)
    assert await scene.worker.step() == 0
