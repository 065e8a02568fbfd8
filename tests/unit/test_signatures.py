"""Tests of HTTP signatures: public vectors (draft-cavage C, RFC 9421 B.2, Mastodon spec), round trips and one
failure per rule."""

from __future__ import annotations

import base64
import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from fediverse_learn.digests import (
    InnerList,
    content_digest_header,
    digest_header,
    format_http_date,
    parse_dictionary,
    parse_http_date,
    serialize_inner_list,
)
from fediverse_learn.errors import SignatureError
from fediverse_learn.signatures import (
    SignatureInput,
    load_public_key,
    read_signature,
    sign_request,
    sign_request_rfc9421,
    verify_signature,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "signatures"


def fixture_public_key(name: str) -> RSAPublicKey | Ed25519PublicKey:
    return load_public_key((FIXTURES / name).read_text(encoding="ascii"))


def fixture_private_key(name: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key((FIXTURES / name).read_bytes(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def reason(text: str) -> str:
    """A `match=` pattern for a reason text taken literally."""
    return re.escape(text)


@dataclass(frozen=True)
class Keys:
    main: RSAPrivateKey
    other: RSAPrivateKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    """Two RSA-2048 keys, generated once for the module (key generation is slow)."""
    return Keys(
        main=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        other=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


# --- signatures copied from the public vectors (keys are in tests/fixtures/signatures) -----------------

C1_SIGNATURE = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25W"
    "qS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)

C2_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfE"
    "dKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)

C3_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv1"
    "20V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)

C3_DERIVED_SIGNATURE = (
    "nAkCW0wg9AbbStQRLi8fsS1mPPnA6S5+/0alANcoDFG9hG0bJ8NnMRcB1Sz1eccNMzzLEke7nGXqoiJYZFfT81oaRqh/MNFw"
    "QVX4OZvTLZ5xVZQuchRkOSO7b2QX0aFWFOUq6dnwAyliHrp6w3FOxwkGGJPaerw2lOYLdC/Bejk="
)

B21_SIGNATURE = (
    "d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7z"
    "FZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKh"
    "O4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gC"
    "w1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q=="
)

B22_SIGNATURE = (
    "LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8U"
    "CMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8N"
    "V7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs"
    "0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw=="
)

B23_SIGNATURE = (
    "bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2vo"
    "Tp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzN"
    "BXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBro"
    "hr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA=="
)

B25_SIGNATURE = "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8="

B26_SIGNATURE = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="

M1_SIGNATURE = (
    "Z8ilar3J7bOwqZkMp7sL8sRs4B1FT+UorbmvWoE+A5UeoOJ3KBcUmbsh+k3wQwbP5gMNUrra9rEWabpasZGphLsbDxfbsWL3"
    "Cf0PllAc7c1c7AFEwnewtExI83/qqgEkfWc2z7UDutXc2NfgAx89Ox8DXU/fA2GG0jILjB6UpFyNugkY9rg6oI31UnvfVi3R"
    "7sr3/x8Ea3I9thPvqI2byF6cojknSpDAwYzeKdngX3TAQEGzFHz3SDWwyp3jeMWfwvVVbM38FxhvAnSumw7YwWW4L7M7h4M6"
    "8isLimoT3yfCn2ucBVL5Dz8koBpYf/40w7QidClAwCafZQFC29yDOg=="
)

M2_SIGNATURE = (
    "SDMa4r/DQYMXYxVgYO2yEqGWWUXugKjVuz0I8dniQAk+aunzBaF2aPu+4grBfawAshlx1Xytl8lhb0H2MllEz16/tKY7rUrb"
    "70MK0w8ohXgpb0qs3YvQgdj4X24L1x2MnkFfKHR/J+7TBlnivq0HZqXm8EIkPWLv+eQxu8fbowLwHIVvRd/3t6FzvcfsE0UZ"
    "KkoMEX02542MhwSif6cu7Ec/clsY9qgKahb9JVGOGS1op9Lvg/9y1mc8KCgD83U5IxVygYeYXaVQ6gixA9NgZiTCwEWzHM5E"
    "Lm7w5hpdLFYxYOHg/3G3fiqJzpzNQAcCD4S4JxfE7hMI0IzVlNLT6A=="
)

M3_SIGNATURE = (
    "G1NuJv4zgoZ3B/ZIjzDWZHK4RC+5pYee74q8/LJEMCWXhcnAomcb9YHaqk1QYfQvcBUIXw3UZ3Q9xO8F9y0i8G5mzJHfQ+Og"
    "HqCoJk8EmGwsUXJMh5s1S5YFCRt8TT12TmJZz0VMqLq85ubueSYBM7QtUE/FzFIVLvz4RysgXxaXQKzdnM6+gbUEEKdCURpX"
    "dQt2NXQhp4MAmZH3+0lQoR6VxdsK0hx0Ji2PNp1nuqFTlYqNWZazVdLBN+9rETLRmvGXknvg9jOxTTppBVWnkAIl26HtLS3w"
    "wFVvz4pJzi9OQDOvLziehVyLNbU61hky+oJ215e2HuKSe2hxHNl1MA=="
)

M4_SIGNATURE = (
    "d4B7nfx8RJcfdJDu1J//5WzPzK/hgtPkdzZx49lu5QhnE7qdV3lgyVimmhCFrO16bwvzIp9iRMyRLkNFxLiEeVaa1gqeKbld"
    "GSnU0B0OMjx7rFBa65vLuzWQOATDitVGiBEYqoK4v0DMuFCz2DtFaA/DIUZ3sty8bZ/Ea3U1nByLOO6MacARA3zhMSI0GNxG"
    "qsSmZmG0hPLavB3jIXoE3IDoQabMnC39jrlcO/a8h1iaxBm2WD8TejrImJullgqlJIFpKhIHI3ipQkvTGPlm9dx0y+beM06q"
    "BvWaWQcmT09eRIUefVsOAzIhUtS/7FVb/URhZvircIJDa7vtiFcmZQ=="
)

M5_SIGNATURE = (
    "gmhMjgMROGElJU3fpehV2acD5kMHeELi8EFP2UPHOdQ54H0r55AxIpji+J3lPe+N2qSb/4H1KXIh6f0lRu8TGSsu12OQmg5h"
    "iO8VA9flcA/mh9Lpk+qwlQZIPRqKP9xUEfqD+Z7ti5wPzDKrWAUK/7FIqWgcT/mlqB1R1MGkpMFc/q4CIs2OSNiWgA4K+Kp2"
    "1oQxzC2kUuYob04gAZ7cyE/FTia5t08uv6lVYFdRsn4XNPn1MsHgFBwBMRG79ng3SyhoG4PrqBEi5q2IdLq3zfre/M6He3wl"
    "CpyO2VJNdGVoTIzeZ0Zz8jUscPV3XtWUchpGclLGSaKaq/JyNZeiYQ=="
)

M6_SIGNATURE = (
    "CPD704CG8aCm8X8qIP8kkkiGp1qwFLk/wMVQHOGP0Txxan8c2DZtg/KK7eN8RG8tHx8br/yS2hJs51x4kXImYukGzNJd7ihE"
    "3T8lp+9RI1tCcdobTzr/VcVJHDFySdQkg266GCMijRQRZfNvqlJLiisr817PI+gNVBI5qV+vnVd1XhWCEZ+YSmMe8UqYARXA"
    "YNqMykTheojqGpTeTFGPUpTQA2Fmt2BipwIjcFDm2Hpihl2kB0MUS0x3zPmHDuadvzoBbN6m3usPDLgYrpALlh+wDs1dYMnt"
    "cwdwawRKY1oE1XNtgOSum12wntDq3uYL4gya2iPdcw3c929b4koUzw=="
)

MASTODON_RFC9421_SIGNATURE = (
    "WfM6q/qBqhUyqPUDt9metjadJGtLLpmMTBzk/t+R3byKe4/TGAXC6vBB/M6NsD5qv8GCmQGtisCMQxJQO0IGODGzi+Jv+eqD"
    "J50agMVXNV6nUOzY44c4/XTPoI98qyx1oEMa4Hefy3vSYKq96iDVAc+RDLCMTeGP3wn9wizjD1SNmU0RZI1bTB+eCkywMP9m"
    "M5zXzUOYF+Qkuf+WdEpPR1XUGPlnqfdvPalcKVfaI/VThBjI91D/lmUGoa69x4EBEHM+aJmW6086e7/dVh+FndKkdGfXslZX"
    "FZKi2flTGQZgEWLn948SqAaJQROkJg8B14Sb1NONS1qZBhK3Mum8Pg=="
)

# --- draft-cavage-http-signatures-12 Appendix C ----------------------------------------------------------

C_BODY = b'{"hello": "world"}'
C_TARGET = "http://example.com/foo?param=value&pet=dog"
C_NOW = 1388957500.0  # Sun, 05 Jan 2014 21:31:40 GMT
C_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
C_DRAFT10_HEADERS = "(request-target) host date content-type digest content-length"
C_DRAFT10_STRING = (
    b"(request-target): post /foo?param=value&pet=dog\n"
    b"host: example.com\n"
    b"date: Sun, 05 Jan 2014 21:31:40 GMT\n"
    b"content-type: application/json\n"
    b"digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
    b"content-length: 18"
)
C_DRAFT12_HEADERS = "(request-target) (created) (expires) host date content-type digest content-length"
C_DRAFT12_STRING = (
    b"(request-target): post /foo?param=value&pet=dog\n"
    b"(created): 1402170695\n"
    b"(expires): 1402170699\n"
    b"host: example.com\n"
    b"date: Sun, 05 Jan 2014 21:31:40 GMT\n"
    b"content-type: application/json\n"
    b"digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
    b"content-length: 18"
)


def c_request(signature_header: str) -> dict[str, str]:
    return {**C_HEADERS, "Signature": signature_header}


def cavage_input(signing_string: bytes, signature: str, algorithm: str = "rsa-sha256") -> SignatureInput:
    return SignatureInput("cavage", "Test", algorithm, signing_string, base64.b64decode(signature), (), None)


def test_verify_signature_accepts_cavage_c1_default_signing_string() -> None:
    sig = cavage_input(b"date: Sun, 05 Jan 2014 21:31:40 GMT", C1_SIGNATURE)

    verify_signature(sig, fixture_public_key("cavage_test_public.pem"))


def test_read_signature_rejects_cavage_c1_default_covering_only_date() -> None:
    header = f'keyId="Test",algorithm="rsa-sha256",signature="{C1_SIGNATURE}"'

    with pytest.raises(
        SignatureError, match=reason("requires the (request-target) pseudo-header to be signed")
    ):
        read_signature("POST", C_TARGET, c_request(header), C_BODY, C_NOW)


def test_verify_signature_accepts_cavage_c2_basic_signing_string() -> None:
    signing_string = (
        b"(request-target): post /foo?param=value&pet=dog\nhost: example.com\n"
        b"date: Sun, 05 Jan 2014 21:31:40 GMT"
    )

    verify_signature(cavage_input(signing_string, C2_SIGNATURE), fixture_public_key("cavage_test_public.pem"))


def test_read_signature_rejects_cavage_c2_basic_post_without_digest() -> None:
    header = (
        f'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="{C2_SIGNATURE}"'
    )

    with pytest.raises(SignatureError, match=reason("Digest header to be signed when doing a POST request")):
        read_signature("POST", C_TARGET, c_request(header), C_BODY, C_NOW)


def test_read_signature_accepts_cavage_c3_signature_over_draft10_headers() -> None:
    # Erratum: the C.3 signature verifies only over the draft-10 "all headers" string.
    header = f'keyId="Test",algorithm="rsa-sha256",headers="{C_DRAFT10_HEADERS}",signature="{C3_SIGNATURE}"'

    sig = read_signature("POST", C_TARGET, c_request(header), C_BODY, C_NOW)

    assert sig.signing_string == C_DRAFT10_STRING
    assert sig.covered == tuple(C_DRAFT10_HEADERS.split())
    assert sig.created == C_NOW
    verify_signature(sig, fixture_public_key("cavage_test_public.pem"))


def test_read_signature_rejects_cavage_c3_as_printed_created_with_rsa_sha256() -> None:
    header = (
        'keyId="Test",algorithm="rsa-sha256",created=1402170695,expires=1402170699,'
        f'headers="{C_DRAFT12_HEADERS}",signature="{C3_SIGNATURE}"'
    )

    with pytest.raises(SignatureError, match=reason("Invalid pseudo-header (created) for rsa-sha256")):
        read_signature("POST", C_TARGET, c_request(header), C_BODY, 1402170695)


def test_verify_signature_rejects_cavage_c3_printed_signature_over_draft12_string() -> None:
    sig = cavage_input(C_DRAFT12_STRING, C3_SIGNATURE, "hs2019")

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, fixture_public_key("cavage_test_public.pem"))


def test_read_signature_accepts_hs2019_created_expires_over_draft12_string() -> None:
    header = (
        'keyId="Test",algorithm="hs2019",created=1402170695,expires=1402170699,'
        f'headers="{C_DRAFT12_HEADERS}",signature="{C3_DERIVED_SIGNATURE}"'
    )

    sig = read_signature("POST", C_TARGET, c_request(header), C_BODY, 1402170695)

    assert sig.signing_string == C_DRAFT12_STRING
    assert sig.algorithm == "hs2019"
    assert sig.created == 1402170695
    verify_signature(sig, fixture_public_key("cavage_test_public.pem"))


def test_read_signature_rejects_hs2019_after_signed_expires() -> None:
    header = (
        'keyId="Test",algorithm="hs2019",created=1402170695,expires=1402170699,'
        f'headers="{C_DRAFT12_HEADERS}",signature="{C3_DERIVED_SIGNATURE}"'
    )

    with pytest.raises(SignatureError, match=reason("Signed request date outside acceptable time window")):
        read_signature("POST", C_TARGET, c_request(header), C_BODY, 1402170699 + 3601)


def test_sign_request_reproduces_cavage_test_request_headers() -> None:
    now = datetime.fromtimestamp(C_NOW, UTC)
    private_key = fixture_private_key("cavage_test_private.pem")

    added = sign_request(
        "POST", C_TARGET, {"content-type": "application/json"}, C_BODY, "Test", private_key, now
    )

    assert added["Host"] == C_HEADERS["Host"]
    assert added["Date"] == C_HEADERS["Date"]
    assert added["Digest"] == C_HEADERS["Digest"]
    assert 'headers="(request-target) host date digest content-type"' in added["Signature"]
    sig = read_signature("POST", C_TARGET, {**C_HEADERS, **added}, C_BODY, C_NOW)
    verify_signature(sig, fixture_public_key("cavage_test_public.pem"))


# --- RFC 9421 Appendix B ---------------------------------------------------------------------------------

B2_TARGET = "https://example.com/foo?param=Value&Pet=dog"
B2_CREATED = 1618884473
B2_CONTENT_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
)
B2_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": B2_CONTENT_DIGEST,
    "Content-Length": "18",
}
B2_INPUTS = {
    "b21": ('();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"', B21_SIGNATURE),
    "b22": (
        '("@authority" "content-digest" "@query-param";name="Pet");created=1618884473'
        ';keyid="test-key-rsa-pss";tag="header-example"',
        B22_SIGNATURE,
    ),
    "b23": (
        '("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length")'
        ';created=1618884473;keyid="test-key-rsa-pss"',
        B23_SIGNATURE,
    ),
    "b25": (
        '("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
        B25_SIGNATURE,
    ),
    "b26": (
        '("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473'
        ';keyid="test-key-ed25519"',
        B26_SIGNATURE,
    ),
}
B21_BASE = (
    b'"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
)
B23_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@query": ?param=Value&Pet=dog\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-digest": ' + B2_CONTENT_DIGEST.encode() + b"\n"
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
    b'"content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B25_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"'
)
B26_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
    b';created=1618884473;keyid="test-key-ed25519"'
)


