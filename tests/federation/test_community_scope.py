"""A community's scope (issue 6): `local` (our members only), `allowlist` (partner servers an instance allow
rule covers), `public` (anyone). Out of scope, a Follow gets a Reject and a post is not announced."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fediverse_learn.cli import main
from fediverse_learn.communities import Scope
from fediverse_learn.config import load_config
from fediverse_learn.store.communities import community_named, get_settings, save_settings
from fediverse_learn.store.db import Database
from fediverse_learn.store.domains import save_allow
from fediverse_learn.store.follows import get_follow
from tests.support.communities import add_community, c2s, join, local, post
from tests.support.instances import Federation, Instance


async def _set_scope(instance: Instance, name: str, scope: Scope) -> None:
    community = await local(instance, name)
    async with instance.services.db.transaction() as tx:
        await save_settings(tx, community.id, instance.services.clock.time(), scope=scope)
    assert (await get_settings(instance.services.db, community)).scope == scope


async def _allow(instance: Instance, domain: str) -> None:
    async with instance.services.db.transaction() as tx:
        await save_allow(tx, domain, "partner school", instance.services.clock.time())
    instance.services.forget_domain_rules()


async def _scoped(federation: Federation, scope: Scope, *allow: str) -> tuple[Instance, Instance, str]:
    """a.test with ada and the community maths of this scope (and allow rules); bea on b.test asks to join."""
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await a.add_member("ada")
    await b.add_member("bea")
    for domain in allow:
        await _allow(a, domain)
    maths = await add_community(a, "maths", "ada")
    await _set_scope(a, "maths", scope)
    await c2s(b, "bea", {"type": "Follow", "object": maths})
    await federation.settle()
    return a, b, maths


async def test_a_local_community_rejects_a_remote_follow(federation: Federation) -> None:
    # Given a community on a.test with scope local
    a, b, maths = await _scoped(federation, "local")
    bea = b.services.uris.actor("bea")
    # Then bea's (b.test) Follow was answered with a Reject: she is no member on either side
    assert await get_follow(a.services.db, bea, maths) is None
    assert await get_follow(b.services.db, bea, maths) is None
    rejects = [r for r in federation.network.sent_to("b.test", "POST", "/inbox") if b'"Reject"' in r.body]
    rejects += [r for r in federation.network.sent_to("b.test", "POST", "/users/bea/inbox") if b'"Reject"' in r.body]
    assert rejects
    # And a local member may still join
    await a.add_member("cleo")
    await c2s(a, "cleo", {"type": "Follow", "object": maths})
    await federation.settle()
    follow = await get_follow(a.services.db, a.services.uris.actor("cleo"), maths)
    assert follow is not None and follow.state == "accepted"


async def test_a_community_made_local_ignores_posts_from_other_servers(federation: Federation) -> None:
    # Given bea (b.test) joined a public community, which then became local
    s = await join(federation)
    follow = await get_follow(s.a.services.db, s.bea, s.maths)
    assert follow is not None and follow.state == "accepted"
    await _set_scope(s.a, "maths", "local")
    # When bea posts to it, and ada (a local member and moderator) does too
    theirs = await s.member_post(s.b, "bea", "Fractions with pizza")
    ours = await s.member_post(s.a, "ada", "Number lines on the floor")
    # Then only ada's post is announced; bea's is ignored
    assert not await s.accepted(theirs)
    assert not s.relayed_to_b(theirs)
    assert await s.accepted(ours)
    # And a Mastodon-style post from c.test is ignored as well
    assert not await s.accepted(await s.mastodon_post("Try eighths!"))


async def test_an_allowlist_community_admits_partners_and_refuses_others(federation: Federation) -> None:
    # Given a community on a.test with scope allowlist and an instance allow rule for b.test
    a, b, maths = await _scoped(federation, "allowlist", "b.test")
    bea = b.services.uris.actor("bea")
    # Then bea (b.test) joined
    follow = await get_follow(a.services.db, bea, maths)
    assert follow is not None and follow.state == "accepted"
    # And her post is announced
    federation.clock.advance(60)
    uri = await post(b, "bea", "Fractions with pizza", maths)
    await federation.settle()
    assert await a.services.db.fetchone("SELECT 1 FROM community_posts WHERE object_uri = ?", (uri,)) is not None
    # But c.test, which no allow rule covers, gets a Reject
    c = await federation.add("c.test")
    await c.add_member("cal")
    cal = c.services.uris.actor("cal")
    await c2s(c, "cal", {"type": "Follow", "object": maths})
    await federation.settle()
    assert await get_follow(a.services.db, cal, maths) is None
    assert await get_follow(c.services.db, cal, maths) is None


async def test_an_allowlist_community_ignores_posts_from_servers_no_rule_covers(federation: Federation) -> None:
    # Given bea (b.test) and cat (c.test) joined a public community, which then took scope allowlist with
    # an allow rule for b.test only
    s = await join(federation)
    await _allow(s.a, "b.test")
    await _set_scope(s.a, "maths", "allowlist")
    # When both post to it
    bea_post = await s.member_post(s.b, "bea", "Fractions with pizza")
    cat_post = await s.mastodon_post("Number lines on the floor")
    # Then bea's post is announced, cat's is not
    assert await s.accepted(bea_post)
    assert not await s.accepted(cat_post)


# --- the command line ---------------------------------------------------------------------------------

def _scope_of(config: Path, name: str) -> str:
    async def read() -> str:
        db = await Database.open(load_config(config).database_path)
        try:
            community = await community_named(db, name)
            assert community is not None
            return (await get_settings(db, community)).scope
        finally:
            await db.close()
    return asyncio.run(read())


def test_community_add_and_set_take_a_scope(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    assert main(["--config", str(config), "write-config", "--local"]) == 0
    assert main(["--config", str(config), "init"]) == 0
    # A community is public unless told otherwise
    assert main(["--config", str(config), "community", "add", "maths"]) == 0
    assert _scope_of(config, "maths") == "public"
    assert main(["--config", str(config), "community", "add", "staff", "--scope", "local"]) == 0
    assert _scope_of(config, "staff") == "local"
    # `set` changes the scope, and only when given
    assert main(["--config", str(config), "community", "set", "maths", "--scope", "allowlist"]) == 0
    assert _scope_of(config, "maths") == "allowlist"
    assert main(["--config", str(config), "community", "set", "maths", "--rules", "Be kind"]) == 0
    assert _scope_of(config, "maths") == "allowlist"
    # An unknown scope is refused by the parser
    with pytest.raises(SystemExit):
        main(["--config", str(config), "community", "set", "maths", "--scope", "everyone"])
    capsys.readouterr()
