"""Scopes: parsing and Mastodon's rules for what a top-level scope grants."""

from __future__ import annotations

from fediverse_learn.api.scopes import covers, expand, parse_scopes


def test_parse_defaults_to_read_and_rejects_unknown() -> None:
    assert parse_scopes(None) == ("read",)
    assert parse_scopes("read+write  read") == ("read", "write")
    assert parse_scopes("read admin:everything") is None


def test_read_covers_every_read_subscope_only() -> None:
    granted = expand(["read"])
    assert "read:statuses" in granted and "read:follows" in granted
    assert "write:statuses" not in granted


def test_follow_covers_the_relationship_scopes() -> None:
    granted = expand(["follow"])
    assert {"read:follows", "write:follows", "write:blocks", "write:mutes", "read:blocks", "read:mutes"} <= granted
    assert "read:statuses" not in granted


def test_covers_checks_requested_against_registered() -> None:
    assert covers(["read", "write"], ["read:statuses", "write"])
    assert not covers(["read:statuses"], ["read"])
    assert not covers(["read"], ["push"])