def rfc9421_input(base: bytes, signature: str, algorithm: str, key_id: str = "test-key") -> SignatureInput:
    return SignatureInput("rfc9421", key_id, algorithm, base, base64.b64decode(signature), (), B2_CREATED)


@pytest.mark.parametrize("algorithm", ["", "ed25519"])
def test_verify_signature_accepts_rfc9421_b26_ed25519(algorithm: str) -> None:
    sig = rfc9421_input(B26_BASE, B26_SIGNATURE, algorithm)

    verify_signature(sig, fixture_public_key("rfc9421_ed25519_public.pem"))


def test_verify_signature_rejects_rfc9421_b26_over_other_base() -> None:
    sig = rfc9421_input(B26_BASE.replace(b"/foo", b"/bar"), B26_SIGNATURE, "ed25519")

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, fixture_public_key("rfc9421_ed25519_public.pem"))


@pytest.mark.parametrize(("base", "signature"), [(B21_BASE, B21_SIGNATURE), (B23_BASE, B23_SIGNATURE)])
def test_verify_signature_refuses_rfc9421_rsa_pss_algorithm(base: bytes, signature: str) -> None:
    sig = rfc9421_input(base, signature, "rsa-pss-sha512")

    with pytest.raises(SignatureError, match=reason("Unsupported signature algorithm 'rsa-pss-sha512'")):
        verify_signature(sig, fixture_public_key("rfc9421_rsa_pss_public.pem"))


