"""Mastodon.py, a real client library, across two real instances (uvicorn on loopback, their own workers
delivering over real sockets): a member finds a remote account with `search(resolve=True)`, follows it and
reads its posts in her home timeline; she finds a remote community, joins it and posts to it by mentioning it.

Delivery is asynchronous, so the tests poll the client API with a deadline (`eventually`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from mastodon import Mastodon

from tests.api.live import live_instance, signed_in
from tests.support.polling import eventually

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Pair:
    """Two live instances: `a` and `b` are base URLs, `host_a`/`host_b` the domains in handles."""

    a: str
    b: str

    @property
    def host_a(self) -> str:
        return urlsplit(self.a).netloc

    @property
    def host_b(self) -> str:
        return urlsplit(self.b).netloc


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """a: ada and dan; b: bob, cy and eve, and the open community `learning` moderated by eve. Each test
    uses its own members, so they share the two servers."""
    root = tmp_path_factory.mktemp("mastodon_py_federation")
    members_a = {"ada": PASSWORD, "dan": PASSWORD}
    members_b = {"bob": PASSWORD, "cy": PASSWORD, "eve": PASSWORD}
    with live_instance(root / "a", members_a) as a, \
            live_instance(root / "b", members_b, communities={"learning": ["eve"]}) as b:
        yield Pair(a, b)


def home_has(api: Mastodon, uri: str) -> Any:
    """The entry of the member's home timeline showing the status with this (ActivityPub) uri, itself or
    boosted, or None."""
    return next((s for s in api.timeline_home(limit=40) if (s.reblog or s).uri == uri), None)


def boosted_by(entry: Any, acct: str) -> bool:
    """Whether a timeline entry is a boost (reblog) by this account."""
    return entry.reblog is not None and entry.account.acct == acct


def only_account(api: Mastodon, q: str) -> Any:
    found = api.search_v2(q, resolve=True, result_type="accounts").accounts
    assert len(found) == 1, found
    return found[0]


def test_mastodon_py_follows_a_remote_account_found_by_search_and_reads_its_posts(pair: Pair) -> None:
    # Given ada signed in on a and bob and cy signed in on b, each with Mastodon.py
    ada = signed_in(pair.a, "ada", PASSWORD)
    bob = signed_in(pair.b, "bob", PASSWORD)
    cy = signed_in(pair.b, "cy", PASSWORD)

    # When ada searches for bob's handle with resolve (a WebFinger lookup and a signed fetch by a)
    found = only_account(ada, f"@bob@{pair.host_b}")
    # Then she finds bob's account as a Mastodon user would see a remote account
    assert found.acct == f"bob@{pair.host_b}" and found.username == "bob"
    assert found.uri == f"{pair.b}/users/bob" and found.url == f"{pair.b}/@bob"
    assert found.group is False and found.locked is False

    # When she follows him
    relationship = ada.account_follow(found.id)
    assert relationship.id == found.id
    # Then the follow is accepted by b (its Accept comes back to a)
    eventually(lambda: ada.account_relationships(found.id)[0].following, "a holds ada's follow of bob as accepted")
    assert ada.account_relationships(found.id)[0].requested is False
    # and bob sees his new follower and a follow notification
    me_on_b = bob.account_verify_credentials()
    followers = bob.account_followers(me_on_b.id)
    assert [f.acct for f in followers] == [f"ada@{pair.host_a}"]
    assert [(n.type, n.account.acct) for n in bob.notifications()] == [("follow", f"ada@{pair.host_a}")]

    # When bob posts, with Mastodon.py on b
    post = bob.status_post("Why is the sky blue? #physics", visibility="public")
    # Then it shows up in ada's home timeline on a, as bob's
    seen = eventually(lambda: home_has(ada, post.uri), "bob's post reaches ada's home timeline")
    assert seen.account.id == found.id and seen.account.acct == f"bob@{pair.host_b}"
    assert "Why is the sky blue?" in seen.content and seen.url == post.url
    assert [t.name for t in seen.tags] == ["physics"]
    assert ada.account_statuses(found.id)[0].uri == post.uri

    # When ada looks up a post by URL that never reached a (cy's, whom she does not follow)
    unseen = cy.status_post("Rayleigh scattering, in one picture", visibility="public")
    assert ada.search_v2(unseen.url, resolve=False).statuses == []
    resolved = ada.search_v2(unseen.url, resolve=True).statuses
    # Then a fetches and stores it, and she sees it with its author
    assert [s.uri for s in resolved] == [unseen.uri]
    assert resolved[0].account.acct == f"cy@{pair.host_b}" and "Rayleigh" in resolved[0].content
    # and its ActivityPub id finds the same status, now stored
    assert [s.id for s in ada.search_v2(unseen.uri, resolve=True).statuses] == [resolved[0].id]
    # and she can act on it like on any status: a favourite that cy is notified of
    assert ada.status_favourite(resolved[0].id).favourited is True
    eventually(lambda: [n.type for n in cy.notifications()] == ["favourite"], "cy is notified of ada's favourite")
    # and it stays out of her home timeline (she does not follow cy)
    assert home_has(ada, unseen.uri) is None

    # When ada unfollows bob
    assert ada.account_unfollow(found.id).following is False
    # Then b forgets the follower
    eventually(lambda: bob.account_followers(me_on_b.id) == [], "b drops ada from bob's followers")
    # and bob's next post does not reach her home timeline, though a mention of her still reaches a
    later = bob.status_post("Next: why sunsets are red", visibility="public")
    bob.status_post(f"@ada@{pair.host_a} thanks for following along!", visibility="public")
    eventually(lambda: [n.type for n in ada.notifications()] == ["mention"], "bob's mention reaches ada")
    assert home_has(ada, later.uri) is None
    # and, as on Mastodon, his earlier posts leave her home timeline too, though a still has them
    assert home_has(ada, post.uri) is None
    assert ada.status(seen.id).uri == post.uri


def test_mastodon_py_joins_a_remote_community_and_posts_to_it(pair: Pair) -> None:
    # Given dan signed in on a, and cy and eve (the moderator) on b, where the community `learning` lives
    dan = signed_in(pair.a, "dan", PASSWORD)
    cy = signed_in(pair.b, "cy", PASSWORD)
    eve = signed_in(pair.b, "eve", PASSWORD)
    handle = f"@learning@{pair.host_b}"

    # When dan finds the community with search (resolve) on a
    community = only_account(dan, handle)
    # Then Mastodon.py shows it as a group account
    assert community.group is True and community.acct == f"learning@{pair.host_b}"
    assert community.display_name == "Learning" and community.locked is False

    # When dan joins it (a follow; an open community accepts at once), and cy joins it on b
    dan.account_follow(community.id)
    eventually(lambda: dan.account_relationships(community.id)[0].following, "learning accepts dan")
    local = only_account(cy, handle)
    assert local.group is True and local.acct == "learning" and local.uri == community.uri
    cy.account_follow(local.id)
    eventually(lambda: cy.account_relationships(local.id)[0].following, "learning accepts cy")
    assert {a.acct for a in eve.account_followers(local.id)} == {f"dan@{pair.host_a}", "cy"}

    # When dan posts to the community by mentioning it, as any Mastodon user would
    post = dan.status_post(f"{handle} How do vaccines train the immune system?", visibility="public")
    assert [m.acct for m in post.mentions] == [f"learning@{pair.host_b}"]
    # Then the community shares it, as a boost (how Mastodon shows a group's posts): on its page on b
    def on_page() -> Any:
        return next((s for s in cy.account_statuses(local.id) if (s.reblog or s).uri == post.uri), None)
    shared = eventually(on_page, "learning's page on b lists dan's post")
    assert boosted_by(shared, "learning") and shared.reblog.account.acct == f"dan@{pair.host_a}"
    # and in the home timeline of cy, a member on b, who does not follow dan himself
    seen = eventually(lambda: home_has(cy, post.uri), "dan's community post reaches cy's home timeline")
    assert boosted_by(seen, "learning") and "vaccines" in seen.reblog.content
    assert seen.reblog.account.acct == f"dan@{pair.host_a}"
    assert [m.acct for m in seen.reblog.mentions] == ["learning"]

    # When cy posts to the community on b
    second = cy.status_post(f"{handle} Do they work against every strain?", visibility="public")
    # Then the community announces it to its members on a: dan sees it in his home timeline, boosted by it
    relayed = eventually(lambda: home_has(dan, second.uri), "cy's community post reaches dan's home timeline")
    assert boosted_by(relayed, f"learning@{pair.host_b}") and relayed.account.id == community.id
    assert relayed.reblog.account.acct == f"cy@{pair.host_b}" and "every strain" in relayed.reblog.content
    # and on the community's page, as seen from a
    assert second.uri in [(s.reblog or s).uri for s in dan.account_statuses(community.id)]
    # and his own post is in his home timeline once, as his: as on Mastodon, a boost of a status the
    # timeline has already (the community's, here) is not shown again
    home = [(s.reblog or s).uri for s in dan.timeline_home(limit=40)]
    assert home.count(post.uri) == 1 and home_has(dan, post.uri).id == post.id
    # and so is cy's on b
    assert [(s.reblog or s).uri for s in cy.timeline_home(limit=40)].count(second.uri) == 1
