"""Local recipients get our own activities directly, through the inbox queue, without HTTP to ourselves."""

from __future__ import annotations

from fediverse_learn.store.follows import get_follow
from outbox.c2s import post_activity
from outbox.compose import publish_note
from tests.support.instances import Federation


async def test_local_follow_and_mention_are_handled_without_http(federation: Federation) -> None:
    # Given two members of one instance
    a = await federation.add("a.test")
    ada = await a.add_member("ada")
    cy = await a.add_member("cy")
    # When cy follows ada and ada posts a note mentioning cy
    await post_activity(a.services, cy, {"type": "Follow", "object": "http://a.test/users/ada"})
    await federation.settle()
    await publish_note(a.services, ada, source="Hello @cy, see the #maths notes")
    await federation.settle()
    # Then the follow was accepted locally, every queued activity was processed, and nothing went over HTTP
    follow = await get_follow(a.services.db, "http://a.test/users/cy", "http://a.test/users/ada")
    assert follow is not None and follow.state == "accepted"
    rows = await a.services.db.fetchall("SELECT state, last_error FROM inbox_queue")
    assert rows and all(r["state"] == "done" for r in rows), [dict(r) for r in rows]
    assert federation.network.requests == []
