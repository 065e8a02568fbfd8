"""Tests of the SSRF policy: forbidden address ranges, the policy object and URL checks."""

from __future__ import annotations

import zlib
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest

from fediverse_learn.errors import BlockedAddress, FetchError, ResponseTooLarge
from fediverse_learn.netpolicy import (
    AddressPolicy,
    BodyLimiter,
    check_url,
    declared_length,
    is_forbidden_address,
)

FORBIDDEN_V4 = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "127.1.2.3",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.19.255.255",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
]

FORBIDDEN_V6 = [
    "::",
    "::1",
    "::127.0.0.1",  # deprecated IPv4-compatible form
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:0.0.0.0",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::808:808",  # local-use NAT64: embedding unknown, refused whatever it embeds
    "100::1",
    "2001::1",  # Teredo
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:2::1",  # benchmarking, inside 2001::/23
    "2001:db8::1",
    "2002::1",
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "3fff::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "4000::1",  # outside 2000::/3
]

PUBLIC = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "100.128.0.1",
    "172.32.0.1",
    "2001:4860::8888",
    "2a00:1450:4001::200e",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 (DNS64) of 8.8.8.8
]

LOOPBACK_ONLY = AddressPolicy(allow_private=False, allowed_networks=(ip_network("127.0.0.1/32"),))


@pytest.mark.parametrize("address", FORBIDDEN_V4 + FORBIDDEN_V6)
def test_is_forbidden_address_true_for_special_ranges(address: str) -> None:
    assert is_forbidden_address(ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_is_forbidden_address_false_for_public_unicast(address: str) -> None:
    assert not is_forbidden_address(ip_address(address))


@pytest.mark.parametrize("address", FORBIDDEN_V4 + FORBIDDEN_V6)
def test_check_refuses_private_addresses(address: str) -> None:
    with pytest.raises(BlockedAddress, match="refused"):
        AddressPolicy(allow_private=False).check(ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_check_allows_public_addresses(address: str) -> None:
    AddressPolicy(allow_private=False).check(ip_address(address))


def test_check_message_names_the_address() -> None:
    with pytest.raises(BlockedAddress, match=r"^connection to private address 10\.0\.0\.1 refused$"):
        AddressPolicy(allow_private=False).check(IPv4Address("10.0.0.1"))


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "::1", "fd00::1", "::ffff:192.168.0.1"])
def test_check_allow_private_lifts_private_rule(address: str) -> None:
    AddressPolicy(allow_private=True).check(ip_address(address))


@pytest.mark.parametrize(
    "address", ["0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "ff02::1", "::ffff:0.0.0.0"]
)
def test_check_allow_private_still_refuses_unroutable(address: str) -> None:
    with pytest.raises(BlockedAddress, match="unroutable"):
        AddressPolicy(allow_private=True).check(ip_address(address))


def test_check_allowed_networks_permit_only_listed_range() -> None:
    LOOPBACK_ONLY.check(IPv4Address("127.0.0.1"))
    LOOPBACK_ONLY.check(IPv6Address("::ffff:127.0.0.1"))
    for refused in ("127.0.0.2", "10.0.0.1", "::1"):
        with pytest.raises(BlockedAddress):
            LOOPBACK_ONLY.check(ip_address(refused))


def test_from_strings_parses_cidrs() -> None:
    policy = AddressPolicy.from_strings(False, ["10.1.0.0/16", "fd00::/8"])
    policy.check(IPv4Address("10.1.2.3"))
    policy.check(IPv6Address("fd00::5"))
    with pytest.raises(BlockedAddress):
        policy.check(IPv4Address("10.2.0.1"))


def test_check_url_accepts_https() -> None:
    url = check_url("https://social.test/users/alice?x=1", allow_http=False)
    assert url.host == "social.test"


def test_check_url_refuses_http_unless_allowed() -> None:
    with pytest.raises(BlockedAddress, match="scheme 'http'"):
        check_url("http://social.test/users/alice", allow_http=False)
    assert check_url("http://social.test/users/alice", allow_http=True).scheme == "http"


@pytest.mark.parametrize(
    "url",
    ["ftp://social.test/x", "file:///etc/passwd", "javascript:alert(1)", "data:,hi", "gopher://a.test/"],
)
def test_check_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(BlockedAddress, match="scheme"):
        check_url(url, allow_http=True)


@pytest.mark.parametrize("url", ["https:///users/alice", "https://", "//social.test/x", "/relative"])
def test_check_url_refuses_missing_host(url: str) -> None:
    with pytest.raises(BlockedAddress):
        check_url(url, allow_http=True)


@pytest.mark.parametrize(
    "url", ["https://user@social.test/x", "https://user:secret@social.test/x", "https://:pw@social.test/"]
)
def test_check_url_refuses_userinfo(url: str) -> None:
    with pytest.raises(BlockedAddress, match="userinfo") as caught:
        check_url(url, allow_http=False)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize("url", ["https://[::1/x", "https://social.test:99999/", "https://exa mple.test/"])
def test_check_url_refuses_malformed(url: str) -> None:
    with pytest.raises(BlockedAddress, match="malformed"):
        check_url(url, allow_http=False)


def test_body_limiter_stops_inflating_at_the_cap() -> None:
    limiter = BodyLimiter("gzip", 1000, "https://social.test/x")
    bomb = zlib.compress(b"\0" * 10_000_000)  # zlib wrapper, as some "deflate" servers send

    with pytest.raises(ResponseTooLarge, match="body exceeds 1000 bytes"):
        limiter.feed(bomb)

    assert limiter._size <= 1001  # never inflated more than the cap plus one byte


def test_body_limiter_counts_raw_bytes_too() -> None:
    limiter = BodyLimiter("", 10, "https://social.test/x")
    limiter.feed(b"12345")
    with pytest.raises(ResponseTooLarge):
        limiter.feed(b"678901")


def test_body_limiter_decodes_deflate_in_pieces() -> None:
    payload = b'{"id": "x"}' * 50
    compressed = zlib.compress(payload)
    limiter = BodyLimiter("deflate", 10_000, "https://social.test/x")
    for i in range(0, len(compressed), 7):
        limiter.feed(compressed[i : i + 7])
    assert limiter.finish() == payload


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, gzip", "compress"])
def test_body_limiter_refuses_other_encodings(encoding: str) -> None:
    with pytest.raises(FetchError, match="unsupported Content-Encoding"):
        BodyLimiter(encoding, 10, "https://social.test/x")


def test_body_limiter_refuses_corrupt_compressed_body() -> None:
    limiter = BodyLimiter("gzip", 1000, "https://social.test/x")
    with pytest.raises(FetchError, match="undecodable"):
        limiter.feed(b"not gzip at all")


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("12", 12), (" 7 ", 7), ("-1", None), ("1e3", None), ("9" * 5000, 10**20)],
)
def test_declared_length(header: str | None, expected: int | None) -> None:
    assert declared_length(header) == expected
