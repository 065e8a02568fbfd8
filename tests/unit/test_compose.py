"""Composed activities have Mastodon's exact field sets, ids of ours, and the addressing of their visibility."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import cast

import pytest

from fediverse_learn.clock import FakeClock
from fediverse_learn.documents import AS_CONTEXT, NOTE_CONTEXT
from fediverse_learn.errors import ValidationError
from fediverse_learn.ids import IdGenerator
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.text import ResolvedMention
from fediverse_learn.uris import Uris
from fediverse_learn.vocab import PUBLIC
from outbox.compose import (
    accept_activity,
    announce_activity,
    build_note,
    create_activity,
    delete_activity,
    follow_activity,
    like_activity,
    reject_activity,
    undo_activity,
    update_activity,
)

ACTIVITY = "http://a.test/users/ada/activities/"
BOB = ResolvedMention(raw="@bob@b.test", actor_uri="http://b.test/users/bob", profile_url="http://b.test/@bob",
                      username="bob", domain="b.test")
NOTE_FIELDS = {
    "id", "type", "summary", "inReplyTo", "published", "url", "attributedTo", "to", "cc", "sensitive", "atomUri",
    "inReplyToAtomUri", "content", "attachment", "tag", "replies", "likes", "shares",
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(clock: FakeClock) -> Services:
    return cast(Services, SimpleNamespace(uris=Uris("http://a.test", "a.test"), ids=IdGenerator(), clock=clock))


@pytest.fixture
def ada() -> LocalActor:
    return LocalActor(id=1, name="ada", kind="person", display_name="Ada", summary="", role="member",
                      private_key_pem="", public_key_pem="", manually_approves_followers=False, discoverable=True,
                      indexable=True, created_at=0.0, removed_at=None)


def test_build_note_addresses_and_tags_mentions_and_hashtags(services: Services, ada: LocalActor) -> None:
    note = build_note(services, ada, content_html="<p>x</p>", visibility="public", mentions=[BOB, BOB],
                      hashtags=["Biology"])
    assert note.uri == f"http://a.test/users/ada/statuses/{note.id}"
    assert note.url == f"http://a.test/@ada/{note.id}"
    assert note.to == (PUBLIC,) and note.cc == ("http://a.test/users/ada/followers", BOB.actor_uri)
    assert note.tags == (
        {"type": "Mention", "href": BOB.actor_uri, "name": "@bob@b.test"},
        {"type": "Hashtag", "href": "http://a.test/tags/biology", "name": "#Biology"},
    )


def test_build_note_leaves_out_a_self_mention(services: Services, ada: LocalActor) -> None:
    me = ResolvedMention(raw="@ada", actor_uri="http://a.test/users/ada", profile_url="http://a.test/@ada",
                         username="ada", domain="a.test")
    note = build_note(services, ada, content_html="<p>x</p>", visibility="direct", mentions=[me, BOB])
    assert note.to == (BOB.actor_uri,) and note.cc == () and len(note.tags) == 1


def test_build_note_content_warning_is_sensitive(services: Services, ada: LocalActor) -> None:
    note = build_note(services, ada, content_html="<p>x</p>", visibility="unlisted", summary="spoilers")
    assert note.sensitive and note.summary == "spoilers"
    assert build_note(services, ada, content_html="<p>x</p>", visibility="public", summary="").summary is None


def test_build_note_refuses_unknown_visibility(services: Services, ada: LocalActor) -> None:
    with pytest.raises(ValidationError):
        build_note(services, ada, content_html="<p>x</p>", visibility="limited")


def test_create_has_mastodons_fields_and_embeds_the_note(services: Services, ada: LocalActor) -> None:
    note = build_note(services, ada, content_html="<p>x</p>", visibility="private", mentions=[BOB])
    create = create_activity(services, ada, note)
    assert set(create) == {"@context", "id", "type", "actor", "published", "to", "cc", "object"}
    assert create["@context"] == NOTE_CONTEXT and create["id"].startswith(ACTIVITY)
    assert create["actor"] == "http://a.test/users/ada"
    assert create["to"] == ["http://a.test/users/ada/followers"] and create["cc"] == [BOB.actor_uri]
    assert set(create["object"]) == NOTE_FIELDS
    assert create["object"]["replies"]["first"] == {
        "type": "CollectionPage", "partOf": f"{note.uri}/replies", "items": []}
    assert create["object"]["shares"] == {"id": f"{note.uri}/shares", "type": "Collection", "totalItems": 0}


def test_update_embeds_the_edited_note(services: Services, ada: LocalActor, clock: FakeClock) -> None:
    note = build_note(services, ada, content_html="<p>x</p>", visibility="public")
    clock.advance(30)
    edited = replace(note, updated=clock.time())
    update = update_activity(services, ada, edited)
    assert set(update) == {"@context", "id", "type", "actor", "published", "to", "cc", "object"}
    assert set(update["object"]) == NOTE_FIELDS | {"updated"}
    assert update["published"] == update["object"]["updated"] != update["object"]["published"]


def test_delete_carries_mastodons_tombstone(services: Services, ada: LocalActor) -> None:
    note = build_note(services, ada, content_html="<p>x</p>", visibility="public")
    delete = delete_activity(services, ada, note)
    assert set(delete) == {"@context", "id", "type", "actor", "to", "cc", "object"}
    assert delete["object"] == {"id": note.uri, "type": "Tombstone", "atomUri": note.uri}


def test_follow_like_and_undo_have_mastodons_fields(services: Services, ada: LocalActor) -> None:
    follow = follow_activity(services, ada, BOB.actor_uri)
    like = like_activity(services, ada, "http://b.test/notes/1")
    for doc in (follow, like):
        assert set(doc) == {"@context", "id", "type", "actor", "object"}
        assert doc["@context"] == AS_CONTEXT and doc["id"].startswith(ACTIVITY)
    assert follow["id"] != like["id"]
    undo = undo_activity(services, ada, follow)
    assert set(undo) == {"@context", "id", "type", "actor", "object"}
    assert undo["object"] == {k: v for k, v in follow.items() if k != "@context"}


def test_announce_is_public_and_ccs_author_and_followers(services: Services, ada: LocalActor) -> None:
    boost = announce_activity(services, ada, "http://b.test/notes/1", BOB.actor_uri)
    assert set(boost) == {"@context", "id", "type", "actor", "published", "to", "cc", "object"}
    assert boost["to"] == [PUBLIC] and boost["cc"] == [BOB.actor_uri, "http://a.test/users/ada/followers"]
    assert boost["object"] == "http://b.test/notes/1"
    undo = undo_activity(services, ada, boost)
    assert undo["to"] == boost["to"] and undo["cc"] == boost["cc"]


def test_accept_and_reject_embed_the_follow(services: Services, ada: LocalActor) -> None:
    received = {"@context": AS_CONTEXT, "id": "http://b.test/follows/1", "type": "Follow",
                "actor": BOB.actor_uri, "object": "http://a.test/users/ada", "extra": True}
    for build, kind in ((accept_activity, "Accept"), (reject_activity, "Reject")):
        doc = build(services, ada, received)
        assert set(doc) == {"@context", "id", "type", "actor", "object"} and doc["type"] == kind
        assert doc["object"] == {"id": "http://b.test/follows/1", "type": "Follow", "actor": BOB.actor_uri,
                                 "object": "http://a.test/users/ada"}
