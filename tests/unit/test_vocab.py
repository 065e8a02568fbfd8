"""Unit tests for fediverse_learn.vocab: reading compact JSON-LD as servers send it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fediverse_learn.errors import ValidationError
from fediverse_learn.vocab import (
    PUBLIC,
    addressees,
    as_list,
    has_type,
    host_of,
    http_url,
    id_of,
    ids_of,
    is_public,
    parse_datetime,
    same_origin,
    text_of,
    types_of,
    url_of,
)


def test_as_list_normalises_none_scalar_and_list() -> None:
    assert as_list(None) == []
    assert as_list("a") == ["a"]
    assert as_list({"id": "x"}) == [{"id": "x"}]
    assert as_list(["a", "b"]) == ["a", "b"]
    assert as_list(("a",)) == ["a"]


def test_as_list_returns_a_copy() -> None:
    original = ["a"]
    as_list(original).append("b")
    assert original == ["a"]


def test_id_of_reads_string_or_embedded_object() -> None:
    assert id_of("https://a.test/x") == "https://a.test/x"
    assert id_of({"id": "https://a.test/x", "type": "Note"}) == "https://a.test/x"
    assert id_of({"type": "Note"}) is None
    assert id_of({"id": 5}) is None
    assert id_of("") is None
    assert id_of(None) is None
    assert id_of(42) is None


def test_ids_of_mixes_references_and_objects_in_order() -> None:
    value = ["https://a.test/1", {"id": "https://a.test/2"}, {"type": "Link"}, 7, None]
    assert ids_of(value) == ["https://a.test/1", "https://a.test/2"]
    assert ids_of("https://a.test/1") == ["https://a.test/1"]
    assert ids_of(None) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"type": "Note"}, ("Note",)),
        ({"type": "as:Note"}, ("Note",)),
        ({"type": "https://www.w3.org/ns/activitystreams#Note"}, ("Note",)),
        ({"type": ["Note", "schema:Thing"]}, ("Note", "schema:Thing")),
        ({"type": ["Page", 3, ""]}, ("Page",)),
        ({}, ()),
        ("Note", ()),
    ],
)
def test_types_of_strips_activitystreams_prefixes(value: object, expected: tuple[str, ...]) -> None:
    assert types_of(value) == expected


def test_has_type_matches_any_of_the_names() -> None:
    obj = {"type": ["as:Person", "http://schema.org#Person"]}
    assert has_type(obj, "Person")
    assert has_type(obj, "Service", "Person")
    assert not has_type(obj, "Group")
    assert not has_type(None, "Person")


@pytest.mark.parametrize("spelling", [PUBLIC, "as:Public", "Public"])
def test_is_public_accepts_every_spelling(spelling: str) -> None:
    assert is_public(spelling)


@pytest.mark.parametrize("value", [PUBLIC.lower(), "public", "as:public", None, ["Public"]])
def test_is_public_rejects_lookalikes(value: object) -> None:
    assert not is_public(value)


def test_addressees_collects_every_field_and_normalises_public() -> None:
    obj = {
        "to": "as:Public",
        "cc": ["https://a.test/users/x/followers", {"id": "https://b.test/users/y", "type": "Person"}],
        "bto": "https://c.test/users/z",
        "bcc": [],
        "audience": "https://lemmy.test/c/maths",
    }
    assert addressees(obj) == {
        PUBLIC,
        "https://a.test/users/x/followers",
        "https://b.test/users/y",
        "https://c.test/users/z",
        "https://lemmy.test/c/maths",
    }
    assert addressees("nope") == set()


def test_text_of_prefers_plain_string_then_english_then_first() -> None:
    assert text_of("<p>hi</p>", {"fr": "<p>salut</p>"}) == "<p>hi</p>"
    assert text_of(None, {"fr": "salut", "en": "hello"}) == "hello"
    assert text_of(None, {"en-GB": "colour"}) == "colour"
    assert text_of(None, {"fr": "salut", "de": "hallo"}) == "salut"
    assert text_of({"de": "hallo"}) == "hallo"
    assert text_of(None, {"fr": 5}) is None
    assert text_of(None) is None


def test_url_of_reads_string_link_and_list_preferring_html() -> None:
    assert url_of({"url": "https://a.test/@x/1"}) == "https://a.test/@x/1"
    assert url_of({"url": {"type": "Link", "href": "https://a.test/p"}}) == "https://a.test/p"
    links = [
        {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://a.test/v.m3u8"},
        {"type": "Link", "mediaType": "text/html; charset=utf-8", "href": "https://a.test/w/1"},
    ]
    assert url_of({"url": links}) == "https://a.test/w/1"
    assert url_of({"url": links[:1]}) == "https://a.test/v.m3u8"


def test_url_of_skips_non_http_urls() -> None:
    assert url_of({"url": "javascript:alert(1)"}) is None
    assert url_of({"url": ["data:text/html,<script>", "https://a.test/ok"]}) == "https://a.test/ok"
    assert url_of({"url": {"href": "javascript:alert(1)", "mediaType": "text/html"}}) is None
    assert url_of({}) is None
    assert url_of("https://a.test/") is None


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Mastodon.Social/users/a", "mastodon.social"),
        ("https://mastodon.social./users/a", "mastodon.social"),
        ("https://mastodon.social:443/users/a", "mastodon.social"),
        ("http://mastodon.social:80/", "mastodon.social"),
        ("https://gts.test:8443/users/a", "gts.test:8443"),
        ("http://gts.test:443/", "gts.test:443"),
        ("https://bücher.example/x", "xn--bcher-kva.example"),
        ("https://BÜCHER.example/x", "xn--bcher-kva.example"),
        ("https://straße.test/x", "xn--strae-oqa.test"),
        ("https://[::1]:8080/x", "[::1]:8080"),
        ("https://127.0.0.1/x", "127.0.0.1"),
    ],
)
def test_host_of_normalises(url: str, host: str) -> None:
    assert host_of(url) == host


def test_host_of_does_not_fold_idna_deviation_characters() -> None:
    # IDNA 2003 (Python's codec) maps "ß" to "ss"; httpx connects to the IDNA 2008 name instead.
    assert host_of("https://straße.test/") != host_of("https://strasse.test/")
    assert not same_origin("https://straße.test/users/a", "https://strasse.test/inbox")


def test_host_of_parses_instead_of_string_munging() -> None:
    # CVE-2023-42451: deleting every "/" made mastodon.so/cial look like mastodon.social.
    assert host_of("https://mastodon.so/cial") == "mastodon.so"
    assert host_of("https://mastodon.so/cial") != host_of("https://mastodon.social/")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "mastodon.social/users/a",
        "javascript:alert(1)",
        "ftp://a.test/x",
        "https:///path-only",
        "https://mastodon.social@evil.test/",
        "https://user:pw@a.test/",
        "https://evil.test\\@mastodon.test/",
        "https://a.test /x",
        "https://a.test/\nx",
        "https://a..test/",
        "https://%61.test/",
        "https://a.test:99999/",
        "https://a.test:port/",
        "https://./",
        "https://a.test../",
        "https://ｅｘａｍｐｌｅ.test/",
    ],
)
def test_host_of_rejects_bad_urls(url: str) -> None:
    with pytest.raises(ValidationError):
        host_of(url)


def test_http_url_accepts_only_valid_http_urls_within_the_cap() -> None:
    assert http_url("https://a.test/x") == "https://a.test/x"
    assert http_url("javascript:alert(1)") is None
    assert http_url(None) is None
    assert http_url("https://a.test/" + "x" * 3000) is None
    assert http_url("https://a.test/" + "x" * 3000, max_length=4000) is not None


def test_same_origin_compares_scheme_host_and_port() -> None:
    assert same_origin("https://A.test/users/a", "https://a.test./inbox")
    assert same_origin("https://a.test:443/x", "https://a.test/y")
    assert not same_origin("https://a.test/x", "https://b.test/x")
    assert not same_origin("https://a.test/x", "http://a.test/x")
    assert not same_origin("https://a.test:8443/x", "https://a.test/x")
    assert not same_origin("https://sub.a.test/x", "https://a.test/x")
    assert not same_origin("https://mastodon.social@evil.test/", "https://mastodon.social/")
    assert not same_origin("not a url", "not a url")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-02T09:15:00Z", datetime(2024, 5, 2, 9, 15, tzinfo=UTC)),
        ("2024-05-02T09:15:00z", datetime(2024, 5, 2, 9, 15, tzinfo=UTC)),
        ("2024-05-02T09:15:00.123Z", datetime(2024, 5, 2, 9, 15, 0, 123000, tzinfo=UTC)),
        ("2024-05-02T09:15:00.123456789Z", datetime(2024, 5, 2, 9, 15, 0, 123456, tzinfo=UTC)),
        ("2023-06-12T18:04:11.538372+00:00", datetime(2023, 6, 12, 18, 4, 11, 538372, tzinfo=UTC)),
        ("2024-05-02T11:15:00+02:00", datetime(2024, 5, 2, 9, 15, tzinfo=UTC)),
        ("2024-05-02T09:15:00", datetime(2024, 5, 2, 9, 15, tzinfo=UTC)),
    ],
)
def test_parse_datetime_tolerates_real_world_forms(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01T00:00:00Z", None, 1714640100, "2" * 100])
def test_parse_datetime_returns_none_for_garbage(text: object) -> None:
    assert parse_datetime(text) is None
