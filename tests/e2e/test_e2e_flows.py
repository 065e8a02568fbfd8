"""End to end: follow, post, reply and unfollow between two real `fediverse-learn serve` processes on loopback.

Members act through the C2S outbox with tokens from `fediverse-learn token`; delivery is asynchronous (the
servers' own workers), so the test polls the other server's HTTP (or its database, read only) with a deadline.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from typing import Any, TypeVar

import httpx
import pytest

from tests.support import polling
from tests.support.polling import DEADLINE
from tests.support.processes import ServerProcess

pytestmark = pytest.mark.e2e

AP = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], what: str, server: ServerProcess, timeout: float = DEADLINE) -> T:
    """`polling.eventually`, failing with `what` and the end of `server`'s log."""
    return polling.eventually(probe, what, timeout, log=lambda: (
        f"--- {server.root.name} log ---\n{server.log.read_text()[-4000:]}"))


def member(server: ServerProcess, name: str) -> str:
    """Add a member with the CLI; a bearer token for them."""
    added = server.cli("member", "add", name)
    assert added.returncode == 0, added.stderr
    token = server.cli("token", name)
    assert token.returncode == 0, token.stderr
    return token.stdout.strip()


def c2s(server: ServerProcess, name: str, token: str, doc: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{server.base}/users/{name}/outbox", json=doc, headers={"Authorization": f"Bearer {token}"},
                   timeout=15)
    assert r.status_code == 201, r.text
    activity: dict[str, Any] = r.json()
    return activity


def get_ap(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Accept": AP}, timeout=5)


def total(url: str) -> int:
    r = get_ap(url)
    assert r.status_code == 200, r.text
    return int(r.json()["totalItems"])


def query(server: ServerProcess, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the server's database (read only, while it runs)."""
    path = server.root / "data" / "db.sqlite3"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
        return list(db.execute(sql, params))


def test_follow_post_reply_unfollow_between_two_servers(servers: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = servers
    # Given ada on server a and bea on server b, each with a bearer token
    ada_token, bea_token = member(a, "ada"), member(b, "bea")
    ada, bea = f"{a.base}/users/ada", f"{b.base}/users/bea"

    # When bea follows ada through b's outbox
    follow = c2s(b, "bea", bea_token, {"type": "Follow", "object": ada})
    # Then a lists one follower for ada, and b one accepted followee for bea (the Accept came back)
    eventually(lambda: total(f"{ada}/followers") == 1, "a lists bea as ada's follower", a)
    eventually(lambda: total(f"{bea}/following") == 1, "b holds bea's follow of ada as accepted", b)
    assert get_ap(f"{ada}/followers?page=1").json()["orderedItems"] == [bea]

    # When ada posts a public note
    create = c2s(a, "ada", ada_token, {"type": "Note", "content": "<p>Why do leaves change colour?</p>",
                                        "to": [PUBLIC], "cc": [f"{ada}/followers"]})
    note = create["object"]["id"]
    # Then it reaches b, which stores it as ada's
    stored = eventually(lambda: query(b, "SELECT author_uri, content_html FROM objects WHERE uri = ?", note) or None,
                        "b stores ada's note", b)
    assert stored[0][0] == ada and "leaves change colour" in stored[0][1]

    # When bea replies to it
    reply = c2s(b, "bea", bea_token, {"type": "Note", "content": "<p>Chlorophyll breaks down</p>",
                                      "inReplyTo": note, "to": [PUBLIC]})
    reply_uri = reply["object"]["id"]
    # Then ada's note's replies collection on a lists the reply
    def replies() -> list[str] | None:
        items: list[str] = get_ap(f"{note}/replies").json()["first"]["items"]
        return items or None
    assert eventually(replies, "a's replies collection lists bea's reply", a) == [reply_uri]
    assert query(a, "SELECT in_reply_to_uri FROM objects WHERE uri = ?", reply_uri) == [(note,)]

    # When bea unfollows ada
    c2s(b, "bea", bea_token, {"type": "Undo", "object": follow["id"]})
    # Then a no longer lists her, and b no longer follows
    eventually(lambda: total(f"{ada}/followers") == 0, "a forgets bea as a follower", a)
    assert total(f"{bea}/following") == 0
    # And ada's next note is queued for nobody on b (the audience is fixed when it is published)
    second = c2s(a, "ada", ada_token, {"type": "Note", "content": "<p>Next lesson: roots</p>",
                                        "to": [PUBLIC], "cc": [f"{ada}/followers"]})
    assert query(a, "SELECT inbox_url FROM deliveries WHERE activity_uri = ?", second["id"]) == []
    # while the first one had been delivered to b's shared inbox
    assert query(a, "SELECT inbox_url, state FROM deliveries WHERE activity_uri = ?", create["id"]) == [
        (f"{b.base}/inbox", "done")]
