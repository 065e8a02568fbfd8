"""Unit tests for the AS2 -> internal converters: every server fixture replayed, then hostile documents."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fediverse_learn.converters import (
    RemoteActor,
    RemoteKey,
    RemoteNote,
    actor_from_ap,
    key_from_ap,
    note_from_ap,
)
from fediverse_learn.converters_actor import MAX_ACTOR_NAME, MAX_ACTOR_SUMMARY
from fediverse_learn.converters_note import MAX_CONTENT, MAX_MENTIONS, MAX_RECIPIENTS, MAX_TAGS
from fediverse_learn.errors import ValidationError
from fediverse_learn.vocab import PUBLIC, has_type, id_of, is_public, types_of

FIXTURES = Path(__file__).parent.parent / "fixtures"
SERVERS = ("mastodon", "gotosocial", "lemmy", "misskey", "fedify")
ALL_FIXTURES = sorted(p for server in SERVERS for p in (FIXTURES / server).glob("*.json"))
ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")
NOTE_TYPES = ("Note", "Article", "Page", "Question")

ADA = "https://mastodon.test/users/ada"
BOB = "https://gts.test/users/bob"
CAROL = "https://lemmy.test/u/carol"
MATHS = "https://lemmy.test/c/maths"
DANA = "https://misskey.test/users/9tq8xz3k2b"
ERIN = "https://fedify.test/users/erin"
GRACE = "https://learn.test/users/grace"
GRACE_NOTE = "https://learn.test/users/grace/notes/01HXNOTE00000000000000001"


def load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
    return data


def embedded_note(activity: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The (object, actor) a Create/Update carries, looking through a Lemmy community's Announce."""
    if has_type(activity, "Announce") and isinstance(activity.get("object"), dict):
        activity = activity["object"]
    obj = activity.get("object")
    if has_type(activity, "Create", "Update") and has_type(obj, *NOTE_TYPES):
        assert isinstance(obj, dict)
        actor = id_of(activity.get("actor"))
        assert actor is not None
        return obj, actor
    return None


