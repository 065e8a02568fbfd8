"""HTTP request signatures (draft-cavage-12, RFC 9421): signing outgoing requests, checking incoming ones."""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias
from urllib.parse import SplitResult, urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256

from fediverse_learn.digests import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
    format_http_date,
    parse_dictionary,
    parse_http_date,
    serialize_inner_list,
)
from fediverse_learn.errors import SignatureError

__all__ = [
    "PublicKey", "SignatureInput", "content_digest_header", "digest_header", "load_public_key",
    "read_signature", "sign_request", "sign_request_rfc9421", "verify_signature",
]

PublicKey: TypeAlias = RSAPublicKey | Ed25519PublicKey

MAX_HEADER_LENGTH = 8192
EXPIRES_DEFAULT = 5 * 60.0
EXPIRES_LIMIT = 12 * 3600.0
CAVAGE_ALGORITHMS = ("rsa-sha256", "hs2019")
RFC9421_ALGORITHMS = ("rsa-v1_5-sha256", "ed25519")
_US = "fediverse-learn"  # reasons mimic Mastodon's, with our name where Mastodon names itself


@dataclass(frozen=True)
class SignatureInput:
    """A signature whose keyless checks passed; `verify_signature` does the rest once the key is known."""

    scheme: Literal["cavage", "rfc9421"]
    key_id: str
    algorithm: str  # as named by the sender; "" when an RFC 9421 signature names none (derived from the key)
    signing_string: bytes  # the exact bytes that were signed
    signature: bytes
    covered: tuple[str, ...]  # covered header/component names, lowercased
    created: float | None
    # cavage only: (request-target) without the query string, tried second (Mastodon's query quirk)
    signing_string_without_query: bytes | None = None


# --- signing -----------------------------------------------------------------------------------------


def sign_request(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None,
    key_id: str, private_key: RSAPrivateKey, now: datetime,
) -> dict[str, str]:
    """Sign as Mastodon does (draft-cavage-12, rsa-sha256); returns the headers to add: Host, Date,
    Digest (POST or a body) and Signature. A POST also signs `content-type` if `headers` has one."""
    if '"' in key_id or "\\" in key_id:
        raise ValueError(f"key id {key_id!r} cannot be quoted")
    parts = urlsplit(url)
    values = {"host": _authority(parts), "date": format_http_date(now)}
    added = {"Host": values["host"], "Date": values["date"]}
    if body is not None or method.upper() == "POST":
        added["Digest"] = values["digest"] = digest_header(body or b"")
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        if content_type is not None:
            values["content-type"] = content_type.strip()
    lines = [f"(request-target): {method.lower()} {_path_and_query(parts)}"]
    lines += [f"{name}: {value}" for name, value in values.items()]
    signature = private_key.sign("\n".join(lines).encode("latin-1"), PKCS1v15(), SHA256())
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(["(request-target)", *values])}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return added


