"""End to end: a member of one `fediverse-learn serve` joins a community on another, posts to it, and a member
of the community's server replies; the community announces both posts back (FEP-1b12).

Two real processes on loopback; members act through the C2S outbox with tokens from `fediverse-learn token`.
Delivery is asynchronous (the servers' own workers), so the test polls HTTP or the databases (read only).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_e2e_flows import PUBLIC, c2s, eventually, get_ap, member, query, total
from tests.support.processes import ServerProcess

pytestmark = pytest.mark.e2e


def announces_to(server: ServerProcess, community: str, inbox: str) -> list[dict[str, Any]]:
    """The community's Announces that `server` delivered to `inbox`, as documents (served at their ids)."""
    rows = query(server, "SELECT activity_uri FROM deliveries WHERE inbox_url = ? AND state = 'done' "
                 "AND activity_uri LIKE ?", inbox, f"{community}/%")
    docs = [get_ap(uri).json() for (uri,) in rows]
    return [doc for doc in docs if doc.get("type") == "Announce"]


def announced(server: ServerProcess, community: str, inbox: str, note_uri: str) -> dict[str, Any] | None:
    """The community's Announce(Create(note)) delivered to `inbox`, or None."""
    for doc in announces_to(server, community, inbox):
        inner = doc["object"]
        if isinstance(inner, dict) and inner.get("type") == "Create" and inner["object"]["id"] == note_uri:
            return doc
    return None


def test_remote_member_joins_a_community_posts_and_a_local_member_replies(
        servers: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = servers
    # Given a community maths on a, moderated by ada, and bea on b
    ada_token = member(a, "ada")
    added = a.cli("community", "add", "maths", "--display-name", "Maths", "--moderator", "ada")
    assert added.returncode == 0, added.stderr
    bea_token = member(b, "bea")
    maths, bea = f"{a.base}/users/maths", f"{b.base}/users/bea"
    group = get_ap(maths).json()
    assert group["type"] == "Group" and group["attributedTo"] == f"{maths}/moderators"

    # When bea joins it: a Follow of the Group through b's outbox (an open community accepts at once)
    c2s(b, "bea", bea_token, {"type": "Follow", "object": maths})
    eventually(lambda: total(f"{maths}/followers") == 1, "a lists bea as a member of maths", a)
    eventually(lambda: total(f"{bea}/following") == 1, "b holds bea's join of maths as accepted", b)

    # When she posts to the community (public, the community in cc: we mention it as Mastodon would)
    create = c2s(b, "bea", bea_token, {"type": "Note", "content": "<p>Proof that √2 is irrational?</p>",
                                        "to": [PUBLIC], "cc": [maths]})
    post = create["object"]
    assert maths in post["cc"]
    assert {"type": "Mention", "href": maths} in [{k: t.get(k) for k in ("type", "href")} for t in post["tag"]]
    # it carries the community as `audience` and its own thread `context` from the start
    assert post["audience"] == maths
    context: str = post["context"]
    # Then a stores it in the community, and the community announces the Create, wrapped, back to b
    # (a fediverse-learn server is group-aware)
    share = eventually(lambda: announced(a, maths, f"{b.base}/inbox", post["id"]),
                       "maths announces bea's Create to b", a)
    assert share["actor"] == maths and share["audience"] == maths and share["context"] == context
    assert share["object"]["id"] == create["id"]
    assert query(a, "SELECT audience_uri, context_uri FROM objects WHERE uri = ?", post["id"]) == [
        (maths, context)]

    # When ada, on a, replies to bea's post
    reply = c2s(a, "ada", ada_token, {"type": "Note", "content": "<p>Suppose p/q in lowest terms…</p>",
                                      "inReplyTo": post["id"], "to": [PUBLIC]})
    answer = reply["object"]
    # her reply joins the thread: same community, same context
    assert answer["audience"] == maths and answer["context"] == context
    # Then the community announces it to b too (replies reach every member, on every server)
    relayed = eventually(lambda: announced(a, maths, f"{b.base}/inbox", answer["id"]),
                         "maths announces ada's reply to b", a)
    assert relayed["context"] == context
    # and b stores the reply in the thread
    stored = eventually(lambda: query(b, "SELECT in_reply_to_uri, audience_uri, context_uri FROM objects "
                                      "WHERE uri = ?", answer["id"]) or None, "b stores ada's reply", b)
    assert stored == [(post["id"], maths, context)]
    # and the thread's context collection (served by b, where it started) lists both posts in date order
    def thread() -> list[str] | None:
        doc = get_ap(context).json()
        items: list[str] = doc["first"]["orderedItems"]
        return items if len(items) == 2 else None
    assert eventually(thread, "b's context collection lists both posts", b) == [post["id"], answer["id"]]
    # and a holds the same thread: both posts in the community, with its context
    assert sorted(query(a, "SELECT uri FROM objects WHERE context_uri = ? AND audience_uri = ?", context,
                        maths)) == sorted([(post["id"],), (answer["id"],)])
    # Boosts (Announce(Note)) go only to servers that are not group-aware: none here
    assert [d for d in announces_to(a, maths, f"{b.base}/inbox") if isinstance(d["object"], str)] == []
