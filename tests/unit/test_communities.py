"""Community rules as pure functions: who may post, titles, addressing, moderation targets, Group documents."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fediverse_learn.communities import (
    MAX_TITLE,
    PostRequest,
    Scope,
    Target,
    addressed_uris,
    classify_target,
    is_group_aware,
    local_names,
    moderators_uri,
    refusal,
    scope_admits,
    thread_context_uri,
    title_from_content,
)
from fediverse_learn.documents import to_ap_actor
from fediverse_learn.documents_note import to_ap_note
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.communities import CommunitySettings
from fediverse_learn.store.objects import StoredNote
from fediverse_learn.uris import Uris
from fediverse_learn.vocab import PUBLIC

URIS = Uris("https://learn.test", "learn.test")
MATHS = "https://learn.test/users/maths"
MEMBER = PostRequest(member=True, moderator=False, banned=False, public=True, top_level=True, restricted=False,
                     locked=False)


# --- who may post -------------------------------------------------------------------------------------

def test_refusal_none_for_a_member_public_post() -> None:
    assert refusal(MEMBER) is None


@pytest.mark.parametrize(("change", "reason"), [
    ({"member": False}, "not a member"),
    ({"banned": True}, "banned"),
    ({"public": False}, "only public"),
    ({"restricted": True}, "only moderators may start threads"),
    ({"locked": True, "top_level": False}, "locked"),
])
def test_refusal_names_the_rule_broken(change: dict[str, bool], reason: str) -> None:
    found = refusal(replace(MEMBER, **change))
    assert found is not None and reason in found


def test_refusal_lets_moderators_post_in_restricted_and_locked_threads_but_not_when_banned() -> None:
    moderator = replace(MEMBER, member=False, moderator=True, restricted=True)
    assert refusal(moderator) is None
    assert refusal(replace(moderator, top_level=False, locked=True)) is None
    assert refusal(replace(moderator, banned=True)) is not None


def test_refusal_lets_members_reply_in_a_restricted_community() -> None:
    assert refusal(replace(MEMBER, restricted=True, top_level=False)) is None


# --- titles -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("html", "title"), [
    ("<p>Fractions with pizza</p><p>Cut it in eighths.</p>", "Fractions with pizza"),
    ("<p>Line one<br>line two</p>", "Line one"),
    ("<p>  </p><p>Tom &amp; Jerry <a href=\"https://x.test/@m\">@<span>maths</span></a></p>", "Tom & Jerry @maths"),
    ("Plain text\nsecond line", "Plain text"),
])
def test_title_from_content_is_the_first_line_of_text(html: str, title: str) -> None:
    assert title_from_content(html) == title


def test_title_from_content_cuts_long_lines_at_a_word() -> None:
    title = title_from_content("<p>" + "fraction " * 40 + "</p>")
    assert title is not None and len(title) <= MAX_TITLE and title.endswith("fraction…")


def test_title_from_content_of_an_empty_post_is_none() -> None:
    assert title_from_content("<p> </p>") is None


# --- addressing and targets ---------------------------------------------------------------------------

def test_addressed_uris_reads_addressing_audience_and_mentions_once() -> None:
    activity = {"to": [PUBLIC], "cc": ["https://m.test/users/cat/followers", MATHS]}
    note = {"to": [PUBLIC], "audience": MATHS, "tag": [
        {"type": "Mention", "href": "https://learn.test/users/science"}, {"type": "Hashtag", "href": "https://x/t"},
        {"type": "Mention", "href": "not a url"}]}
    assert addressed_uris(activity, note) == [
        "https://m.test/users/cat/followers", MATHS, "https://learn.test/users/science"]


def test_local_names_keeps_actors_of_ours_only() -> None:
    found = local_names(URIS, [MATHS, f"{MATHS}/followers", "https://m.test/users/cat", MATHS,
                               "https://learn.test/users/ada/statuses/1", "https://learn.test/users/science"])
    assert found == ["maths", "science"]


@pytest.mark.parametrize(("target", "expected"), [
    (MATHS, Target("maths", "community")),
    (f"{MATHS}/outbox", Target("maths", "community")),
    ({"id": f"{MATHS}/followers", "type": "Collection"}, Target("maths", "community")),
    (f"{MATHS}/featured", Target("maths", "featured")),
    (f"{MATHS}/moderators", Target("maths", "moderators")),
    ("https://lemmy.test/c/maths", None),
    (f"{MATHS}/statuses/1", None),
    (None, None),
])
def test_classify_target(target: object, expected: Target | None) -> None:
    assert classify_target(URIS, target) == expected


@pytest.mark.parametrize(("software", "aware"), [
    ("lemmy", True), ("Mbin", True), ("piefed", True), ("nodebb", True), ("fediverse-learn", True),
    ("mastodon", False), ("gotosocial", False), ("", False),
])
def test_is_group_aware(software: str, aware: bool) -> None:
    assert is_group_aware(software) is aware


def test_collection_urls_of_a_community() -> None:
    assert moderators_uri(URIS, "maths") == f"{MATHS}/moderators"
    assert thread_context_uri(URIS, "maths", 7) == f"{MATHS}/statuses/7/context"


# --- documents ----------------------------------------------------------------------------------------

def _actor(kind: str) -> LocalActor:
    return LocalActor(id=1, name="maths", kind=kind, display_name="Maths", summary="", role="member",
                      private_key_pem="", public_key_pem="PEM", manually_approves_followers=False,
                      discoverable=True, indexable=True, created_at=0.0, removed_at=None)


def test_group_document_names_its_moderators_and_posting_restriction() -> None:
    doc = to_ap_actor(_actor("group"), URIS, CommunitySettings(posting_restricted_to_mods=True))
    assert doc["type"] == "Group"
    assert doc["attributedTo"] == doc["moderators"] == f"{MATHS}/moderators"
    assert doc["postingRestrictedToMods"] is True
    assert doc["featured"] == f"{MATHS}/featured"


def test_person_document_has_no_group_fields() -> None:
    doc = to_ap_actor(_actor("person"), URIS)
    assert not {"attributedTo", "moderators", "postingRestrictedToMods"} & doc.keys()


def _note(**fields: object) -> StoredNote:
    note = StoredNote(
        id=5, uri="https://learn.test/users/ada/statuses/5", local_actor_id=1,
        author_uri="https://learn.test/users/ada", type="Note", visibility="public", content_html="<p>x</p>",
        source=None, source_type=None, summary=None, name=None, sensitive=False, language=None, url=None,
        in_reply_to_uri=None, context_uri=None, audience_uri=None, to=(PUBLIC,), cc=(), tags=(), published=0.0,
        updated=None, deleted_at=None)
    return replace(note, **fields)  # type: ignore[arg-type]


def test_note_document_carries_audience_and_context_when_set() -> None:
    context = "https://learn.test/users/ada/statuses/5/context"
    doc = to_ap_note(_note(audience_uri=MATHS, context_uri=context), "ada", URIS)
    assert doc["audience"] == MATHS and doc["context"] == context
    assert not {"audience", "context"} & to_ap_note(_note(), "ada", URIS).keys()


# --- scope --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("scope", "host", "admitted"), [
    ("public", "far.test", True),
    ("public", "learn.test", True),
    ("local", "learn.test", True),
    ("local", "LEARN.test:443", True),
    ("local", "partner.test", False),
    ("allowlist", "learn.test", True),
    ("allowlist", "partner.test", True),
    ("allowlist", "class.partner.test", True),
    ("allowlist", "notpartner.test", False),
    ("allowlist", "far.test", False),
])
def test_scope_admits_local_members_partners_or_anyone(scope: Scope, host: str, admitted: bool) -> None:
    assert scope_admits(scope, host, "learn.test", ["partner.test"]) is admitted


def test_scope_allowlist_without_allow_rules_admits_local_members_only() -> None:
    assert scope_admits("allowlist", "learn.test", "learn.test", [])
    assert not scope_admits("allowlist", "partner.test", "learn.test", [])


def test_refusal_of_an_author_outside_the_scope_even_a_moderator() -> None:
    found = refusal(replace(MEMBER, in_scope=False))
    assert found is not None and "scope" in found
    assert refusal(replace(MEMBER, moderator=True, in_scope=False)) is not None