def test_verify_signature_rejects_rfc9421_rsa_pss_vector_read_as_pkcs1() -> None:
    # No `alg`: an RSA key means rsa-v1_5-sha256 to us, so a PSS signature simply does not verify.
    sig = rfc9421_input(B23_BASE, B23_SIGNATURE, "")

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, fixture_public_key("rfc9421_rsa_pss_public.pem"))


def test_verify_signature_refuses_rfc9421_hmac_algorithm() -> None:
    sig = rfc9421_input(B25_BASE, B25_SIGNATURE, "hmac-sha256")

    with pytest.raises(SignatureError, match=reason("Unsupported signature algorithm 'hmac-sha256'")):
        verify_signature(sig, fixture_public_key("rfc9421_rsa_public.pem"))


@pytest.mark.parametrize("label", ["b21", "b22", "b23", "b25", "b26"])
def test_read_signature_rejects_rfc9421_b2_vectors_without_method_and_target_uri(label: str) -> None:
    signature_input, signature = B2_INPUTS[label]
    headers = {
        **B2_HEADERS,
        "Signature-Input": f"sig-{label}={signature_input}",
        "Signature": f"sig-{label}=:{signature}:",
    }
    expected = (
        "Unsupported covered component"
        if label == "b22"
        else "requires the @method and @target-uri derived components to be signed"
    )

    with pytest.raises(SignatureError, match=reason(expected)):
        read_signature("POST", B2_TARGET, headers, b'{"hello": "world"}', B2_CREATED)


