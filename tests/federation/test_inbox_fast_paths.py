"""The inbox worker's one-call store paths: the claim, marking done in one transaction, and the one-statement
insert of a new note, which writes nothing for a tombstoned, early-deleted or existing uri."""

from __future__ import annotations

import orjson

from fediverse_learn.store.inbox_queue import claim_incoming, enqueue_incoming, finish_incoming
from fediverse_learn.store.objects import (
    StoredNote,
    get_note,
    insert_new_note,
    record_early_undo,
    tombstone,
)
from tests.support.instances import Federation

AUTHOR = "https://mastodon.test/users/bea"


def _note(note_id: int, uri: str) -> StoredNote:
    return StoredNote(
        id=note_id, uri=uri, local_actor_id=None, author_uri=AUTHOR, type="Note", visibility="public",
        content_html="<p>hi</p>", source=None, source_type=None, summary=None, name=None, sensitive=False,
        language=None, url=None, in_reply_to_uri=None, context_uri=None, audience_uri=None,
        to=("https://www.w3.org/ns/activitystreams#Public",), cc=(), tags=({"type": "Hashtag", "name": "#tea"},),
        published=1.0, updated=None, deleted_at=None,
    )


async def test_claim_returns_due_rows_in_arrival_order_and_finish_marks_them_all_done(federation: Federation) -> None:
    # Given three queued activities
    a = await federation.add("a.test")
    db, now = a.services.db, federation.clock.time()
    for number in (1, 2, 3):
        doc = {"id": f"{AUTHOR}/pings/{number}", "type": "Ping", "actor": AUTHOR}
        await enqueue_incoming(db, doc["id"], AUTHOR, None, orjson.dumps(doc), now)
    # When two are claimed, then both are marked done
    claimed = await claim_incoming(db, now, 300.0, 2)
    assert [(row.activity_id, row.attempts) for row in claimed] == [(f"{AUTHOR}/pings/1", 1), (f"{AUTHOR}/pings/2", 1)]
    await finish_incoming(db, *(row.id for row in claimed))
    # Then they are done and leased no more, and the next claim takes only the third
    rows = await db.fetchall("SELECT state, lease_until FROM inbox_queue ORDER BY id")
    assert [(r["state"], r["lease_until"]) for r in rows][:2] == [("done", None), ("done", None)]
    assert [row.activity_id for row in await claim_incoming(db, now, 300.0, 5)] == [f"{AUTHOR}/pings/3"]


async def test_insert_new_note_writes_only_a_new_uri(federation: Federation) -> None:
    a = await federation.add("a.test")
    db, now = a.services.db, federation.clock.time()
    # A new uri is stored, with its hashtag indexed by the trigger
    assert await insert_new_note(db, _note(10, f"{AUTHOR}/statuses/1"))
    stored = await get_note(db, f"{AUTHOR}/statuses/1")
    assert stored is not None and stored.tags == ({"type": "Hashtag", "name": "#tea"},)
    assert await db.fetchval("SELECT count(*) FROM object_tags WHERE object_id = 10") == 1
    # An existing uri, a tombstoned one and one deleted before it arrived are not written
    assert not await insert_new_note(db, _note(11, f"{AUTHOR}/statuses/1"))
    async with db.transaction() as tx:
        await tombstone(tx, f"{AUTHOR}/statuses/2", now)
        await record_early_undo(tx, f"{AUTHOR}/statuses/3", AUTHOR, now)
    assert not await insert_new_note(db, _note(12, f"{AUTHOR}/statuses/2"))
    assert not await insert_new_note(db, _note(13, f"{AUTHOR}/statuses/3"))
    assert await db.fetchval("SELECT count(*) FROM objects WHERE id IN (11, 12, 13)") == 0
    # The early Delete is still remembered: the caller's full check pops it
    assert await db.fetchval("SELECT count(*) FROM early_undos") == 1