def sign_request_rfc9421(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None,
    key_id: str, private_key: RSAPrivateKey, now: datetime,
) -> dict[str, str]:
    """Sign with RFC 9421 rsa-v1_5-sha256 over "@method" "@target-uri" (and "content-digest" for a POST
    or a body); returns Signature-Input, Signature and, for a body, Content-Digest."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    covered = {"@method": method.upper(), "@target-uri": url}
    added: dict[str, str] = {}
    if body is not None or method.upper() == "POST":
        added["Content-Digest"] = covered["content-digest"] = content_digest_header(body or b"")
    items = tuple(Item(name, {}) for name in covered)
    params = serialize_inner_list(InnerList(items, {"created": int(now.timestamp()), "keyid": key_id}))
    lines = [f'"{name}": {value}' for name, value in covered.items()]
    lines.append(f'"@signature-params": {params}')
    signature = private_key.sign("\n".join(lines).encode("latin-1"), PKCS1v15(), SHA256())
    added["Signature-Input"] = f"sig1={params}"
    added["Signature"] = f"sig1=:{base64.b64encode(signature).decode('ascii')}:"
    return added


# --- reading (every check that needs no key) ----------------------------------------------------------


def read_signature(
    method: str, target_uri: str, headers: Mapping[str, str], body: bytes | None, now: float,
    max_skew: float = 3600,
) -> SignatureInput:
    """Parse the request's signature and check all that needs no key (SECURITY.md b.1, b.2): covered
    components, time window, body digest, Host. `Signature-Input` selects RFC 9421, else cavage
    `Signature` (or `Authorization: Signature ...`). Raises SignatureError with the reason."""
    request = _Request(method, target_uri, headers, body or b"")
    signature_input = request.single("signature-input")
    if signature_input:
        return _read_rfc9421(request, signature_input, now, max_skew)
    raw = request.single("signature")
    if not raw:
        authorization = request.single("authorization") or ""
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "signature":
            raise SignatureError("Request not signed")
        raw = rest
    return _read_cavage(request, raw, now, max_skew)


class _Request:
    def __init__(self, method: str, target_uri: str, headers: Mapping[str, str], body: bytes) -> None:
        self.method = method.upper()
        self.target_uri = target_uri
        self.url = urlsplit(target_uri)
        self.body = body
        self.headers: dict[str, list[str]] = {}
        for name, value in headers.items():
            self.headers.setdefault(name.lower(), []).append(value.strip())

    @property
    def needs_digest(self) -> bool:
        return self.method == "POST" or bool(self.body)

    def single(self, name: str) -> str | None:
        values = self.headers.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise SignatureError(f"Multiple {name} headers")
        if len(values[0]) > MAX_HEADER_LENGTH:
            raise SignatureError(f"{name} header too long")
        return values[0]

    def field(self, name: str) -> str:
        values = self.headers.get(name)
        if values is None:
            raise SignatureError(f"Signed header {name} is missing from the request")
        return ", ".join(values)

    def check_host(self) -> None:
        host = self.single("host")
        if host is None:
            return
        given = host
        if _HOST.fullmatch(host):
            with contextlib.suppress(ValueError):
                given = _authority(urlsplit(f"{self.url.scheme}://{host}"))
        if given != (ours := _authority(self.url)):
            raise SignatureError(f"Host header {host!r} does not match this server ({ours!r})")


_HOST = re.compile(r"(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_CAVAGE_PARAM = re.compile(
    r"[ \t]*([0-9A-Za-z!#$%&'*+.^_`|~-]+)[ \t]*=[ \t]*"
    r"(?:\"((?:[^\"\\]|\\.)*)\"|([0-9A-Za-z!#$%&'*+.^_`|~-]+))[ \t]*"
)


def _parse_cavage(raw: str) -> dict[str, str]:
    text = raw.removeprefix("Signature ")  # old node-http-signature (b.1 rule 1)
    params: dict[str, str] = {}
    pos = 0
    while True:
        m = _CAVAGE_PARAM.match(text, pos)
        if m is None:
            raise SignatureError("Error parsing signature parameters")
        name = m.group(1)
        if name in params:
            raise SignatureError(f"Error parsing signature parameters: duplicate parameter {name}")
        quoted = m.group(2)
        params[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else m.group(3)
        pos = m.end()
        if pos == len(text):
            return params
        if text[pos] != ",":
            raise SignatureError("Error parsing signature parameters")
        pos += 1


def _read_cavage(request: _Request, raw: str, now: float, max_skew: float) -> SignatureInput:
    params = _parse_cavage(raw)
    if not params.get("keyId") or not params.get("signature"):
        raise SignatureError("Incompatible request signature. keyId and signature are required")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in CAVAGE_ALGORITHMS:
        raise SignatureError("Unsupported signature algorithm (only rsa-sha256 and hs2019 are supported)")
    key_id = _check_key_id(params["keyId"])
    covered = tuple(params.get("headers", "(created)" if algorithm == "hs2019" else "date").lower().split())
    _check_cavage_strength(request, covered)
    for pseudo in ("(created)", "(expires)"):
        if pseudo in covered and algorithm != "hs2019":
            raise SignatureError(f"Invalid pseudo-header {pseudo} for {algorithm}")
        if pseudo in covered and not re.fullmatch(r"\d{1,12}(\.\d{1,6})?", params.get(pseudo[1:-1], "")):
            raise SignatureError(f"Pseudo-header {pseudo} used but corresponding argument missing or invalid")
    # b.1 rule 5, but only *signed* times count: anyone can add an unsigned created/expires parameter.
    if "(created)" in covered:
        created = float(params["created"])
    else:
        try:
            created = parse_http_date(request.field("date"))
        except ValueError as e:
            raise SignatureError(f"Invalid Date header: {e}") from None
    _check_window(created, float(params["expires"]) if "(expires)" in covered else None, now, max_skew)
    request.check_host()
    if "digest" in covered:
        check_digest(request.field("digest"), request.body)

    def signing_string(target: str) -> bytes:
        lines: list[str] = []
        for name in covered:
            if name == "(request-target)":
                lines.append(f"(request-target): {request.method.lower()} {target}")
            elif name in ("(created)", "(expires)"):
                lines.append(f"{name}: {params[name[1:-1]]}")
            else:
                lines.append(f"{name}: {request.field(name)}")
        return _encode("\n".join(lines))

    full = signing_string(_path_and_query(request.url))
    without_query = None
    if request.url.query and "(request-target)" in covered:
        without_query = signing_string(request.url.path or "/")
    return SignatureInput("cavage", key_id, algorithm, full, _b64decode(params["signature"]), covered,
                          created, signing_string_without_query=without_query)


def _check_cavage_strength(request: _Request, covered: tuple[str, ...]) -> None:
    """Ours (b.1 rule 4): (request-target), host, and date or (created) always; digest for a POST or body."""
    if "date" not in covered and "(created)" not in covered:
        raise SignatureError(f"{_US} requires the Date header or (created) pseudo-header to be signed")
    if "(request-target)" not in covered:
        raise SignatureError(f"{_US} requires the (request-target) pseudo-header to be signed")
    if "host" not in covered:
        raise SignatureError(f"{_US} requires the Host header to be signed")
    if request.needs_digest and "digest" not in covered:
        when = "doing a POST request" if request.method == "POST" else "the request has a body"
        raise SignatureError(f"{_US} requires the Digest header to be signed when {when}")


def _read_rfc9421(request: _Request, raw_input: str, now: float, max_skew: float) -> SignatureInput:
    raw_signature = request.single("signature")
    if raw_signature is None:
        raise SignatureError("Signature-Input present but Signature header missing")
    try:
        inputs, signatures = parse_dictionary(raw_input), parse_dictionary(raw_signature)
    except StructuredFieldError as e:
        raise SignatureError(f"Error parsing signature parameters: {e}") from None
    if len(inputs) != 1 or len(signatures) != 1:
        raise SignatureError(
            f"Exactly one signature is supported, got {len(inputs)} in Signature-Input "
            f"and {len(signatures)} in Signature"
        )
    (label, member), (signature_label, signature) = next(iter(inputs.items())), next(iter(signatures.items()))
    if label != signature_label:
        raise SignatureError(f"Signature label {signature_label!r} does not match Signature-Input {label!r}")
    if not isinstance(member, InnerList) or not isinstance(signature, Item):
        raise SignatureError("Error parsing signature parameters: wrong structure")
    if not isinstance(signature.value, bytes):
        raise SignatureError("Error parsing signature parameters: signature is not a byte sequence")
    components = _components(member)
    params = member.params
    key_id, created, expires = params.get("keyid"), params.get("created"), params.get("expires")
    if not isinstance(key_id, str) or not key_id or not isinstance(created, int) or isinstance(created, bool):
        raise SignatureError("Incompatible request signature. keyid and created are required")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
        raise SignatureError("Error parsing signature parameters: expires is not an integer")
    algorithm = params.get("alg", "")
    if algorithm not in ("", *RFC9421_ALGORITHMS):
        raise SignatureError("Unsupported signature algorithm (only rsa-v1_5-sha256 and ed25519 are "
                             "supported)")
    _check_key_id(key_id)
    if "@method" not in components or "@target-uri" not in components:
        raise SignatureError(f"{_US} requires the @method and @target-uri derived components to be signed")
    if request.needs_digest and "content-digest" not in components:
        when = "doing a POST request" if request.method == "POST" else "the request has a body"
        raise SignatureError(f"{_US} requires the Content-Digest header to be signed when {when}")
    _check_window(created, None if expires is None else float(expires), now, max_skew)
    request.check_host()
    if "content-digest" in components:
        check_content_digest(request.field("content-digest"), request.body)
    lines = [f'"{name}": {_component_value(request, name)}' for name in components]
    lines.append(f'"@signature-params": {serialize_inner_list(member)}')
    return SignatureInput("rfc9421", key_id, str(algorithm), _encode("\n".join(lines)), signature.value,
                          components, float(created))


def _components(member: InnerList) -> tuple[str, ...]:
    names: list[str] = []
    for item in member.items:
        name = item.value
        if not isinstance(name, str) or isinstance(name, Token) or item.params:
            raise SignatureError(f"Unsupported covered component {item.value!r}")
        if name != name.lower() or name in names or name == "@signature-params":
            raise SignatureError(f"Invalid covered component {name!r}")
        names.append(name)
    return tuple(names)


def _component_value(request: _Request, name: str) -> str:
    url = request.url
    derived = {
        "@method": request.method,
        "@target-uri": request.target_uri,
        "@authority": _authority(url),
        "@scheme": url.scheme.lower(),
        "@path": url.path or "/",
        "@query": f"?{url.query}",
        "@request-target": _path_and_query(url),
    }
    if name.startswith("@"):
        if name not in derived:
            raise SignatureError(f"Unsupported derived component {name}")
        return derived[name]
    return request.field(name)


# --- verifying with the key ---------------------------------------------------------------------------


def verify_signature(sig: SignatureInput, public_key: PublicKey) -> None:
    """Raise SignatureError unless `sig` verifies with `public_key`. rsa-sha256 and hs2019 (cavage) and
    rsa-v1_5-sha256 (RFC 9421) are RSASSA-PKCS1-v1_5/SHA-256 with an RSA key; ed25519 needs an Ed25519 key."""
    algorithm = sig.algorithm.lower()
    if sig.scheme == "rfc9421" and algorithm == "":
        algorithm = "ed25519" if isinstance(public_key, Ed25519PublicKey) else "rsa-v1_5-sha256"
    allowed = CAVAGE_ALGORITHMS if sig.scheme == "cavage" else RFC9421_ALGORITHMS
    if algorithm not in allowed:
        raise SignatureError(f"Unsupported signature algorithm {sig.algorithm!r}")
    wants_ed25519 = algorithm == "ed25519"
    if wants_ed25519 != isinstance(public_key, Ed25519PublicKey):
        raise SignatureError(f"Key type {type(public_key).__name__} does not match algorithm {algorithm}")
    candidates = [sig.signing_string]
    if sig.signing_string_without_query is not None:
        candidates.append(sig.signing_string_without_query)
    for candidate in candidates:
        try:
            if isinstance(public_key, Ed25519PublicKey):
                public_key.verify(sig.signature, candidate)
            else:
                public_key.verify(sig.signature, candidate, PKCS1v15(), SHA256())
        except InvalidSignature:
            continue
        except (ValueError, TypeError, UnsupportedAlgorithm) as e:
            raise SignatureError(f"signature does not verify ({e})") from None
        return
    raise SignatureError("signature does not verify")


def load_public_key(pem: str) -> PublicKey:
    """Load an RSA or Ed25519 public key from PEM ("BEGIN PUBLIC KEY" or "BEGIN RSA PUBLIC KEY")."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        raise SignatureError("Public key is not a valid PEM public key") from None
    if not isinstance(key, RSAPublicKey | Ed25519PublicKey):
        raise SignatureError(f"Unsupported public key type {type(key).__name__}")
    return key