def test_read_signature_builds_rfc9421_signature_base_as_appendix_b() -> None:
    components = (
        '"date" "@method" "@path" "@query" "@authority" "content-type" "content-length" "@target-uri" '
        '"content-digest"'
    )
    signature_input = f'({components});created=1618884473;keyid="test-key-ed25519"'
    headers = {
        **B2_HEADERS,
        "Signature-Input": f"sig1={signature_input}",
        "Signature": f"sig1=:{B26_SIGNATURE}:",
    }

    sig = read_signature("POST", B2_TARGET, headers, b'{"hello": "world"}', B2_CREATED)

    assert sig.signing_string == (
        b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        b'"@method": POST\n'
        b'"@path": /foo\n'
        b'"@query": ?param=Value&Pet=dog\n'
        b'"@authority": example.com\n'
        b'"content-type": application/json\n'
        b'"content-length": 18\n'
        b'"@target-uri": https://example.com/foo?param=Value&Pet=dog\n'
        b'"content-digest": ' + B2_CONTENT_DIGEST.encode() + b"\n"
        b'"@signature-params": ' + signature_input.encode()
    )
    assert sig.covered == tuple(c.strip('"') for c in components.split())
    assert sig.key_id == "test-key-ed25519"
    assert sig.algorithm == ""


def test_serialize_inner_list_reproduces_rfc9421_b22_signature_params() -> None:
    text = B2_INPUTS["b22"][0]

    member = parse_dictionary(f"sig-b22={text}")["sig-b22"]

    assert isinstance(member, InnerList)
    assert serialize_inner_list(member) == text


# --- Mastodon spec fixtures (M1-M6, the RFC 9421 vector) ---------------------------------------------------

BOB_KEY_ID = "https://remote.domain/users/bob#main-key"
M_NOW = 1703066400.0  # 2023-12-20T10:00:00Z
M_DATE = "Wed, 20 Dec 2023 10:00:00 GMT"
M_BASE = "https://www.example.com"


def mastodon_request(
    signature: str, signed: str, date: str = M_DATE, digest: str | None = None
) -> dict[str, str]:
    headers = {
        "Host": "www.example.com",
        "Date": date,
        "Signature": f'keyId="{BOB_KEY_ID}",algorithm="rsa-sha256",headers="{signed}",'
        f'signature="{signature}"',
    }
    if digest is not None:
        headers["Digest"] = digest
    return headers


def bob_public() -> RSAPublicKey | Ed25519PublicKey:
    return fixture_public_key("mastodon_bob_public.pem")


def test_read_signature_accepts_m1_get() -> None:
    headers = mastodon_request(M1_SIGNATURE, "date host (request-target)")

    sig = read_signature("GET", f"{M_BASE}/activitypub/success", headers, None, M_NOW)

    assert sig.key_id == BOB_KEY_ID
    assert sig.signing_string_without_query is None
    verify_signature(sig, bob_public())


def test_verify_signature_accepts_m1_get_signed_without_the_request_query() -> None:
    # SECURITY.md b.1 rule 7: like Mastodon and GoToSocial we try with the query, then without it.
    headers = mastodon_request(M1_SIGNATURE, "date host (request-target)")

    sig = read_signature("GET", f"{M_BASE}/activitypub/success?foo=42", headers, None, M_NOW)

    assert sig.signing_string.endswith(b"get /activitypub/success?foo=42")
    assert sig.signing_string_without_query is not None
    assert sig.signing_string_without_query.endswith(b"get /activitypub/success")
    verify_signature(sig, bob_public())


def test_verify_signature_rejects_m1_on_another_path() -> None:
    headers = mastodon_request(M1_SIGNATURE, "date host (request-target)")

    sig = read_signature("GET", f"{M_BASE}/activitypub/alternative-path", headers, None, M_NOW)

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, bob_public())


def test_read_signature_rejects_m1_get_signature_on_a_post() -> None:
    headers = mastodon_request(M1_SIGNATURE, "date host (request-target)")

    with pytest.raises(SignatureError, match=reason("Digest header to be signed when doing a POST request")):
        read_signature("POST", f"{M_BASE}/activitypub/success", headers, b"Hello world", M_NOW)


def test_verify_signature_accepts_m2_signed_query() -> None:
    headers = mastodon_request(M2_SIGNATURE, "date host (request-target)")

    sig = read_signature("GET", f"{M_BASE}/activitypub/success?foo=42", headers, None, M_NOW)

    verify_signature(sig, bob_public())


def test_verify_signature_rejects_m2_with_another_query() -> None:
    headers = mastodon_request(M2_SIGNATURE, "date host (request-target)")

    sig = read_signature("GET", f"{M_BASE}/activitypub/success?foo=43", headers, None, M_NOW)

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, bob_public())


def test_read_signature_rejects_m3_date_two_days_old() -> None:
    headers = mastodon_request(
        M3_SIGNATURE, "date host (request-target)", date="Wed, 18 Dec 2023 10:00:00 GMT"
    )

    with pytest.raises(SignatureError, match=reason("Signed request date outside acceptable time window")):
        read_signature("GET", f"{M_BASE}/activitypub/success", headers, None, M_NOW)
    # The signature itself is sound: read at the time it was made, it verifies.
    sig = read_signature("GET", f"{M_BASE}/activitypub/success", headers, None, M_NOW - 2 * 86400)
    verify_signature(sig, bob_public())


def test_read_signature_rejects_m4_unparsable_date() -> None:
    headers = mastodon_request(M4_SIGNATURE, "date host (request-target)", date="wrong date")

    with pytest.raises(SignatureError) as caught:
        read_signature("GET", f"{M_BASE}/activitypub/success", headers, None, M_NOW)

    assert str(caught.value) == 'Invalid Date header: not RFC 2616 compliant date: "wrong date"'


M5_DIGEST = "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="


def test_read_signature_accepts_m5_post() -> None:
    headers = mastodon_request(M5_SIGNATURE, "host date digest (request-target)", digest=M5_DIGEST)

    sig = read_signature("POST", f"{M_BASE}/activitypub/success", headers, b"Hello world", M_NOW)

    assert sig.covered == ("host", "date", "digest", "(request-target)")
    verify_signature(sig, bob_public())


def test_read_signature_rejects_m5_post_with_another_body() -> None:
    headers = mastodon_request(M5_SIGNATURE, "host date digest (request-target)", digest=M5_DIGEST)

    with pytest.raises(SignatureError) as caught:
        read_signature("POST", f"{M_BASE}/activitypub/success", headers, b"Hello world!", M_NOW)

    assert str(caught.value) == (
        "Invalid Digest value. Computed SHA-256 digest: wFNeS+K3n/2TKRMFQ2v4iTFOSj+uwF7P/Lt98xrZ5Ro=; "
        "given: ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
    )


