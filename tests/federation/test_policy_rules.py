"""The pure policy functions: domain rules, Mastodon's domain-block CSV, direct-message and reply rules."""

from __future__ import annotations

import pytest

from fediverse_learn.errors import ValidationError
from fediverse_learn.policy import (
    BlocklistEntry,
    direct_message_allowed,
    domain_covers,
    format_blocklist_csv,
    host_allowed,
    parse_blocklist_csv,
    reply_allowed,
    strongest_severity,
    validate_domain,
)

MASTODON_EXPORT = (
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    "spam.example,suspend,false,false,\"Spam, mostly\",false\n"
    "loud.example,silence,true,false,,true\n"
    "pics.example,noop,true,true,Large media,false\n"
)


@pytest.mark.parametrize(("rule", "host", "covered"), [
    ("school.example", "school.example", True),
    ("school.example", "a.school.example", True),
    ("school.example", "a.b.school.example:8443", True),
    ("school.example", "SCHOOL.example.", True),
    ("school.example", "notschool.example", False),
    ("school.example", "school.example.org", False),
    ("a.school.example", "school.example", False),
    ("bücher.example", "xn--bcher-kva.example", True),
])
def test_domain_covers_subdomains_and_ports_only(rule: str, host: str, covered: bool) -> None:
    assert domain_covers(rule, host) is covered


def test_host_allowed_in_both_modes_and_a_block_beats_an_allow() -> None:
    assert host_allowed("b.test", "blocklist", [], [])
    assert not host_allowed("x.c.test", "blocklist", ["c.test"], [])
    assert host_allowed("b.test:8443", "allowlist", [], ["b.test"])
    assert not host_allowed("c.test", "allowlist", [], ["b.test"])
    assert not host_allowed("b.test", "allowlist", ["b.test"], ["b.test"])


def test_strongest_covering_severity_wins() -> None:
    blocks = {"example": "silence", "bad.example": "suspend", "pics.example": "noop"}
    assert strongest_severity("x.bad.example", blocks) == "suspend"
    assert strongest_severity("pics.example", blocks) == "silence"
    assert strongest_severity("other.test", blocks) is None


@pytest.mark.parametrize("text", ["", "https://x.test/", "x test", "ex*mple.com", "a..b", "-a.test"])
def test_validate_domain_refuses_what_is_not_a_host_name(text: str) -> None:
    with pytest.raises(ValidationError):
        validate_domain(text)


def test_validate_domain_normalises() -> None:
    assert validate_domain(" *.Spam.Example. ") == "spam.example"
    assert validate_domain("bücher.example:443") == "xn--bcher-kva.example"


def test_mastodon_export_is_read_field_by_field() -> None:
    parsed = parse_blocklist_csv(MASTODON_EXPORT)
    assert parsed.problems == ()
    assert parsed.entries == (
        BlocklistEntry("spam.example", "suspend", False, False, "Spam, mostly", False),
        BlocklistEntry("loud.example", "silence", True, False, "", True),
        BlocklistEntry("pics.example", "noop", True, True, "Large media", False),
    )


def test_export_round_trips_through_import() -> None:
    parsed = parse_blocklist_csv(MASTODON_EXPORT)
    assert format_blocklist_csv(parsed.entries) == MASTODON_EXPORT
    assert parse_blocklist_csv(format_blocklist_csv(parsed.entries)) == parsed


def test_bad_lines_are_reported_and_the_rest_read() -> None:
    text = ("\ufeff#domain,#severity,#public_comment,#reject_media\n"
            "Good.Example,LIMIT,fine,TRUE\n"
            "odd.example,sometimes,,\n"
            "ex*mple.com,suspend,,\n"
            "flags.example,suspend,,maybe\n"
            "\n"
            "good.example,suspend,again,\n")
    parsed = parse_blocklist_csv(text)
    assert [(e.domain, e.severity, e.public_comment) for e in parsed.entries] == [("good.example", "suspend", "again")]
    assert [p.split(":")[0] for p in parsed.problems] == ["line 3", "line 4", "line 5"]


def test_plain_list_of_domains_is_read_as_suspensions() -> None:
    parsed = parse_blocklist_csv("# shared list\nspam.example\n\nloud.example\n")
    assert [(e.domain, e.severity) for e in parsed.entries] == [("spam.example", "suspend"),
                                                               ("loud.example", "suspend")]


@pytest.mark.parametrize(("policy", "local", "follows", "allowed"), [
    ("anyone", False, False, True),
    ("followed", False, False, False),
    ("followed", False, True, True),
    ("none", False, True, False),
    ("none", True, False, True),
])
def test_direct_messages_from_remote_accounts(policy: str, local: bool, follows: bool, allowed: bool) -> None:
    assert direct_message_allowed(policy, sender_is_local=local, member_follows_sender=follows) is allowed


@pytest.mark.parametrize(("policy", "author", "mentioned", "follower", "allowed"), [
    ("anyone", False, False, False, True),
    ("followers", False, False, True, True),
    ("followers", False, False, False, False),
    ("followers", False, True, False, True),
    ("mentioned", False, False, True, False),
    ("mentioned", False, True, False, True),
    ("mentioned", True, False, False, True),
])
def test_who_may_reply(policy: str, author: bool, mentioned: bool, follower: bool, allowed: bool) -> None:
    assert reply_allowed(policy, replier_is_author=author, replier_mentioned=mentioned,
                         replier_follows_author=follower) is allowed
