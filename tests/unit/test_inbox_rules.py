"""The inbox's pure prechecks: media types, nesting depth, the activity envelope and the origin rules."""

from __future__ import annotations

from typing import Any

import pytest

from inbox.rules import (
    MAX_DEPTH,
    Envelope,
    Refusal,
    accepts_media_type,
    depth_exceeds,
    is_self_delete,
    precheck,
    read_envelope,
)

OURS = "http://learn.test"
ADA = "https://mastodon.test/users/ada"


def activity(kind: str = "Follow", obj: Any = "http://learn.test/users/grace", **extra: Any) -> dict[str, Any]:
    return {"id": "https://mastodon.test/activities/1", "type": kind, "actor": ADA, "object": obj, **extra}


def note(**extra: Any) -> dict[str, Any]:
    return {"id": "https://mastodon.test/users/ada/statuses/1", "type": "Note", "attributedTo": ADA, **extra}


def refused(result: Envelope | Refusal | None, status: int, words: str) -> bool:
    return isinstance(result, Refusal) and result.status == status and words in result.reason


@pytest.mark.parametrize("content_type", [
    "application/activity+json",
    "application/activity+json; charset=utf-8",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/ld+json",
    "Application/JSON",
])
def test_accepts_media_type_activitypub_and_json_types(content_type: str) -> None:
    assert accepts_media_type(content_type)


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/activity+jsonx"])
def test_accepts_media_type_other_types_refused(content_type: str) -> None:
    assert not accepts_media_type(content_type)


def test_depth_exceeds_counts_objects_and_lists() -> None:
    nested: Any = {"a": 1}
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    assert not depth_exceeds(nested)
    assert depth_exceeds([nested])
    assert not depth_exceeds("scalar")


def test_depth_exceeds_deep_nesting_without_recursion() -> None:
    nested: Any = {}
    for _ in range(100_000):
        nested = {"x": nested}
    assert depth_exceeds(nested)


def test_read_envelope_mastodon_follow_gives_id_types_actor() -> None:
    assert read_envelope(activity()) == Envelope(id="https://mastodon.test/activities/1", types=("Follow",),
                                                 actor=ADA)


def test_read_envelope_actor_object_or_single_list_is_understood() -> None:
    assert isinstance(read_envelope(activity(actor={"id": ADA, "type": "Person"})), Envelope)
    assert isinstance(read_envelope(activity(actor=[ADA])), Envelope)


@pytest.mark.parametrize(("doc", "words"), [
    ([], "not a JSON object"),
    ("text", "not a JSON object"),
    ({"type": "Follow", "actor": ADA}, "no id"),
    (activity(id="urn:uuid:1"), "no id"),
    (activity(id="/relative"), "no id"),
    (activity(id="https://user@mastodon.test/x"), "no id"),
    (activity(type=None), "no type"),
    (activity(type=[1, 2]), "no type"),
    (activity(type=[f"T{i}" for i in range(9)]), "more than 8 types"),
    ({"id": "https://mastodon.test/1", "type": "Follow"}, "no actor"),
    (activity(actor={"type": "Person"}), "no actor"),
    (activity(actor="acct:ada@mastodon.test"), "no actor"),
    (activity(actor=[ADA, "https://mastodon.test/users/bob"]), "exactly one actor"),
])
def test_read_envelope_malformed_is_400_with_reason(doc: Any, words: str) -> None:
    assert refused(read_envelope(doc), 400, words)


def test_read_envelope_too_deep_is_400() -> None:
    deep: Any = "x"
    for _ in range(MAX_DEPTH):
        deep = {"x": deep}
    assert refused(read_envelope(activity(object=deep)), 400, "deeper than 32")