def test_verify_signature_rejects_m5_on_another_path() -> None:
    headers = mastodon_request(M5_SIGNATURE, "host date digest (request-target)", digest=M5_DIGEST)

    sig = read_signature("POST", f"{M_BASE}/activitypub/alternative-path", headers, b"Hello world", M_NOW)

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, bob_public())


def test_read_signature_rejects_m6_post_with_digest_unsigned() -> None:
    headers = mastodon_request(M6_SIGNATURE, "host date (request-target)", digest=M5_DIGEST)

    with pytest.raises(SignatureError) as caught:
        read_signature("POST", f"{M_BASE}/activitypub/success", headers, b"Hello world", M_NOW)

    assert (
        str(caught.value)
        == "fediverse-learn requires the Digest header to be signed when doing a POST request"
    )


MASTODON_RFC9421_INPUT = f'sig1=("@method" "@target-uri");created=1703066400;keyid="{BOB_KEY_ID}"'


def test_read_signature_accepts_mastodon_rfc9421_vector() -> None:
    headers = {
        "Host": "www.example.com",
        "Signature-Input": MASTODON_RFC9421_INPUT,
        "Signature": f"sig1=:{MASTODON_RFC9421_SIGNATURE}:",
    }

    sig = read_signature("GET", f"{M_BASE}/activitypub/success", headers, None, M_NOW)

    assert sig.scheme == "rfc9421"
    assert sig.signing_string == (
        b'"@method": GET\n'
        b'"@target-uri": https://www.example.com/activitypub/success\n'
        b'"@signature-params": ("@method" "@target-uri");created=1703066400;'
        b'keyid="https://remote.domain/users/bob#main-key"'
    )
    assert sig.created == M_NOW
    verify_signature(sig, bob_public())


def test_verify_signature_rejects_mastodon_rfc9421_vector_on_another_path() -> None:
    headers = {"Signature-Input": MASTODON_RFC9421_INPUT, "Signature": f"sig1=:{MASTODON_RFC9421_SIGNATURE}:"}

    sig = read_signature("GET", f"{M_BASE}/activitypub/alternative-path", headers, None, M_NOW)

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, bob_public())


def test_sign_request_rfc9421_reproduces_mastodon_vector() -> None:
    private_key = fixture_private_key("mastodon_bob_private.pem")
    now = datetime.fromtimestamp(M_NOW, UTC)

    added = sign_request_rfc9421(
        "GET", f"{M_BASE}/activitypub/success", {}, None, BOB_KEY_ID, private_key, now
    )

    assert added == {
        "Signature-Input": MASTODON_RFC9421_INPUT,
        "Signature": f"sig1=:{MASTODON_RFC9421_SIGNATURE}:",
    }


# --- round trips -------------------------------------------------------------------------------------------

KEY_ID = "https://a.test/users/alice#main-key"
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
TS = NOW.timestamp()
INBOX = "https://b.test/inbox"
OUTBOX = "https://a.test/users/alice/outbox?page=2"
ACTIVITY = b'{"type": "Follow", "actor": "https://a.test/users/alice"}'


def cavage_post(keys: Keys, body: bytes = ACTIVITY) -> dict[str, str]:
    headers = {"Content-Type": "application/activity+json"}
    return headers | sign_request("POST", INBOX, headers, body, KEY_ID, keys.main, NOW)


def rfc9421_post(keys: Keys, body: bytes = ACTIVITY) -> dict[str, str]:
    headers = {"Host": "b.test", "Content-Type": "application/activity+json"}
    return headers | sign_request_rfc9421("POST", INBOX, headers, body, KEY_ID, keys.main, NOW)


def test_round_trip_cavage_get(keys: Keys) -> None:
    added = sign_request("GET", OUTBOX, {"Accept": "application/activity+json"}, None, KEY_ID, keys.main, NOW)

    sig = read_signature("GET", OUTBOX, added, None, TS)

    assert set(added) == {"Host", "Date", "Signature"}
    assert added["Date"] == "Sun, 01 Jun 2025 12:00:00 GMT"
    assert 'headers="(request-target) host date"' in added["Signature"]
    assert sig.signing_string == (
        b"(request-target): get /users/alice/outbox?page=2\nhost: a.test\ndate: Sun, 01 Jun 2025 12:00:00 GMT"
    )
    verify_signature(sig, keys.main.public_key())


def test_round_trip_cavage_post(keys: Keys) -> None:
    headers = cavage_post(keys)

    sig = read_signature("POST", INBOX, headers, ACTIVITY, TS)

    assert headers["Digest"] == digest_header(ACTIVITY)
    assert sig.covered == ("(request-target)", "host", "date", "digest", "content-type")
    assert sig.algorithm == "rsa-sha256"
    assert sig.created == TS
    verify_signature(sig, keys.main.public_key())


def test_round_trip_cavage_post_without_content_type(keys: Keys) -> None:
    headers = sign_request("POST", INBOX, {}, ACTIVITY, KEY_ID, keys.main, NOW)

    sig = read_signature("POST", INBOX, headers, ACTIVITY, TS)

    assert sig.covered == ("(request-target)", "host", "date", "digest")
    verify_signature(sig, keys.main.public_key())


def test_round_trip_rfc9421_get(keys: Keys) -> None:
    added = sign_request_rfc9421("GET", OUTBOX, {}, None, KEY_ID, keys.main, NOW)

    sig = read_signature("GET", OUTBOX, {"Host": "a.test", **added}, None, TS)

    assert set(added) == {"Signature-Input", "Signature"}
    assert sig.covered == ("@method", "@target-uri")
    verify_signature(sig, keys.main.public_key())


def test_round_trip_rfc9421_post(keys: Keys) -> None:
    headers = rfc9421_post(keys)

    sig = read_signature("POST", INBOX, headers, ACTIVITY, TS)

    assert headers["Content-Digest"] == content_digest_header(ACTIVITY)
    assert sig.covered == ("@method", "@target-uri", "content-digest")
    assert sig.created == TS
    verify_signature(sig, keys.main.public_key())


def test_read_signature_treats_header_names_case_insensitively(keys: Keys) -> None:
    headers = {name.upper(): value for name, value in cavage_post(keys).items()}

    sig = read_signature("post", INBOX, headers, ACTIVITY, TS)

    verify_signature(sig, keys.main.public_key())


def test_read_signature_accepts_authorization_signature_header(keys: Keys) -> None:
    headers = cavage_post(keys)
    headers["Authorization"] = "Signature " + headers.pop("Signature")

    sig = read_signature("POST", INBOX, headers, ACTIVITY, TS)

    verify_signature(sig, keys.main.public_key())


