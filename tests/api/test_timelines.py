"""Timelines: home (with boosts), public (local, remote) and hashtag; mutes and blocks; paging by Link headers;
auth failures; migration 6 (boost ids, the hashtag index)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from fediverse_learn.store.db import Database
from fediverse_learn.store.migrations import MIGRATIONS
from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _post(a: Instance, token: str, text: str, **data: str) -> str:
    response = await a.client.post("/api/v1/statuses", data={"status": text, **data}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def _ids(a: Instance, path: str, token: str | None = None, **params: Any) -> list[str]:
    response = await a.client.get(path, params=params, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def test_home_has_own_and_followed_statuses_only(federation: Federation) -> None:
    a = await federation.add("a.test")
    for name in ("ada", "bob", "cyd"):
        await a.add_member(name)
    ada, bob, cyd = [await token_with(a, n, "read write follow") for n in ("ada", "bob", "cyd")]
    bob_id = (await a.client.get("/api/v1/accounts/lookup", params={"acct": "bob"})).json()["id"]
    await a.client.post(f"/api/v1/accounts/{bob_id}/follow", headers=bearer(ada))
    await federation.settle()
    own = await _post(a, ada, "mine")
    followed = await _post(a, bob, "from bob", visibility="private")
    await _post(a, cyd, "from cyd")
    await _post(a, bob, "bob to cyd only @cyd", visibility="direct")
    to_ada = await _post(a, bob, "bob to @ada", visibility="direct")
    assert await _ids(a, "/api/v1/timelines/home", ada) == [to_ada, followed, own]


async def test_home_pages_with_link_headers(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    token = await token_with(a, "ada", "read write")
    ids = [await _post(a, token, f"n{n}") for n in range(5)]
    first = await a.client.get("/api/v1/timelines/home", params={"limit": 2}, headers=bearer(token))
    assert [s["id"] for s in first.json()] == [ids[4], ids[3]]
    link = first.headers["link"]
    assert f"<http://a.test/api/v1/timelines/home?limit=2&max_id={ids[3]}>; rel=\"next\"" in link
    assert f"min_id={ids[4]}>; rel=\"prev\"" in link
    assert await _ids(a, "/api/v1/timelines/home", token, limit=2, max_id=ids[3]) == [ids[2], ids[1]]
    assert await _ids(a, "/api/v1/timelines/home", token, since_id=ids[2]) == [ids[4], ids[3]]
    assert await _ids(a, "/api/v1/timelines/home", token, min_id=ids[0], limit=2) == [ids[2], ids[1]]
    empty = await a.client.get("/api/v1/timelines/home", params={"max_id": ids[0]}, headers=bearer(token))
    assert empty.json() == [] and "link" not in empty.headers


async def test_home_auth_failures(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    assert (await a.client.get("/api/v1/timelines/home")).status_code == 401
    write_only = await token_with(a, "ada", "write")
    assert (await a.client.get("/api/v1/timelines/home", headers=bearer(write_only))).status_code == 403


async def test_public_timeline_local_and_remote(federation: Federation) -> None:
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await a.add_member("ada")
    await b.add_member("bea")
    ada = await token_with(a, "ada", "read write follow")
    remote = await a.services.resolver.actor_by_handle("bea@b.test")
    account = (await a.client.get("/api/v1/accounts/lookup", params={"acct": "bea@b.test"})).json()
    assert account["uri"] == remote.uri
    await a.client.post(f"/api/v1/accounts/{account['id']}/follow", headers=bearer(ada))
    await federation.settle()
    local = await _post(a, ada, "local post")
    await _post(a, ada, "quiet post", visibility="unlisted")
    await b.client.post("/api/v1/statuses", data={"status": "remote post"},
                        headers=bearer(await token_with(b, "bea", "write")))
    await federation.settle()
    everything = await _ids(a, "/api/v1/timelines/public")
    remote_only = await _ids(a, "/api/v1/timelines/public", remote="true")
    assert len(everything) == 2 and local in everything
    assert await _ids(a, "/api/v1/timelines/public", local="true") == [local]
    assert len(remote_only) == 1 and remote_only[0] != local
    wrong = await token_with(a, "ada", "write")
    assert (await a.client.get("/api/v1/timelines/public", headers=bearer(wrong))).status_code == 403
    assert (await a.client.get("/api/v1/timelines/public", headers=bearer("bogus"))).status_code == 401


# --- boosts, mutes and blocks -------------------------------------------------------------------------------

async def _account_id(a: Instance, acct: str) -> str:
    response = await a.client.get("/api/v1/accounts/lookup", params={"acct": acct})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def _statuses(a: Instance, path: str, token: str | None = None, **params: Any) -> list[dict[str, Any]]:
    response = await a.client.get(path, params=params, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def _boosting_world(federation: Federation) -> dict[str, Any]:
    """a.test: ada follows bob (local) and bo@b.test (remote); cyd posts, bob boosts it, ada posts, bea posts
    on b.test and bo boosts that. The clock moves a second between steps."""
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    for name in ("ada", "bob", "cyd"):
        await a.add_member(name)
    for name in ("bea", "bo"):
        await b.add_member(name)
    ada, bob, cyd = [await token_with(a, n, "read write follow") for n in ("ada", "bob", "cyd")]
    bea, bo = [await token_with(b, n, "read write follow") for n in ("bea", "bo")]
    await a.services.resolver.actor_by_handle("bo@b.test")
    for acct in ("bob", "bo@b.test"):
        followed = await a.client.post(f"/api/v1/accounts/{await _account_id(a, acct)}/follow", headers=bearer(ada))
        assert followed.status_code == 200, followed.text
    await federation.settle()

    def tick() -> None:
        federation.clock.advance(1)

    tick()
    cyd_post = await _post(a, cyd, "cyd's post")
    tick()
    reblog = await a.client.post(f"/api/v1/statuses/{cyd_post}/reblog", headers=bearer(bob))
    assert reblog.status_code == 200, reblog.text
    await federation.settle()
    tick()
    own = await _post(a, ada, "ada's post")
    tick()
    bea_post = (await b.client.post("/api/v1/statuses", data={"status": "bea's post"}, headers=bearer(bea))).json()
    tick()
    remote_boost = await b.client.post(f"/api/v1/statuses/{bea_post['id']}/reblog", headers=bearer(bo))
    assert remote_boost.status_code == 200, remote_boost.text
    await federation.settle()
    home = await _statuses(a, "/api/v1/timelines/home", ada)   # a boost has an id of each instance's own
    remote_id = next(s["id"] for s in home if s["uri"] == remote_boost.json()["uri"])
    return {"a": a, "b": b, "ada": ada, "bob": bob, "cyd": cyd, "cyd_post": cyd_post, "own": own,
            "local_boost": reblog.json(), "bea_post": bea_post, "remote_boost": remote_boost.json(),
            "remote_boost_id": remote_id}


async def test_home_shows_boosts_of_followed_accounts_as_reblogs(federation: Federation) -> None:
    # Given bob (local) and bo (remote), both followed by ada, each boosted a status
    w = await _boosting_world(federation)
    a = w["a"]
    # When ada reads her home timeline
    home = await _statuses(a, "/api/v1/timelines/home", w["ada"])
    # Then the boosts are there by boost time, as Mastodon's reblogs: the booster's own status wrapping the original
    assert [s["reblog"]["content"] if s["reblog"] else s["content"] for s in home] == [
        "<p>bea's post</p>", "<p>ada's post</p>", "<p>cyd's post</p>"]
    remote, own, local = home
    assert own["id"] == w["own"] and own["reblog"] is None
    assert local["id"] == w["local_boost"]["id"] != w["cyd_post"]
    assert local["account"]["acct"] == "bob" and local["reblog"]["account"]["acct"] == "cyd"
    assert local["reblog"]["id"] == w["cyd_post"] and local["reblog"]["reblogs_count"] == 1
    assert local["uri"] == local["url"] == w["local_boost"]["uri"]
    assert local["content"] == "" and local["spoiler_text"] == "" and local["mentions"] == [] and not local["tags"]
    assert local["in_reply_to_id"] is None and local["visibility"] == "public" and local["application"] is None
    assert (local["replies_count"], local["reblogs_count"], local["favourites_count"]) == (0, 0, 0)
    assert local["favourited"] is False and local["reblogged"] is False and local["bookmarked"] is False
    assert remote["account"]["acct"] == "bo@b.test" and remote["reblog"]["account"]["acct"] == "bea@b.test"
    assert remote["url"] is None and remote["uri"] == w["remote_boost"]["uri"]
    assert remote["reblog"]["uri"] == w["bea_post"]["uri"]
    assert int(remote["id"]) > int(own["id"]) > int(local["id"]) > int(local["reblog"]["id"])
    assert remote["created_at"] > own["created_at"] > local["created_at"] > local["reblog"]["created_at"]


async def test_home_shows_a_status_once_however_often_boosted(federation: Federation) -> None:
    # Given ada follows bob and dan, who both boost cyd's post, and ada boosts her own post
    a = await federation.add("a.test")
    for name in ("ada", "bob", "cyd", "dan"):
        await a.add_member(name)
    ada, bob, cyd, dan = [await token_with(a, n, "read write follow") for n in ("ada", "bob", "cyd", "dan")]
    for acct in ("bob", "dan"):
        await a.client.post(f"/api/v1/accounts/{await _account_id(a, acct)}/follow", headers=bearer(ada))
    await federation.settle()
    cyd_post = await _post(a, cyd, "cyd's post")
    first = None
    for token in (bob, dan):
        federation.clock.advance(1)
        boosted = await a.client.post(f"/api/v1/statuses/{cyd_post}/reblog", headers=bearer(token))
        first = first or boosted.json()["id"]
    federation.clock.advance(1)
    own = await _post(a, ada, "ada's post")
    await a.client.post(f"/api/v1/statuses/{own}/reblog", headers=bearer(ada))
    await federation.settle()
    # When ada reads her home, Then her post is there once, and cyd's post once, by the first boost
    assert await _ids(a, "/api/v1/timelines/home", ada) == [own, first]


async def test_home_pages_across_boosts(federation: Federation) -> None:
    # Given a home timeline of two boosts and a status
    w = await _boosting_world(federation)
    a, ada = w["a"], w["ada"]
    everything = await _ids(a, "/api/v1/timelines/home", ada)
    assert len(everything) == 3
    # When ada pages through it one at a time, by the Link headers
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    while True:
        response = await a.client.get("/api/v1/timelines/home", params=params, headers=bearer(ada))
        page = [s["id"] for s in response.json()]
        if not page:
            break
        seen += page
        next_url = response.headers["link"].split(";")[0].strip("<>")
        params = {"limit": 1, "max_id": next_url.rsplit("max_id=", 1)[1]}
    # Then every entry comes once, in order; since_id and min_id work from a boost's id too
    assert seen == everything
    assert await _ids(a, "/api/v1/timelines/home", ada, since_id=everything[2]) == everything[:2]
    assert await _ids(a, "/api/v1/timelines/home", ada, min_id=everything[2], limit=1) == [everything[1]]
    assert await _ids(a, "/api/v1/timelines/home", ada, max_id=everything[0], min_id=everything[2]) == [everything[1]]


async def test_boost_ids_show_the_reblog(federation: Federation) -> None:
    # Given ada's home with a local and a remote boost
    w = await _boosting_world(federation)
    a = w["a"]
    # When each entry is asked for by its id, Then it is the same status (a boost: the same reblog)
    for entry in await _statuses(a, "/api/v1/timelines/home", w["ada"]):
        shown = await a.client.get(f"/api/v1/statuses/{entry['id']}", headers=bearer(w["ada"]))
        assert shown.status_code == 200, shown.text
        assert shown.json()["id"] == entry["id"]
        assert (shown.json()["reblog"] or {}).get("id") == (entry["reblog"] or {}).get("id")


async def test_public_timelines_leave_boosts_out(federation: Federation) -> None:
    # Given statuses boosted locally and remotely
    w = await _boosting_world(federation)
    a = w["a"]
    # When the public timelines are read, Then each status is there once, and no reblog
    for params in ({}, {"local": "true"}, {"remote": "true"}):
        statuses = await _statuses(a, "/api/v1/timelines/public", w["ada"], **params)
        assert statuses and all(s["reblog"] is None for s in statuses)
        assert len({s["uri"] for s in statuses}) == len(statuses)
    assert w["cyd_post"] in await _ids(a, "/api/v1/timelines/public", local="true")


async def test_account_statuses_have_boosts_unless_excluded(federation: Federation) -> None:
    # Given bob boosted cyd's post
    w = await _boosting_world(federation)
    a = w["a"]
    bob_id = await _account_id(a, "bob")
    own = await _post(a, w["bob"], "bob's own")
    # When bob's statuses are read, Then the boost is among them, as a reblog
    statuses = await _statuses(a, f"/api/v1/accounts/{bob_id}/statuses", w["ada"])
    assert [s["id"] for s in statuses] == [own, w["local_boost"]["id"]]
    assert statuses[1]["reblog"]["id"] == w["cyd_post"]


async def test_account_statuses_exclude_reblogs(federation: Federation) -> None:
    w = await _boosting_world(federation)
    a = w["a"]
    bob_id = await _account_id(a, "bob")
    own = await _post(a, w["bob"], "bob's own")
    assert await _ids(a, f"/api/v1/accounts/{bob_id}/statuses", w["ada"], exclude_reblogs="true") == [own]


async def test_muted_accounts_leave_home_and_public_timelines(federation: Federation) -> None:
    # Given ada's home with bob's boost of cyd's post, and bob's own post
    w = await _boosting_world(federation)
    a, ada = w["a"], w["ada"]
    bob_post = await _post(a, w["bob"], "bob's post")
    assert await _ids(a, "/api/v1/timelines/home", ada) == [
        bob_post, w["remote_boost_id"], w["own"], w["local_boost"]["id"]]
    # When ada mutes cyd, Then boosts of cyd's statuses leave her home, and cyd's statuses the public timeline
    muted = await a.client.post(f"/api/v1/accounts/{await _account_id(a, 'cyd')}/mute", headers=bearer(ada))
    assert muted.status_code == 200, muted.text
    assert await _ids(a, "/api/v1/timelines/home", ada) == [bob_post, w["remote_boost_id"], w["own"]]
    assert w["cyd_post"] not in await _ids(a, "/api/v1/timelines/public", ada)
    assert w["cyd_post"] in await _ids(a, "/api/v1/timelines/public")   # signed out: everything
    # When ada mutes bob too, Then his statuses and boosts leave her home as well
    await a.client.post(f"/api/v1/accounts/{await _account_id(a, 'bob')}/mute", headers=bearer(ada))
    assert await _ids(a, "/api/v1/timelines/home", ada) == [w["remote_boost_id"], w["own"]]
    assert bob_post not in await _ids(a, "/api/v1/timelines/public", ada)
    # When ada unmutes them, Then all comes back
    for acct in ("bob", "cyd"):
        await a.client.post(f"/api/v1/accounts/{await _account_id(a, acct)}/unmute", headers=bearer(ada))
    assert len(await _ids(a, "/api/v1/timelines/home", ada)) == 4


async def test_blocked_accounts_leave_home_and_public_timelines(federation: Federation) -> None:
    # Given ada's home with bob's boost of cyd's post
    w = await _boosting_world(federation)
    a, ada = w["a"], w["ada"]
    # When ada blocks cyd, Then the boost of cyd's post leaves her home and cyd's post her public timeline
    blocked = await a.client.post(f"/api/v1/accounts/{await _account_id(a, 'cyd')}/block", headers=bearer(ada))
    assert blocked.status_code == 200, blocked.text
    await federation.settle()
    assert await _ids(a, "/api/v1/timelines/home", ada) == [w["remote_boost_id"], w["own"]]
    assert w["cyd_post"] not in await _ids(a, "/api/v1/timelines/public", ada)
    # And cyd, blocked by ada, no longer sees ada's statuses in public timelines
    assert w["own"] not in await _ids(a, "/api/v1/timelines/public", w["cyd"])


async def _tagged_posts(federation: Federation) -> tuple[Instance, str, str, str]:
    a = await federation.add("a.test")
    for name in ("ada", "cyd"):
        await a.add_member(name)
    ada, cyd = [await token_with(a, n, "read write follow") for n in ("ada", "cyd")]
    mine = await _post(a, ada, "learning #Python")
    theirs = await _post(a, cyd, "more #python")
    await _post(a, cyd, "nothing tagged")
    return a, ada, mine, theirs


async def test_tag_timeline_is_case_insensitive(federation: Federation) -> None:
    a, _, mine, theirs = await _tagged_posts(federation)
    assert await _ids(a, "/api/v1/timelines/tag/PYTHON") == [theirs, mine]
    assert await _ids(a, "/api/v1/timelines/tag/python", local="true", limit=1) == [theirs]
    assert await _ids(a, "/api/v1/timelines/tag/python", remote="true") == []


async def test_tag_timeline_without_muted_accounts(federation: Federation) -> None:
    a, ada, mine, _ = await _tagged_posts(federation)
    await a.client.post(f"/api/v1/accounts/{await _account_id(a, 'cyd')}/mute", headers=bearer(ada))
    assert await _ids(a, "/api/v1/timelines/tag/python", ada) == [mine]


async def test_migration_6_gives_stored_boosts_ids_and_indexes_tags(tmp_path: Path) -> None:
    # Given a database at version 5 with a note tagged #Python, our boost of it and a remote one
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.executescript("".join(MIGRATIONS[:5]) + "PRAGMA user_version = 5;")
        conn.execute("INSERT INTO actors (id, name, kind, private_key_pem, public_key_pem, created_at)"
                     " VALUES (7, 'ada', 'person', 'k', 'k', 0)")
        conn.execute("INSERT INTO objects (id, uri, author_uri, type, visibility, tags, published) VALUES"
                     " (5, 'https://b.test/n/1', 'https://b.test/u/bea', 'Note', 'public',"
                     " '[{\"type\": \"Hashtag\", \"name\": \"#Python\"}, \"junk\"]', 1000)")
        conn.execute("INSERT INTO activities (id, uri, actor_id, type, object_uri, document, published) VALUES"
                     " (99, 'https://a.test/users/ada/activities/99', 7, 'Announce', 'https://b.test/n/1', '{}', 1001)")
        conn.executemany("INSERT INTO reactions (kind, actor_uri, object_uri, activity_uri, published)"
                         " VALUES (?, ?, 'https://b.test/n/1', ?, ?)", [
                             ("announce", "https://a.test/users/ada", "https://a.test/users/ada/activities/99", 1001),
                             ("announce", "https://c.test/u/cy", "https://c.test/a/1", 1002.5),
                             ("like", "https://c.test/u/cy", "https://c.test/a/2", 1003)])
    conn.close()
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        # When migration 6 runs
        assert 6 in await db.migrate()
        # Then our boost has its activity's id, the remote one an id of its time, the like none
        rows = await db.fetchall("SELECT kind, status_id FROM reactions ORDER BY id")
        assert [(r[0], r[1]) for r in rows] == [("announce", 99), ("announce", (1002500 << 16) | 5), ("like", None)]
        # And the hashtag is indexed, lower case, and kept up to date by later writes
        assert [tuple(r) for r in await db.fetchall("SELECT name, object_id FROM object_tags")] == [("python", 5)]
        await db.execute("UPDATE objects SET tags = '[{\"type\": \"Hashtag\", \"name\": \"#rust\"}]' WHERE id = 5")
        assert [tuple(r) for r in await db.fetchall("SELECT name, object_id FROM object_tags")] == [("rust", 5)]
    finally:
        await db.close()


async def test_home_leaves_out_replies_to_strangers_as_mastodon_does(federation: Federation) -> None:
    # Given ada, who follows bob and dee but not cyd
    a = await federation.add("a.test")
    for name in ("ada", "bob", "cyd", "dee"):
        await a.add_member(name)
    ada, bob, cyd, dee = [await token_with(a, n, "read write follow") for n in ("ada", "bob", "cyd", "dee")]
    for name in ("bob", "dee"):
        account = (await a.client.get("/api/v1/accounts/lookup", params={"acct": name})).json()["id"]
        await a.client.post(f"/api/v1/accounts/{account}/follow", headers=bearer(ada))
    await federation.settle()
    by_cyd, by_dee, by_ada = (await _post(a, cyd, "cyd asks"), await _post(a, dee, "dee asks"),
                              await _post(a, ada, "ada asks"))
    by_bob = await _post(a, bob, "bob muses")
    # When bob answers cyd (a stranger to ada), dee, ada and himself, and ada answers cyd
    to_cyd = await _post(a, bob, "@cyd yes", in_reply_to_id=by_cyd)
    to_dee = await _post(a, bob, "@dee yes", in_reply_to_id=by_dee)
    to_ada = await _post(a, bob, "@ada yes", in_reply_to_id=by_ada)
    thread = await _post(a, bob, "and more", in_reply_to_id=by_bob)
    own = await _post(a, ada, "@cyd me too", in_reply_to_id=by_cyd)
    await federation.settle()
    # Then ada's home has every one but bob's answer to cyd
    home = await _ids(a, "/api/v1/timelines/home", ada)
    assert home == [own, thread, to_ada, to_dee, by_bob, by_ada, by_dee]
    assert to_cyd not in home and to_cyd in await _ids(a, "/api/v1/timelines/public")


async def test_a_boost_hidden_by_reblogs_false_does_not_hide_a_later_one(federation: Federation) -> None:
    # Given ada, who follows cy without her boosts and bob with his, and dee's status, which cy boosts first
    a = await federation.add("a.test")
    for name in ("ada", "bob", "cy", "dee"):
        await a.add_member(name)
    ada, bob, cy, dee = [await token_with(a, n, "read write follow") for n in ("ada", "bob", "cy", "dee")]
    for name, reblogs in (("cy", "false"), ("bob", "true")):
        account = (await a.client.get("/api/v1/accounts/lookup", params={"acct": name})).json()["id"]
        await a.client.post(f"/api/v1/accounts/{account}/follow", data={"reblogs": reblogs}, headers=bearer(ada))
    await federation.settle()
    status = await _post(a, dee, "by dee")
    await a.client.post(f"/api/v1/statuses/{status}/reblog", headers=bearer(cy))
    # When bob boosts it after her
    later = (await a.client.post(f"/api/v1/statuses/{status}/reblog", headers=bearer(bob))).json()
    await federation.settle()
    # Then ada's home shows bob's boost
    home = (await a.client.get("/api/v1/timelines/home", headers=bearer(ada))).json()
    assert [(s["id"], s["account"]["username"], s["reblog"]["id"]) for s in home] == [(later["id"], "bob", status)]
