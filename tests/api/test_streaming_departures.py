"""A remote account that deletes itself: clients are told to drop its statuses (`delete` on the streams)."""

from __future__ import annotations

import orjson

from fediverse_learn.store.objects import get_note
from tests.api.support import Socket, post_status, token_with
from tests.support.instances import Federation
from tests.support.remote import remote_actor


async def test_a_deleted_remote_accounts_statuses_are_deleted_on_the_streams(federation: Federation) -> None:
    # Given two public notes by zed (Mastodon) and a member watching the public stream
    a = await federation.add("a.test")
    await a.add_member("ada")
    ada = await token_with(a, "ada", "read write")
    zed = remote_actor(federation, "mastodon.test", "zed")
    notes = [zed.note(f"<p>note {n}</p>") for n in range(2)]
    for note in notes:
        assert (await zed.post(federation.network, f"{a.base}/inbox", zed.create(note))).status_code == 202
    await federation.settle()
    ids = [str(stored.id) for note in notes if (stored := await get_note(a.services.db, note["id"])) is not None]
    assert len(ids) == 2
    socket = Socket(a, stream="public", access_token=ada)
    await socket.connect()
    # When zed's account is deleted
    assert (await zed.post(federation.network, f"{a.base}/inbox", zed.delete_account())).status_code == 202
    await federation.settle()
    marker = await post_status(a, ada, "still here")
    # Then the stream has a `delete` for each of zed's statuses, newest first, before what came next
    events = [await socket.event() for _ in range(3)]
    assert [(e["event"], e["payload"]) for e in events[:2]] == [("delete", ids[1]), ("delete", ids[0])]
    assert events[2]["event"] == "update" and orjson.loads(events[2]["payload"])["id"] == marker["id"]
    await socket.close()