def test_read_signature_accepts_legacy_signature_prefix(keys: Keys) -> None:
    headers = cavage_post(keys)
    headers["Signature"] = "Signature " + headers["Signature"]

    sig = read_signature("POST", INBOX, headers, ACTIVITY, TS)

    verify_signature(sig, keys.main.public_key())


def test_verify_signature_accepts_hs2019_with_rsa_key(keys: Keys) -> None:
    headers = cavage_post(keys)
    headers["Signature"] = headers["Signature"].replace('algorithm="rsa-sha256"', 'algorithm="hs2019"')

    sig = read_signature("POST", INBOX, headers, ACTIVITY, TS)

    assert sig.algorithm == "hs2019"
    verify_signature(sig, keys.main.public_key())


def test_read_signature_accepts_digest_listing_several_algorithms(keys: Keys) -> None:
    # Only the keyless checks run here; the Digest value is part of the signing string as received.
    headers = cavage_post(keys)
    headers["Digest"] = f"SHA-512=bm90IGNoZWNrZWQ=, {headers['Digest']}"

    sig = read_signature("POST", INBOX, headers, ACTIVITY, TS)

    assert f"digest: {headers['Digest']}".encode() in sig.signing_string


def test_sign_request_includes_non_default_port_in_host(keys: Keys) -> None:
    added = sign_request("GET", "https://A.Test:8443/users/alice", {}, None, KEY_ID, keys.main, NOW)

    assert added["Host"] == "a.test:8443"


def test_sign_request_omits_default_port_from_host(keys: Keys) -> None:
    added = sign_request("GET", "https://a.test:443/users/alice", {}, None, KEY_ID, keys.main, NOW)

    assert added["Host"] == "a.test"


def test_sign_request_rejects_naive_datetime(keys: Keys) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_request("GET", OUTBOX, {}, None, KEY_ID, keys.main, datetime(2025, 6, 1, 12))


# --- one failure per rule ---------------------------------------------------------------------------------


def fake_cavage(signed: str, algorithm: str = "rsa-sha256", key_id: str = KEY_ID, extra: str = "") -> str:
    """A cavage Signature header for checks that run before any key is used."""
    return f'keyId="{key_id}",algorithm="{algorithm}",headers="{signed}"{extra},signature="AAAA"'


GET_HEADERS = {"Host": "a.test", "Date": format_http_date(NOW)}


def test_read_signature_rejects_missing_signature() -> None:
    with pytest.raises(SignatureError, match=reason("Request not signed")):
        read_signature("GET", OUTBOX, GET_HEADERS | {"Authorization": "Bearer abc"}, None, TS)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        'keyId="a" signature="b"',
        'keyId="a",,signature="b"',
        'keyId="a",signature="b",',
        'keyId="a,signature="b"',
        'keyId=,signature="b"',
    ],
)
def test_read_signature_rejects_malformed_signature_header(header: str) -> None:
    with pytest.raises(SignatureError, match=reason("Error parsing signature parameters")):
        read_signature("GET", OUTBOX, GET_HEADERS | {"Signature": header}, None, TS)


def test_read_signature_rejects_duplicate_parameter() -> None:
    header = fake_cavage("(request-target) host date", extra=',keyId="https://evil.test/key"')

    with pytest.raises(SignatureError, match=reason("duplicate parameter keyId")):
        read_signature("GET", OUTBOX, GET_HEADERS | {"Signature": header}, None, TS)


def test_read_signature_rejects_overlong_signature_header() -> None:
    header = fake_cavage("(request-target) host date", extra=f',junk="{"x" * 9000}"')

    with pytest.raises(SignatureError, match=reason("signature header too long")):
        read_signature("GET", OUTBOX, GET_HEADERS | {"Signature": header}, None, TS)


def test_read_signature_rejects_missing_key_id() -> None:
    header = 'algorithm="rsa-sha256",headers="(request-target) host date",signature="AAAA"'

    with pytest.raises(
        SignatureError, match=reason("Incompatible request signature. keyId and signature are")
    ):
        read_signature("GET", OUTBOX, GET_HEADERS | {"Signature": header}, None, TS)


@pytest.mark.parametrize(
    ("signed", "expected"),
    [
        ("host date", "requires the (request-target) pseudo-header to be signed"),
        ("(request-target) date", "requires the Host header to be signed"),
        ("(request-target) host", "requires the Date header or (created) pseudo-header to be signed"),
    ],
)
def test_read_signature_rejects_missing_required_header(signed: str, expected: str) -> None:
    headers = GET_HEADERS | {"Signature": fake_cavage(signed)}

    with pytest.raises(SignatureError, match=reason(expected)):
        read_signature("GET", OUTBOX, headers, None, TS)


def test_read_signature_rejects_hs2019_default_headers() -> None:
    header = f'keyId="{KEY_ID}",algorithm="hs2019",created={int(TS)},signature="AAAA"'

    with pytest.raises(SignatureError, match=reason("requires the (request-target) pseudo-header")):
        read_signature("GET", OUTBOX, GET_HEADERS | {"Signature": header}, None, TS)


def test_read_signature_rejects_post_without_digest_covered(keys: Keys) -> None:
    headers = cavage_post(keys)
    headers["Signature"] = fake_cavage("(request-target) host date content-type")

    with pytest.raises(SignatureError, match=reason("Digest header to be signed when doing a POST request")):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_rejects_body_without_digest_covered() -> None:
    headers = GET_HEADERS | {"Signature": fake_cavage("(request-target) host date")}

    with pytest.raises(
        SignatureError, match=reason("Digest header to be signed when the request has a body")
    ):
        read_signature("PUT", OUTBOX, headers, b"{}", TS)


def test_read_signature_rejects_digest_mismatch(keys: Keys) -> None:
    with pytest.raises(SignatureError, match=reason("Invalid Digest value. Computed SHA-256 digest:")):
        read_signature("POST", INBOX, cavage_post(keys), ACTIVITY + b" ", TS)


def test_read_signature_rejects_digest_without_sha256(keys: Keys) -> None:
    headers = cavage_post(keys) | {"Digest": "MD5=rL0Y20zC+Fzt72VPzMSk2A=="}

    with pytest.raises(
        SignatureError, match=reason("only supports SHA-256 in Digest header. Offered algorithms: md5")
    ):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


