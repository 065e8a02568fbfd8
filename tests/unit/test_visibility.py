"""Visibility <-> addressing, as Mastodon maps them."""

from __future__ import annotations

import pytest

from fediverse_learn.visibility import VISIBILITIES, addressing_for, may_see, visibility_of
from fediverse_learn.vocab import PUBLIC

FOLLOWERS = "https://a.test/users/ada/followers"
BOB = "https://b.test/users/bob"
CAROL = "https://c.test/users/carol"


def test_addressing_public_is_public_to_followers_and_mentions_cc() -> None:
    assert addressing_for("public", FOLLOWERS, [BOB]) == ([PUBLIC], [FOLLOWERS, BOB])


def test_addressing_unlisted_is_followers_to_public_and_mentions_cc() -> None:
    assert addressing_for("unlisted", FOLLOWERS, [BOB, CAROL]) == ([FOLLOWERS], [PUBLIC, BOB, CAROL])


def test_addressing_private_is_followers_to_mentions_cc() -> None:
    assert addressing_for("private", FOLLOWERS, [BOB]) == ([FOLLOWERS], [BOB])
    assert addressing_for("private", FOLLOWERS, []) == ([FOLLOWERS], [])


def test_addressing_direct_is_mentions_only() -> None:
    assert addressing_for("direct", FOLLOWERS, [BOB, CAROL]) == ([BOB, CAROL], [])


def test_addressing_dedupes_mentions_and_drops_public_and_followers() -> None:
    assert addressing_for("public", FOLLOWERS, [BOB, BOB, PUBLIC, FOLLOWERS]) == ([PUBLIC], [FOLLOWERS, BOB])


def test_addressing_unknown_visibility_raises() -> None:
    with pytest.raises(ValueError):
        addressing_for("limited", FOLLOWERS, [])


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_visibility_round_trips_through_addressing(visibility: str) -> None:
    to, cc = addressing_for(visibility, FOLLOWERS, [BOB])
    assert visibility_of(to, cc, FOLLOWERS) == visibility


@pytest.mark.parametrize("public", [PUBLIC, "as:Public", "Public"])
def test_visibility_reads_every_spelling_of_public(public: str) -> None:
    assert visibility_of([public], [], FOLLOWERS) == "public"
    assert visibility_of([FOLLOWERS], [public], FOLLOWERS) == "unlisted"


def test_visibility_followers_in_cc_without_public_is_private() -> None:
    assert visibility_of([BOB], [FOLLOWERS], FOLLOWERS) == "private"


def test_visibility_unknown_followers_collection_is_direct() -> None:
    assert visibility_of([FOLLOWERS], [], None) == "direct"
    assert visibility_of(["https://a.test/users/other/followers"], [], FOLLOWERS) == "direct"
    assert visibility_of([], [], FOLLOWERS) == "direct"


def test_may_see_public_and_unlisted_to_anyone() -> None:
    for visibility in ("public", "unlisted"):
        assert may_see(visibility, None, BOB, [], follows_author=False)


def test_may_see_private_only_author_addressed_and_followers() -> None:
    assert not may_see("private", None, BOB, [FOLLOWERS], follows_author=False)
    assert not may_see("private", CAROL, BOB, [FOLLOWERS], follows_author=False)
    assert may_see("private", CAROL, BOB, [FOLLOWERS], follows_author=True)
    assert may_see("private", CAROL, BOB, [FOLLOWERS, CAROL], follows_author=False)
    assert may_see("private", BOB, BOB, [FOLLOWERS], follows_author=False)


def test_may_see_direct_only_author_and_addressed_even_for_followers() -> None:
    assert not may_see("direct", CAROL, BOB, ["https://d.test/users/dan"], follows_author=True)
    assert may_see("direct", CAROL, BOB, [CAROL], follows_author=False)
    assert not may_see("direct", None, BOB, [CAROL], follows_author=False)
