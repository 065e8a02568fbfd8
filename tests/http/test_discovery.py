"""Discovery over HTTP: WebFinger, host-meta, NodeInfo, actor documents and content negotiation."""

from __future__ import annotations

import httpx

from tests.support.instances import Federation

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def test_webfinger_acct_returns_self_profile_and_subscribe_links(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    r = await a.client.get("/.well-known/webfinger", params={"resource": "acct:ada@a.test"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/jrd+json")
    assert r.headers["access-control-allow-origin"] == "*"
    jrd = r.json()
    assert jrd["subject"] == "acct:ada@a.test"
    rels = {link["rel"]: link for link in jrd["links"]}
    assert rels["self"] == {"rel": "self", "type": AP, "href": "http://a.test/users/ada"}
    assert rels["http://webfinger.net/rel/profile-page"]["href"] == "http://a.test/@ada"
    assert "{uri}" in rels["http://ostatus.org/schema/1.0/subscribe"]["template"]


async def test_webfinger_actor_url_resource_is_understood(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    r = await a.client.get("/.well-known/webfinger", params={"resource": "http://a.test/users/ada"})
    assert r.status_code == 200
    assert r.json()["subject"] == "acct:ada@a.test"


async def test_webfinger_unknown_or_foreign_resource_is_404(federation: Federation) -> None:
    a = await federation.add("a.test")
    for resource in ("acct:nobody@a.test", "acct:ada@b.test", "acct:ada@a.test/x", "https://b.test/users/ada"):
        r = await a.client.get("/.well-known/webfinger", params={"resource": resource})
        assert r.status_code == 404, resource
    r = await a.client.get("/.well-known/webfinger")
    assert r.status_code == 400


async def test_webfinger_instance_actor(federation: Federation) -> None:
    a = await federation.add("a.test")
    r = await a.client.get("/.well-known/webfinger", params={"resource": "acct:a.test@a.test"})
    assert r.status_code == 200
    assert {"rel": "self", "type": AP, "href": "http://a.test/actor"} in r.json()["links"]


async def test_host_meta_points_at_webfinger(federation: Federation) -> None:
    a = await federation.add("a.test")
    r = await a.client.get("/.well-known/host-meta")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xrd+xml")
    assert 'template="http://a.test/.well-known/webfinger?resource={uri}"' in r.text


async def test_nodeinfo_lists_activitypub_and_real_counts(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada")
    await a.add_member("bea")
    index = (await a.client.get("/.well-known/nodeinfo")).json()
    hrefs = {link["rel"].rsplit("/", 1)[1]: link["href"] for link in index["links"]}
    assert hrefs == {"2.0": "http://a.test/nodeinfo/2.0", "2.1": "http://a.test/nodeinfo/2.1"}
    for version in ("2.0", "2.1"):
        doc = (await a.client.get(f"/nodeinfo/{version}")).json()
        assert doc["version"] == version
        assert doc["protocols"] == ["activitypub"]
        assert doc["software"]["name"] == "fediverse-learn"
        assert doc["usage"]["users"]["total"] == 2
        assert doc["openRegistrations"] is False
    assert (await a.client.get("/nodeinfo/3.0")).status_code == 404


async def test_actor_document_is_a_mastodon_shaped_person(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada", display_name="Ada L.")
    for accept in (AP, LD):
        r = await a.client.get("/users/ada", headers={"Accept": accept})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/activity+json; charset=utf-8"
        doc = r.json()
        assert doc["@context"][0] == "https://www.w3.org/ns/activitystreams"
        assert doc["type"] == "Person"
        assert doc["id"] == "http://a.test/users/ada"
        assert doc["preferredUsername"] == "ada"
        assert doc["name"] == "Ada L."
        for key in ("inbox", "outbox", "followers", "following", "featured"):
            assert doc[key] == f"http://a.test/users/ada/{key}"
        assert doc["endpoints"] == {"sharedInbox": "http://a.test/inbox"}
        assert doc["url"] == "http://a.test/@ada"
        assert doc["manuallyApprovesFollowers"] is False
        assert doc["discoverable"] is True and doc["indexable"] is True
        assert doc["published"].endswith("Z")
        assert doc["publicKey"]["id"] == "http://a.test/users/ada#main-key"
        assert doc["publicKey"]["owner"] == "http://a.test/users/ada"
        assert doc["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")


async def test_browser_gets_html_profile(federation: Federation) -> None:
    a = await federation.add("a.test")
    await a.add_member("ada", display_name="<b>Ada</b>")
    r = await a.client.get("/users/ada", headers={"Accept": "text/html"})
    assert r.status_code == 302
    assert r.headers["location"] == "http://a.test/@ada"
    page = await a.client.get("/@ada", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page.text
    assert "@ada@a.test" in page.text
    ap = await a.client.get("/@ada", headers={"Accept": AP})
    assert ap.json()["type"] == "Person"


async def test_unknown_actor_is_404(federation: Federation) -> None:
    a = await federation.add("a.test")
    assert (await a.client.get("/users/nobody", headers={"Accept": AP})).status_code == 404
    assert (await a.client.get("/@nobody")).status_code == 404


async def test_instance_actor_fetchable_without_signature(federation: Federation) -> None:
    a = await federation.add("a.test")
    r = await a.client.get("/actor", headers={"Accept": AP})
    assert r.status_code == 200
    doc = r.json()
    assert doc["type"] == "Application"
    assert doc["id"] == "http://a.test/actor"
    assert doc["publicKey"]["id"] == "http://a.test/actor#main-key"
    assert isinstance(httpx.URL(doc["inbox"]), httpx.URL)


async def test_followers_collection_pages_list_accepted_followers(federation: Federation) -> None:
    from fediverse_learn.store.follows import set_follow

    a = await federation.add("a.test")
    await a.add_member("ada")
    async with a.services.db.transaction() as tx:
        for i in range(45):
            await set_follow(tx, f"https://m.test/users/u{i}", "http://a.test/users/ada", "accepted", None, 1.0)
        await set_follow(tx, "https://m.test/users/pending", "http://a.test/users/ada", "pending", None, 1.0)
    top = (await a.client.get("/users/ada/followers", headers={"Accept": AP})).json()
    assert top["totalItems"] == 45 and top["first"] == "http://a.test/users/ada/followers?page=1"
    first = (await a.client.get("/users/ada/followers?page=1", headers={"Accept": AP})).json()
    assert first["type"] == "OrderedCollectionPage" and len(first["orderedItems"]) == 40
    assert first["next"] == "http://a.test/users/ada/followers?page=2"
    second = (await a.client.get(first["next"], headers={"Accept": AP})).json()
    assert len(second["orderedItems"]) == 5 and "next" not in second
    assert "https://m.test/users/pending" not in first["orderedItems"] + second["orderedItems"]