@pytest.mark.parametrize(
    ("digest", "expected"),
    [
        ("SHA-256=not base64!", "is not a valid base64 string"),
        ("SHA-256=aGVsbG8=", "is not a SHA-256 digest"),
    ],
)
def test_read_signature_rejects_malformed_digest(keys: Keys, digest: str, expected: str) -> None:
    headers = cavage_post(keys) | {"Digest": digest}

    with pytest.raises(SignatureError, match=reason(expected)):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_rejects_content_digest_mismatch(keys: Keys) -> None:
    with pytest.raises(
        SignatureError, match=reason("Invalid Content-Digest value. Computed SHA-256 digest:")
    ):
        read_signature("POST", INBOX, rfc9421_post(keys), ACTIVITY + b" ", TS)


@pytest.mark.parametrize(
    ("content_digest", "expected"),
    [
        ("sha-256=:abc", "Content-Digest could not be parsed"),
        ("md5=:rL0Y20zC+Fzt72VPzMSk2A==:", "Offered algorithms: md5"),
        ('sha-256="abc"', "is not a byte sequence"),
    ],
)
def test_read_signature_rejects_malformed_content_digest(
    keys: Keys, content_digest: str, expected: str
) -> None:
    headers = rfc9421_post(keys) | {"Content-Digest": content_digest}

    with pytest.raises(SignatureError, match=reason(expected)):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_accepts_date_within_window_edges(keys: Keys) -> None:
    headers = cavage_post(keys)

    read_signature("POST", INBOX, headers, ACTIVITY, TS + 300 + 3600)  # stale edge: expires (5 min) + 1 h
    read_signature("POST", INBOX, headers, ACTIVITY, TS - 3600)  # future edge: 1 h ahead


def test_read_signature_rejects_stale_date(keys: Keys) -> None:
    with pytest.raises(SignatureError, match=reason("Signed request date outside acceptable time window")):
        read_signature("POST", INBOX, cavage_post(keys), ACTIVITY, TS + 300 + 3600 + 1)


def test_read_signature_rejects_future_date(keys: Keys) -> None:
    with pytest.raises(SignatureError, match=reason("Signed request date outside acceptable time window")):
        read_signature("POST", INBOX, cavage_post(keys), ACTIVITY, TS - 3600 - 1)


def test_read_signature_honours_max_skew(keys: Keys) -> None:
    with pytest.raises(SignatureError, match=reason("outside acceptable time window")):
        read_signature("POST", INBOX, cavage_post(keys), ACTIVITY, TS - 61, max_skew=60)


def test_read_signature_ignores_unsigned_created_and_expires(keys: Keys) -> None:
    # An attacker replaying an old request cannot refresh it by adding unsigned created/expires parameters.
    headers = cavage_post(keys)
    headers["Signature"] = headers["Signature"].replace(
        'algorithm="rsa-sha256"', f'algorithm="hs2019",created={int(TS) + 86400},expires={int(TS) + 90000}'
    )

    with pytest.raises(SignatureError, match=reason("outside acceptable time window")):
        read_signature("POST", INBOX, headers, ACTIVITY, TS + 86400)


def test_read_signature_rejects_stale_rfc9421_created(keys: Keys) -> None:
    with pytest.raises(SignatureError, match=reason("Signed request date outside acceptable time window")):
        read_signature("POST", INBOX, rfc9421_post(keys), ACTIVITY, TS + 300 + 3600 + 1)


@pytest.mark.parametrize("algorithm", ["rsa-sha512", "hmac-sha256", "ed25519"])
def test_read_signature_rejects_unsupported_cavage_algorithm(algorithm: str) -> None:
    headers = GET_HEADERS | {"Signature": fake_cavage("(request-target) host date", algorithm=algorithm)}

    with pytest.raises(
        SignatureError, match=reason("Unsupported signature algorithm (only rsa-sha256 and hs2019")
    ):
        read_signature("GET", OUTBOX, headers, None, TS)


def test_read_signature_rejects_unsupported_rfc9421_alg() -> None:
    signature_input = MASTODON_RFC9421_INPUT + ';alg="rsa-pss-sha512"'
    headers = {"Signature-Input": signature_input, "Signature": f"sig1=:{MASTODON_RFC9421_SIGNATURE}:"}

    with pytest.raises(SignatureError, match=reason("Unsupported signature algorithm (only rsa-v1_5-sha256")):
        read_signature("GET", f"{M_BASE}/activitypub/success", headers, None, M_NOW)


def test_read_signature_rejects_acct_key_id() -> None:
    headers = GET_HEADERS | {
        "Signature": fake_cavage("(request-target) host date", key_id="acct:alice@a.test")
    }

    with pytest.raises(SignatureError, match=reason("acct: keyIds are not supported")):
        read_signature("GET", OUTBOX, headers, None, TS)


def test_read_signature_rejects_rfc9421_acct_key_id() -> None:
    headers = {
        "Signature-Input": 'sig1=("@method" "@target-uri");created=1703066400;keyid="acct:bob@remote.domain"',
        "Signature": f"sig1=:{MASTODON_RFC9421_SIGNATURE}:",
    }

    with pytest.raises(SignatureError, match=reason("acct: keyIds are not supported")):
        read_signature("GET", f"{M_BASE}/activitypub/success", headers, None, M_NOW)


def test_verify_signature_rejects_tampered_signature(keys: Keys) -> None:
    sig = read_signature("POST", INBOX, cavage_post(keys), ACTIVITY, TS)
    tampered = dataclasses.replace(sig, signature=bytes([sig.signature[0] ^ 1]) + sig.signature[1:])

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(tampered, keys.main.public_key())


def test_verify_signature_rejects_wrong_key(keys: Keys) -> None:
    sig = read_signature("POST", INBOX, rfc9421_post(keys), ACTIVITY, TS)

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(sig, keys.other.public_key())


def test_verify_signature_rejects_truncated_signature(keys: Keys) -> None:
    sig = read_signature("POST", INBOX, cavage_post(keys), ACTIVITY, TS)

    with pytest.raises(SignatureError):
        verify_signature(dataclasses.replace(sig, signature=b"short"), keys.main.public_key())


def test_verify_signature_rejects_ed25519_key_for_cavage(keys: Keys) -> None:
    sig = read_signature("POST", INBOX, cavage_post(keys), ACTIVITY, TS)

    with pytest.raises(SignatureError, match=reason("does not match algorithm rsa-sha256")):
        verify_signature(sig, fixture_public_key("rfc9421_ed25519_public.pem"))


def test_verify_signature_rejects_rsa_key_for_ed25519() -> None:
    sig = rfc9421_input(B26_BASE, B26_SIGNATURE, "ed25519")

    with pytest.raises(SignatureError, match=reason("does not match algorithm ed25519")):
        verify_signature(sig, bob_public())


