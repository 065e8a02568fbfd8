"""Domain blocks and allows as moderators manage them: severities, import/export, the log, the migration."""

from __future__ import annotations

from pathlib import Path

import pytest

from fediverse_learn.errors import NotFound, ValidationError
from fediverse_learn.moderation import (
    allow_domain,
    block_domain,
    disallow_domain,
    export_domain_blocks,
    import_domain_blocks,
    unblock_domain,
)
from fediverse_learn.store.db import Database
from fediverse_learn.store.domains import get_rule, list_rules
from fediverse_learn.store.migrations import MIGRATIONS
from fediverse_learn.store.moderation import list_log
from tests.federation.test_policy_rules import MASTODON_EXPORT
from tests.support.instances import Federation, Instance


@pytest.fixture
async def a(federation: Federation) -> Instance:
    return await federation.add("a.test")


async def test_block_and_allow_of_one_domain_coexist(a: Instance) -> None:
    # Given b.test allowed, then suspended with comments
    assert await allow_domain(a.services, "b.test", "partner school")
    assert not await allow_domain(a.services, "B.test")
    await block_domain(a.services, "b.test", public_comment="Spam", private_comment="ticket 12")
    block = await get_rule(a.services.db, "b.test", "block")
    assert block is not None and (block.severity, block.public_comment, block.private_comment) == (
        "suspend", "Spam", "ticket 12")
    assert not (await a.services.domain_rules()).allows("b.test")
    # When the block is lifted, Then the allow is still there
    await unblock_domain(a.services, "b.test")
    assert [(p.domain, p.kind) for p in await list_rules(a.services.db)] == [("b.test", "allow")]
    await disallow_domain(a.services, "b.test")
    assert await list_rules(a.services.db) == []
    with pytest.raises(NotFound):
        await unblock_domain(a.services, "b.test")


async def test_changing_a_block_keeps_one_rule(a: Instance) -> None:
    await block_domain(a.services, "loud.test", severity="silence")
    await block_domain(a.services, "loud.test", severity="noop", reject_media=True)
    [rule] = await list_rules(a.services.db, "block")
    assert (rule.severity, rule.reject_media) == ("noop", True)
    rules = await a.services.domain_rules()
    assert rules.allows("loud.test") and not rules.silences("loud.test") and rules.rejects_media("loud.test")


async def test_own_domain_and_bad_input_are_refused(a: Instance) -> None:
    for domain in ("a.test", "test", "https://x.test/"):
        with pytest.raises(ValidationError):
            await block_domain(a.services, domain)
    with pytest.raises(ValidationError, match="severity"):
        await block_domain(a.services, "x.test", severity="banish")
    assert await list_rules(a.services.db) == []


async def test_every_change_is_in_the_moderation_log(a: Instance) -> None:
    await block_domain(a.services, "spam.test", moderator="http://a.test/users/mod", private_comment="why")
    await allow_domain(a.services, "b.test")
    await unblock_domain(a.services, "spam.test")
    entries = await list_log(a.services.db)
    assert [(e.action, e.target) for e in entries] == [
        ("unblock_domain", "spam.test"), ("allow_domain", "b.test"), ("block_domain", "spam.test")]
    assert entries[2].moderator == "http://a.test/users/mod" and entries[2].comment == "why"
    assert entries[2].detail["severity"] == "suspend" and "purged" in entries[2].detail


async def test_import_of_a_mastodon_export_skips_covered_domains_and_reports_bad_lines(a: Instance) -> None:
    # Given a.test already suspends example (which covers spam.example)
    await block_domain(a.services, "example")
    text = MASTODON_EXPORT.replace("loud.example", "loud.test") + "ex*mple.org,suspend,false,false,,true\n"
    # When the export is imported
    result = await import_domain_blocks(a.services, text, source="blocklist.csv")
    # Then the covered domains are skipped, the others blocked as listed, the bad line reported
    assert result.added == ["loud.test"]
    assert result.skipped == ["spam.example", "pics.example"]
    assert [p.split(":")[0] for p in result.problems] == ["line 5"]
    loud = await get_rule(a.services.db, "loud.test", "block")
    assert loud is not None and (loud.severity, loud.reject_media, loud.obfuscate) == ("silence", True, True)
    assert loud.private_comment.startswith("Imported from blocklist.csv on ")
    # And a second import changes nothing
    again = await import_domain_blocks(a.services, text)
    assert again.added == [] and len(again.skipped) == 3


async def test_export_is_mastodon_csv_and_leaves_out_bare_noop_blocks(federation: Federation, a: Instance) -> None:
    await import_domain_blocks(a.services, MASTODON_EXPORT)
    await block_domain(a.services, "harmless.test", severity="noop")
    exported = await export_domain_blocks(a.services)
    assert exported.splitlines()[0] == "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    assert sorted(exported.splitlines()[1:]) == sorted(MASTODON_EXPORT.splitlines()[1:])
    # And another server imports it as it was
    other = await federation.add("other.test")
    await import_domain_blocks(other.services, exported)
    assert await export_domain_blocks(other.services) == exported


async def test_migration_keeps_existing_rules(tmp_path: Path) -> None:
    # Given a database at schema 3 with the first release's rules
    db = await Database.open(tmp_path / "db.sqlite3", create=True)
    try:
        for version, script in enumerate(MIGRATIONS[:3], start=1):
            await db._writer.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
        await db.execute("INSERT INTO domain_policies (domain, kind, severity, public_comment, created_at)"
                         " VALUES ('a.test', 'block', 'suspend', 'spam', 1), ('b.test', 'block', 'limit', '', 2),"
                         " ('c.test', 'allow', 'suspend', '', 3)")
        # When migration 4 runs
        assert (await db.migrate())[0] == 4
        # Then the rules are there, `limit` read as silence
        rules = [(p.domain, p.kind, p.severity, p.public_comment) for p in await list_rules(db)]
        assert rules == [("a.test", "block", "suspend", "spam"), ("b.test", "block", "silence", ""),
                         ("c.test", "allow", "suspend", "")]
    finally:
        await db.close()