def replay(path: Path) -> RemoteActor | RemoteKey | RemoteNote | str:
    """Run one fixture through the converter its shape calls for; the str result names a plain activity."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if path.name == "main_key.json":
        return key_from_ap(doc, doc["publicKey"]["id"])
    if has_type(doc, *ACTOR_TYPES):
        return actor_from_ap(doc, doc["id"])
    if (found := embedded_note(doc)) is not None:
        return note_from_ap(*found)
    if has_type(doc, "Follow", "Accept", "Undo", "Like", "Announce", "Delete"):
        assert id_of(doc["actor"]) is not None and id_of(doc["object"]) is not None
        return types_of(doc)[0]
    raise AssertionError(f"{path} has a shape no test replays")


# ---------------------------------------------------------------------------------------- fixture replay


def test_fixtures_cover_every_server() -> None:
    assert {p.parent.name for p in ALL_FIXTURES} == set(SERVERS)


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_converts(path: Path) -> None:
    assert replay(path)


def test_mastodon_person() -> None:
    actor = actor_from_ap(load("mastodon/person.json"), ADA)
    assert actor.type == "Person" and actor.username == "ada" and actor.domain == "mastodon.test"
    assert actor.name == "Ada Byron :maths:"
    assert actor.inbox == f"{ADA}/inbox" and actor.outbox == f"{ADA}/outbox"
    assert actor.shared_inbox == "https://mastodon.test/inbox"
    assert actor.followers == f"{ADA}/followers" and actor.following == f"{ADA}/following"
    assert actor.featured == f"{ADA}/collections/featured"
    assert actor.url == "https://mastodon.test/@ada"
    assert [k.key_id for k in actor.keys] == [f"{ADA}#main-key"]
    assert actor.keys[0].owner == ADA and actor.keys[0].public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert actor.discoverable and actor.indexable
    assert not actor.manually_approves_followers and not actor.bot
    assert actor.published == datetime(2023, 9, 14, tzinfo=UTC)
    # Media may live on another host (a CDN); only the actor's own sub-URIs are origin-checked.
    assert actor.icon_url is not None and actor.icon_url.startswith("https://files.mastodon.test/")
    assert actor.header_url is not None and actor.header_url.endswith("board.jpg")
    assert actor.also_known_as == () and actor.moved_to is None
    assert "maths" in actor.summary_html


def test_gotosocial_person_and_its_main_key_stub() -> None:
    actor = actor_from_ap(load("gotosocial/person.json"), BOB)
    assert actor.manually_approves_followers
    assert actor.shared_inbox is None
    assert actor.also_known_as == ("https://mastodon.test/users/bob_old",)
    assert [k.key_id for k in actor.keys] == [f"{BOB}/main-key"]
    key = key_from_ap(load("gotosocial/main_key.json"), f"{BOB}/main-key")
    assert key == actor.keys[0]


def test_lemmy_person_and_group() -> None:
    person = actor_from_ap(load("lemmy/person.json"), CAROL)
    assert person.shared_inbox == "https://lemmy.test/inbox"
    assert person.followers is None and person.moderators is None
    assert person.published == datetime(2023, 6, 12, 18, 4, 11, 538372, tzinfo=UTC)
    group = actor_from_ap(load("lemmy/group.json"), MATHS)
    assert group.type == "Group" and group.username == "maths"
    assert group.moderators == f"{MATHS}/moderators"
    assert group.posting_restricted_to_mods is False
    assert group.featured == f"{MATHS}/featured" and group.followers == f"{MATHS}/followers"
    assert group.keys[0].owner == MATHS


def test_lemmy_group_posting_restricted_to_mods() -> None:
    doc = load("lemmy/group.json")
    doc["postingRestrictedToMods"] = True
    assert actor_from_ap(doc, MATHS).posting_restricted_to_mods


def test_misskey_person_ignores_misskey_extensions() -> None:
    actor = actor_from_ap(load("misskey/person.json"), DANA)
    assert actor.username == "dana" and actor.name == "Dana 🐈"
    assert actor.shared_inbox == "https://misskey.test/inbox"
    assert actor.url == "https://misskey.test/@dana"
    assert actor.header_url is None
    assert actor.keys[0].key_id == f"{DANA}#main-key"


def test_fedify_person_reads_rsa_key_and_skips_multikey() -> None:
    actor = actor_from_ap(load("fedify/person.json"), ERIN)
    assert [k.key_id for k in actor.keys] == [f"{ERIN}#main-key"]
    assert actor.shared_inbox == "https://fedify.test/inbox"
    assert actor.discoverable and not actor.indexable


def test_service_and_application_actors_are_bots() -> None:
    doc = load("mastodon/person.json")
    for kind in ("Service", "Application"):
        doc["type"] = kind
        assert actor_from_ap(doc, ADA).bot


def note_of(relative: str) -> RemoteNote:
    found = embedded_note(load(relative))
    assert found is not None
    return note_from_ap(*found)


def test_mastodon_public_note_with_mention_and_hashtag() -> None:
    note = note_of("mastodon/create_note_public.json")
    assert note.uri == f"{ADA}/statuses/112384000000000001" and note.type == "Note"
    assert note.attributed_to == ADA
    assert note.to == (PUBLIC,)
    assert note.cc == (f"{ADA}/followers", BOB)
    assert note.hashtags == ("fractions",) and note.mentions == (BOB,)
    assert note.url == "https://mastodon.test/@ada/112384000000000001"
    assert note.replies == f"{ADA}/statuses/112384000000000001/replies"
    assert note.language == "en" and note.summary is None and not note.sensitive
    assert note.published == datetime(2024, 5, 2, 9, 15, tzinfo=UTC) and note.updated is None
    assert note.in_reply_to is None and note.context is None
    assert "Pizza slices" in note.content_html


def test_mastodon_followers_only_and_direct_notes() -> None:
    followers_only = note_of("mastodon/create_note_followers_only.json")
    assert followers_only.to == (f"{ADA}/followers",) and followers_only.cc == ()
    assert not any(is_public(a) for a in followers_only.to + followers_only.cc)
    direct = note_of("mastodon/create_note_direct.json")
    assert direct.to == (GRACE,) and direct.cc == () and direct.mentions == (GRACE,)


def test_mastodon_reply_update_and_question() -> None:
    assert note_of("mastodon/create_note_reply.json").in_reply_to == GRACE_NOTE
    updated = note_of("mastodon/update_note.json")
    assert updated.updated == datetime(2024, 5, 2, 13, 20, tzinfo=UTC)
    assert "year 6" in updated.content_html
    question = note_of("mastodon/create_question.json")
    assert question.type == "Question" and "manipulative" in question.content_html


def test_gotosocial_single_valued_fields() -> None:
    note = note_of("gotosocial/create_note_public.json")
    assert note.to == (PUBLIC,) and note.cc == (f"{BOB}/followers",)
    assert note.hashtags == ("physics",) and note.summary is None
    reply = note_of("gotosocial/create_note_reply.json")
    assert reply.in_reply_to == GRACE_NOTE and reply.mentions == (GRACE,)


def test_lemmy_page_in_community_announce() -> None:
    note = note_of("lemmy/announce_create_page.json")
    assert note.type == "Page" and note.attributed_to == CAROL
    assert note.name == "Teaching fractions with paper strips"
    assert note.audience == MATHS and note.to == (PUBLIC, MATHS)
    assert note.language == "en" and note.hashtags == ("fractions",)
    assert note.published == datetime(2024, 5, 4, 7, 30, 12, 123456, tzinfo=UTC)
    comment = note_of("lemmy/announce_create_note_comment.json")
    assert comment.in_reply_to == "https://lemmy.test/post/42" and comment.mentions == (ADA,)


def test_misskey_quote_uses_html_content_not_mfm() -> None:
    note = note_of("misskey/create_note_quote.json")
    assert "RE:" in note.content_html and note.hashtags == ("art",)
    doc = load("misskey/create_note_quote.json")["object"]
    del doc["content"]
    assert note_from_ap(doc, DANA).content_html == ""


def test_fedify_note_addressed_as_public_compact_iri() -> None:
    note = note_of("fedify/create_note_proof.json")
    assert note.to == (PUBLIC,) and note.cc == (f"{ERIN}/followers",)
    assert note.hashtags == ("computing",)


def test_plain_activities_read_with_vocab() -> None:
    assert id_of(load("mastodon/announce.json")["object"]) == GRACE_NOTE
    tombstone = load("mastodon/delete_tombstone.json")["object"]
    assert types_of(tombstone) == ("Tombstone",)
    undo = load("mastodon/undo_follow.json")
    assert has_type(undo["object"], "Follow") and undo["object"]["actor"] == undo["actor"]


# ---------------------------------------------------------------------------------------- actor origin rules


def mastodon_person() -> dict[str, Any]:
    return copy.deepcopy(load("mastodon/person.json"))


def test_actor_id_must_equal_the_fetched_url() -> None:
    with pytest.raises(ValidationError, match="not the URL fetched"):
        actor_from_ap(mastodon_person(), "https://evil.test/users/ada")
    with pytest.raises(ValidationError, match="not the URL fetched"):
        actor_from_ap(mastodon_person(), ADA + "/")


@pytest.mark.parametrize("field", ["inbox", "outbox", "followers", "following"])
def test_actor_sub_uri_on_another_host_is_rejected(field: str) -> None:
    doc = mastodon_person()
    doc[field] = "https://evil.test/collect"
    with pytest.raises(ValidationError, match=field):
        actor_from_ap(doc, ADA)


def test_actor_shared_inbox_on_another_host_is_rejected() -> None:
    doc = mastodon_person()
    doc["endpoints"] = {"sharedInbox": "https://evil.test/inbox"}
    with pytest.raises(ValidationError, match="sharedInbox"):
        actor_from_ap(doc, ADA)


def test_actor_sub_uri_lookalike_hosts_are_rejected() -> None:
    for inbox in ("https://mastodon.test.evil.test/inbox", "https://mastodon.test@evil.test/inbox"):
        doc = mastodon_person()
        doc["inbox"] = inbox
        with pytest.raises(ValidationError):
            actor_from_ap(doc, ADA)


def test_actor_public_key_on_another_host_is_rejected() -> None:
    doc = mastodon_person()
    doc["publicKey"]["id"] = "https://evil.test/keys/1"
    with pytest.raises(ValidationError, match="origin"):
        actor_from_ap(doc, ADA)


def test_actor_public_key_owned_by_another_actor_is_rejected() -> None:
    doc = mastodon_person()
    doc["publicKey"]["owner"] = "https://mastodon.test/users/mallory"
    with pytest.raises(ValidationError, match="owned by"):
        actor_from_ap(doc, ADA)


def test_actor_public_key_list_and_missing_owner() -> None:
    doc = mastodon_person()
    first = doc["publicKey"]
    second = {"id": f"{ADA}#key-2", "publicKeyPem": first["publicKeyPem"]}
    doc["publicKey"] = [first, second, first, "https://mastodon.test/users/ada#bare-reference"]
    actor = actor_from_ap(doc, ADA)
    assert [k.key_id for k in actor.keys] == [f"{ADA}#main-key", f"{ADA}#key-2"]
    assert {k.owner for k in actor.keys} == {ADA}


def test_actor_keys_without_pem_are_skipped() -> None:
    doc = mastodon_person()
    doc["publicKey"]["publicKeyPem"] = "not a key"
    assert actor_from_ap(doc, ADA).keys == ()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "Note"}, "not an actor"),
        ({"inbox": None}, "inbox"),
        ({"inbox": "javascript:alert(1)"}, "inbox"),
        ({"preferredUsername": None}, "preferredUsername"),
        ({"preferredUsername": "ada@evil.test"}, "preferredUsername"),
        ({"preferredUsername": "a" * 300}, "preferredUsername"),
        ({"id": None}, "no id"),
    ],
)
def test_actor_malformed_documents_are_rejected(change: dict[str, Any], reason: str) -> None:
    doc = mastodon_person()
    doc.update(change)
    with pytest.raises(ValidationError, match=reason):
        actor_from_ap(doc, ADA)


def test_actor_rejects_a_non_object() -> None:
    with pytest.raises(ValidationError):
        actor_from_ap([], ADA)  # type: ignore[arg-type]


def test_actor_dangerous_or_foreign_urls_are_dropped() -> None:
    doc = mastodon_person()
    doc["url"] = "javascript:alert(1)"
    doc["icon"] = {"type": "Image", "url": "javascript:alert(1)"}
    doc["image"] = "data:image/png;base64,AAAA"
    doc["movedTo"] = "javascript:alert(1)"
    doc["featured"] = "https://evil.test/featured"
    actor = actor_from_ap(doc, ADA)
    assert actor.url is None and actor.icon_url is None and actor.header_url is None
    assert actor.moved_to is None and actor.featured is None
    doc["url"] = "https://evil.test/@ada"
    assert actor_from_ap(doc, ADA).url is None


def test_actor_huge_strings_and_lists_are_capped() -> None:
    doc = mastodon_person()
    doc["name"] = "n" * 1_000_000
    doc["summary"] = "s" * 1_000_000
    doc["alsoKnownAs"] = [f"https://other{i}.test/users/ada" for i in range(10_000)]
    doc["publicKey"] = [
        {"id": f"{ADA}#key-{i}", "owner": ADA, "publicKeyPem": doc["publicKey"]["publicKeyPem"]} for i in range(1000)
    ]
    actor = actor_from_ap(doc, ADA)
    assert len(actor.name) == MAX_ACTOR_NAME
    assert len(actor.summary_html) <= MAX_ACTOR_SUMMARY + 100
    assert len(actor.also_known_as) == 20
    assert len(actor.keys) == 10


def test_actor_deeply_nested_values_do_not_crash() -> None:
    deep: Any = "https://mastodon.test/users/ada/inbox"
    for _ in range(10_000):
        deep = {"id": deep, "nested": [deep]} if isinstance(deep, str) else {"nested": deep}
    doc = mastodon_person()
    doc["summary"] = deep
    doc["endpoints"] = deep
    doc["alsoKnownAs"] = deep
    actor = actor_from_ap(doc, ADA)
    assert actor.summary_html == "" and actor.shared_inbox is None and actor.also_known_as == ()


def test_actor_summary_is_sanitised() -> None:
    doc = mastodon_person()
    doc["summary"] = '<p>hi</p><script>alert(1)</script><img src=x onerror="alert(2)">'
    summary = actor_from_ap(doc, ADA).summary_html
    assert "<script" not in summary.lower() and "onerror" not in summary.lower()


# ---------------------------------------------------------------------------------------- keys


def test_key_from_mastodon_actor_document() -> None:
    doc = mastodon_person()
    assert key_from_ap(doc, f"{ADA}#main-key").key_id == f"{ADA}#main-key"
    assert key_from_ap(doc, ADA).key_id == f"{ADA}#main-key"
    with pytest.raises(ValidationError, match="lists no key"):
        key_from_ap(doc, f"{ADA}#other-key")


def bare_key(**change: Any) -> dict[str, Any]:
    doc = {
        "@context": "https://w3id.org/security/v1",
        "id": f"{BOB}/main-key",
        "type": "Key",
        "owner": BOB,
        "publicKeyPem": load("gotosocial/person.json")["publicKey"]["publicKeyPem"],
    }
    doc.update(change)
    return doc


def test_key_from_bare_key_document() -> None:
    key = key_from_ap(bare_key(), f"{BOB}/main-key")
    assert key.owner == BOB and key.key_id == f"{BOB}/main-key"
    assert key_from_ap(bare_key(type=None), f"{BOB}/main-key").owner == BOB


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (bare_key(owner="https://evil.test/users/bob"), "another origin"),
        (bare_key(owner=None), "no owner"),
        (bare_key(id=f"{BOB}/other-key"), "not the URL fetched"),
        (bare_key(publicKeyPem="-----BEGIN PRIVATE KEY-----"), "publicKeyPem"),
        ({"id": f"{BOB}/main-key", "type": "Note"}, "neither a key nor an actor"),
    ],
)
def test_key_from_bad_bare_key_documents(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        key_from_ap(doc, f"{BOB}/main-key")


def test_key_stub_from_another_origin_is_rejected() -> None:
    stub = load("gotosocial/main_key.json")
    stub["id"] = "https://evil.test/users/bob"
    with pytest.raises(ValidationError, match="another origin"):
        key_from_ap(stub, f"{BOB}/main-key")


def test_key_stub_claiming_foreign_owner_is_rejected() -> None:
    stub = load("gotosocial/main_key.json")
    stub["publicKey"]["owner"] = "https://gts.test/users/mallory"
    with pytest.raises(ValidationError, match="owned by"):
        key_from_ap(stub, f"{BOB}/main-key")


# ---------------------------------------------------------------------------------------- note origin rules


def public_note() -> dict[str, Any]:
    return copy.deepcopy(load("mastodon/create_note_public.json")["object"])


def test_note_from_another_origin_is_rejected() -> None:
    doc = public_note()
    doc["id"] = "https://evil.test/users/ada/statuses/1"
    with pytest.raises(ValidationError, match="not on the origin"):
        note_from_ap(doc, ADA)


def test_note_attributed_to_someone_else_is_rejected() -> None:
    doc = public_note()
    doc["attributedTo"] = "https://mastodon.test/users/mallory"
    with pytest.raises(ValidationError, match="not attributed"):
        note_from_ap(doc, ADA)
    doc["attributedTo"] = None
    with pytest.raises(ValidationError, match="not attributed"):
        note_from_ap(doc, ADA)


def test_note_attributed_to_a_list_with_a_group() -> None:
    doc = public_note()
    doc["attributedTo"] = [{"type": "Group", "id": MATHS}, {"type": "Person", "id": ADA}]
    assert note_from_ap(doc, ADA).attributed_to == ADA
    doc["attributedTo"] = [{"type": "Group", "id": MATHS}]
    with pytest.raises(ValidationError):
        note_from_ap(doc, ADA)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "Tombstone"}, "not a note"),
        ({"type": "Person"}, "not a note"),
        ({"id": None}, "no http"),
        ({"id": "javascript:alert(1)"}, "no http"),
    ],
)
def test_note_malformed_objects_are_rejected(change: dict[str, Any], reason: str) -> None:
    doc = public_note()
    doc.update(change)
    with pytest.raises(ValidationError, match=reason):
        note_from_ap(doc, ADA)


def test_note_foreign_or_dangerous_links_are_dropped() -> None:
    doc = public_note()
    doc["url"] = "https://evil.test/@ada/1"
    doc["replies"] = "https://evil.test/replies"
    doc["inReplyTo"] = "javascript:alert(1)"
    doc["audience"] = "javascript:alert(1)"
    note = note_from_ap(doc, ADA)
    assert note.url is None and note.replies is None and note.in_reply_to is None and note.audience is None
    doc["url"] = "javascript:alert(1)"
    assert note_from_ap(doc, ADA).url is None
    doc["url"] = [{"type": "Link", "href": "https://evil.test/x", "mediaType": "text/html"}]
    assert note_from_ap(doc, ADA).url is None


def test_note_huge_content_tags_and_recipients_are_capped() -> None:
    doc = public_note()
    doc["content"] = "x" * (MAX_CONTENT * 10)
    doc.pop("contentMap")
    doc["tag"] = [{"type": "Hashtag", "name": f"#t{i}"} for i in range(5_000)] + [
        {"type": "Mention", "href": f"https://m{i}.test/u"} for i in range(5_000)
    ]
    doc["to"] = [f"https://r{i}.test/u" for i in range(4_000)] + [PUBLIC]
    note = note_from_ap(doc, ADA)
    assert len(note.content_html) <= MAX_CONTENT
    assert len(note.hashtags) == MAX_TAGS
    assert len(note.mentions) <= MAX_MENTIONS
    assert len(note.to) == MAX_RECIPIENTS and note.to[0] == PUBLIC


def test_note_hashtags_are_cleaned_and_deduplicated() -> None:
    doc = public_note()
    doc["tag"] = [
        {"type": "Hashtag", "name": "#Maths"},
        {"type": "Hashtag", "name": "#maths"},
        {"type": "Hashtag", "name": "two words"},
        {"type": "Hashtag", "name": "#"},
        {"type": "Hashtag", "name": 5},
        {"type": "Mention", "href": "javascript:alert(1)"},
        {"type": "Emoji", "name": ":blob:"},
        "https://mastodon.test/tags/bare",
    ]
    note = note_from_ap(doc, ADA)
    assert note.hashtags == ("Maths",) and note.mentions == ()


def test_note_language_sources() -> None:
    doc = public_note()
    doc["contentMap"] = {"fr": "<p>autre</p>", "de": doc["content"]}
    assert note_from_ap(doc, ADA).language == "de"
    del doc["contentMap"]
    doc["language"] = {"identifier": "und", "name": "Undetermined"}
    assert note_from_ap(doc, ADA).language is None
    doc["language"] = {"identifier": "pt-BR", "name": "Português"}
    assert note_from_ap(doc, ADA).language == "pt-BR"
    doc["language"] = {"identifier": "<script>"}
    assert note_from_ap(doc, ADA).language is None


def test_note_plain_text_content_is_escaped() -> None:
    doc = public_note()
    doc.pop("contentMap")
    doc["mediaType"] = "text/plain"
    doc["content"] = "1 < 2 & <b>bold</b>\nnext line\n\nsecond paragraph"
    assert note_from_ap(doc, ADA).content_html == (
        "<p>1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;<br>next line</p><p>second paragraph</p>"
    )


def test_note_summary_and_sensitive() -> None:
    doc = public_note()
    doc["summary"] = "  spoilers: answers to the quiz  "
    doc["sensitive"] = True
    note = note_from_ap(doc, ADA)
    assert note.summary == "spoilers: answers to the quiz" and note.sensitive
    doc["sensitive"] = "true"
    assert not note_from_ap(doc, ADA).sensitive


def test_note_context_is_kept_when_reasonable() -> None:
    doc = public_note()
    doc["context"] = "https://mastodon.test/contexts/123"
    assert note_from_ap(doc, ADA).context == "https://mastodon.test/contexts/123"
    doc["context"] = {"id": "https://mastodon.test/contexts/9", "type": "Collection"}
    assert note_from_ap(doc, ADA).context == "https://mastodon.test/contexts/9"
    doc["context"] = "x" * 10_000
    assert note_from_ap(doc, ADA).context is None


def test_note_deeply_nested_values_do_not_crash() -> None:
    deep: Any = {"id": ADA}
    for _ in range(10_000):
        deep = [deep]
    doc = public_note()
    doc["content"] = deep
    doc["contentMap"] = deep
    doc["tag"] = deep
    doc["to"] = deep
    doc["attributedTo"] = [ADA, deep]
    note = note_from_ap(doc, ADA)
    assert note.content_html == "" and note.to == () and note.hashtags == ()
    doc["attributedTo"] = deep
    with pytest.raises(ValidationError):
        note_from_ap(doc, ADA)


def test_note_content_is_sanitised() -> None:
    doc = public_note()
    doc.pop("contentMap")
    doc["content"] = '<p>ok</p><script>alert(1)</script><a href="javascript:alert(2)">x</a>'
    content = note_from_ap(doc, ADA).content_html
    assert "<script" not in content.lower() and "javascript:" not in content.lower()