def test_read_signature_rejects_host_mismatch(keys: Keys) -> None:
    headers = cavage_post(keys)

    with pytest.raises(
        SignatureError, match=reason("Host header 'b.test' does not match this server ('c.test')")
    ):
        read_signature("POST", "https://c.test/inbox", headers, ACTIVITY, TS)


@pytest.mark.parametrize("host", ["B.TEST", "b.test.", "b.test:443"])
def test_read_signature_accepts_equivalent_host_spellings(keys: Keys, host: str) -> None:
    headers = cavage_post(keys)
    headers["Host"] = host

    sig = read_signature("POST", INBOX, headers, ACTIVITY, TS)

    assert f"host: {host}".encode() in sig.signing_string


@pytest.mark.parametrize("host", ["b.test/inbox", "b.test:8443", "b.test@c.test"])
def test_read_signature_rejects_odd_host_headers(keys: Keys, host: str) -> None:
    headers = cavage_post(keys) | {"Host": host}

    with pytest.raises(SignatureError, match="does not match this server"):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_rejects_repeated_host_header(keys: Keys) -> None:
    headers = cavage_post(keys) | {"host": "c.test"}

    with pytest.raises(SignatureError, match=reason("Multiple host headers")):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_rejects_rfc9421_host_mismatch(keys: Keys) -> None:
    headers = rfc9421_post(keys) | {"Host": "c.test"}

    with pytest.raises(SignatureError, match="does not match this server"):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_rejects_multiple_rfc9421_signatures(keys: Keys) -> None:
    headers = rfc9421_post(keys)
    second = headers["Signature-Input"].replace("sig1=", "sig2=")
    headers["Signature-Input"] += ", " + second
    headers["Signature"] += ", " + headers["Signature"].replace("sig1=", "sig2=")

    with pytest.raises(SignatureError, match=reason("Exactly one signature is supported, got 2")):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_rejects_rfc9421_label_mismatch(keys: Keys) -> None:
    headers = rfc9421_post(keys)
    headers["Signature"] = headers["Signature"].replace("sig1=", "sig2=")

    with pytest.raises(SignatureError, match=reason("does not match Signature-Input")):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_rejects_rfc9421_without_created() -> None:
    headers = {
        "Signature-Input": f'sig1=("@method" "@target-uri");keyid="{BOB_KEY_ID}"',
        "Signature": f"sig1=:{MASTODON_RFC9421_SIGNATURE}:",
    }

    with pytest.raises(SignatureError, match=reason("Incompatible request signature. keyid and created are")):
        read_signature("GET", f"{M_BASE}/activitypub/success", headers, None, M_NOW)


def test_read_signature_rejects_rfc9421_post_without_content_digest(keys: Keys) -> None:
    headers = {
        "Host": "b.test",
        **sign_request_rfc9421("GET", INBOX, {}, None, KEY_ID, keys.main, NOW),
    }

    with pytest.raises(SignatureError, match=reason("Content-Digest header to be signed when doing a POST")):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


def test_read_signature_rejects_rfc9421_without_signature_header(keys: Keys) -> None:
    headers = rfc9421_post(keys)
    del headers["Signature"]

    with pytest.raises(SignatureError, match=reason("Signature header missing")):
        read_signature("POST", INBOX, headers, ACTIVITY, TS)


@pytest.mark.parametrize(
    "signature_input",
    ['sig1=("@method" "@target-uri"', "sig1=(@method);created=1", 'sig1=("@method");created=1,'],
)
def test_read_signature_rejects_malformed_signature_input(signature_input: str) -> None:
    headers = {"Signature-Input": signature_input, "Signature": "sig1=:AAAA:"}

    with pytest.raises(SignatureError, match=reason("Error parsing signature parameters")):
        read_signature("GET", OUTBOX, headers, None, TS)


def test_read_signature_rejects_missing_covered_header() -> None:
    headers = GET_HEADERS | {"Signature": fake_cavage("(request-target) host date accept")}

    with pytest.raises(SignatureError, match=reason("Signed header accept is missing from the request")):
        read_signature("GET", OUTBOX, headers, None, TS)


def test_read_signature_rejects_unsupported_derived_component() -> None:
    headers = {
        "Signature-Input": f'sig1=("@method" "@target-uri" "@status");created={int(TS)};keyid="{KEY_ID}"',
        "Signature": "sig1=:AAAA:",
    }

    with pytest.raises(SignatureError, match=reason("Unsupported derived component @status")):
        read_signature("GET", OUTBOX, headers, None, TS)


# --- keys, digests, dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("mastodon_bob_public.pem", RSAPublicKey),
        ("rfc9421_rsa_public.pem", RSAPublicKey),  # "BEGIN RSA PUBLIC KEY" (PKCS#1)
        ("rfc9421_ed25519_public.pem", Ed25519PublicKey),
    ],
)
def test_load_public_key_accepts_rsa_and_ed25519(name: str, kind: type) -> None:
    assert isinstance(fixture_public_key(name), kind)


def test_load_public_key_rejects_ec_key() -> None:
    with pytest.raises(SignatureError, match=reason("Unsupported public key type")):
        fixture_public_key("rfc9421_ecc_p256_public.pem")


@pytest.mark.parametrize(
    "pem", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "ключ"]
)
def test_load_public_key_rejects_junk(pem: str) -> None:
    with pytest.raises(SignatureError, match=reason("not a valid PEM public key")):
        load_public_key(pem)


def test_digest_header_matches_cavage_test_request() -> None:
    assert digest_header(C_BODY) == C_HEADERS["Digest"]


def test_content_digest_header_uses_rfc9530_form() -> None:
    assert content_digest_header(b'{"hello": "world"}') == (
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )


@pytest.mark.parametrize(
    "value",
    ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"],
)
def test_parse_http_date_accepts_rfc7231_forms(value: str) -> None:
    assert parse_http_date(value) == 784111777.0


@pytest.mark.parametrize(
    "value", ["wrong date", "Sun, 06 Nov 1994 08:49:37 +0000", "Sun, 31 Feb 1994 08:49:37 GMT"]
)
def test_parse_http_date_rejects_other_forms(value: str) -> None:
    with pytest.raises(ValueError, match="not RFC 2616 compliant date"):
        parse_http_date(value)


def test_format_http_date_writes_imf_fixdate() -> None:
    assert format_http_date(datetime(2014, 1, 5, 21, 31, 40, 123, tzinfo=UTC)) == C_HEADERS["Date"]