# --- small helpers ------------------------------------------------------------------------------------


def _check_window(created: float, expires: float | None, now: float, max_skew: float) -> None:
    """Mastodon's rule: reject if created is more than max_skew ahead, or now is past
    min(expires or created + 5 min, created + 12 h) + max_skew."""
    expires = min(created + EXPIRES_DEFAULT if expires is None else expires, created + EXPIRES_LIMIT)
    if created > now + max_skew or now > expires + max_skew:
        raise SignatureError("Signed request date outside acceptable time window")


def _check_key_id(key_id: str) -> str:
    if key_id.strip().lower().startswith("acct:"):
        raise SignatureError(f"acct: keyIds are not supported ({key_id})")
    return key_id


def _authority(url: SplitResult) -> str:
    """host[:port] lowercased, without a trailing dot, IDNA-encoded, port only when not the default."""
    host = (url.hostname or "").removesuffix(".")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    port = url.port
    default = {"http": 80, "https": 443}.get(url.scheme.lower())
    return host if port is None or port == default else f"{host}:{port}"


def _path_and_query(url: SplitResult) -> str:
    return (url.path or "/") + (f"?{url.query}" if url.query else "")


def _encode(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise SignatureError("Signed header values must be Latin-1") from None


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("Error parsing signature parameters: signature is not valid base64") from None