def test_is_self_delete_only_for_actor_deleting_itself() -> None:
    envelope = Envelope(id=f"{ADA}#delete", types=("Delete",), actor=ADA)
    assert is_self_delete(envelope, activity("Delete", ADA))
    assert is_self_delete(envelope, activity("Delete", {"id": ADA, "type": "Person"}))
    assert not is_self_delete(envelope, activity("Delete", note()["id"]))
    assert not is_self_delete(Envelope(id="x", types=("Update",), actor=ADA), activity("Update", ADA))


def test_precheck_follow_passes() -> None:
    assert precheck(activity(), ADA, OURS) is None


def test_precheck_create_of_own_note_passes() -> None:
    assert precheck(activity("Create", note()), ADA, OURS) is None
    assert precheck(activity("Create", "https://mastodon.test/users/ada/statuses/1"), ADA, OURS) is None


def test_precheck_activity_id_on_another_host_is_400() -> None:
    result = precheck(activity(id="https://evil.test/1"), ADA, OURS)
    assert refused(result, 400, "not on the actor's host mastodon.test")


def test_precheck_anything_claiming_our_host_is_400() -> None:
    assert refused(precheck(activity(id="http://learn.test/1"), ADA, OURS), 400, "this server's host learn.test")
    assert refused(precheck(activity(), "http://learn.test/users/grace", OURS), 400, "this server's host")
    create = activity("Create", note(id="http://learn.test/users/grace/statuses/1"))
    assert refused(precheck(create, ADA, OURS), 400, "embedded object claims this server's host")


def test_precheck_create_of_object_from_another_origin_is_400() -> None:
    create = activity("Create", note(id="https://other.test/notes/1"))
    assert refused(precheck(create, ADA, OURS), 400, "not on the actor's host")


def test_precheck_create_attributed_to_someone_else_is_400() -> None:
    for author in ("https://mastodon.test/users/bob", None, ["https://other.test/u/x"]):
        result = precheck(activity("Create", note(attributedTo=author)), ADA, OURS)
        assert refused(result, 400, "not attributed to the actor"), author
    both = activity("Create", note(attributedTo=[ADA, "https://other.test/channel"]))
    assert refused(precheck(both, ADA, OURS), 400, "someone on another host")


def test_precheck_create_with_embedded_object_without_id_is_400() -> None:
    result = precheck(activity("Create", {"type": "Note", "attributedTo": ADA}), ADA, OURS)
    assert refused(result, 400, "embedded object has no id")


def test_precheck_update_of_own_profile_or_community_needs_no_attribution() -> None:
    assert precheck(activity("Update", {"id": ADA, "type": "Person"}), ADA, OURS) is None
    group = {"id": "https://mastodon.test/c/maths", "type": "Group",
             "attributedTo": "https://mastodon.test/c/maths/moderators"}
    assert precheck(activity("Update", group), ADA, OURS) is None


def test_precheck_update_of_someone_elses_note_is_400() -> None:
    result = precheck(activity("Update", note(attributedTo="https://mastodon.test/users/bob")), ADA, OURS)
    assert refused(result, 400, "not attributed to the actor")


def test_precheck_delete_of_self_or_own_note_passes() -> None:
    assert precheck(activity("Delete", ADA), ADA, OURS) is None
    tombstone = {"id": "https://mastodon.test/users/ada/statuses/1", "type": "Tombstone"}
    assert precheck(activity("Delete", tombstone), ADA, OURS) is None


def test_precheck_delete_of_another_actor_is_403() -> None:
    bob = {"id": "https://mastodon.test/users/bob", "type": "Person"}
    assert refused(precheck(activity("Delete", bob), ADA, OURS), 403, "may only delete itself")


def test_precheck_delete_on_another_origin_is_403() -> None:
    assert refused(precheck(activity("Delete", "https://other.test/users/bob"), ADA, OURS), 403, "not on")
    assert refused(precheck(activity("Delete", "http://learn.test/users/grace"), ADA, OURS), 403, "not on")


def test_precheck_delete_without_object_is_400() -> None:
    assert refused(precheck(activity("Delete", None), ADA, OURS), 400, "no object id")
