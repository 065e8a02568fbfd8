"""Header formats that signatures check: body digests (Digest, Content-Digest), HTTP-date, RFC 8941 fields."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TypeAlias

from fediverse_learn.errors import SignatureError

__all__ = [
    "BareItem",
    "InnerList",
    "Item",
    "StructuredFieldError",
    "Token",
    "check_content_digest",
    "check_digest",
    "content_digest_header",
    "digest_header",
    "format_http_date",
    "parse_dictionary",
    "parse_http_date",
    "serialize_inner_list",
]


class StructuredFieldError(ValueError):
    """A header value that is not valid RFC 8941 syntax."""


class Token(str):
    """An RFC 8941 token (a bare word), as distinct from a quoted string."""

    __slots__ = ()


BareItem: TypeAlias = bool | int | float | str | bytes  # a Token is a str


@dataclass(frozen=True)
class Item:
    value: BareItem
    params: Mapping[str, BareItem]


@dataclass(frozen=True)
class InnerList:
    items: tuple[Item, ...]
    params: Mapping[str, BareItem]


def digest_header(body: bytes) -> str:
    """The RFC 3230 `Digest` value of `body`: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value of `body`: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_digest(value: str, body: bytes) -> None:
    """Raise SignatureError unless the `Digest` header offers SHA-256 and every SHA-256 entry matches."""
    pairs = (part.partition("=") for part in value.split(","))
    entries = [(alg.strip().lower(), given.strip()) for alg, _, given in pairs]
    offered = [given for alg, given in entries if alg == "sha-256"]
    if not offered:
        algorithms = ", ".join(alg for alg, _ in entries)
        raise SignatureError(
            f"fediverse-learn only supports SHA-256 in Digest header. Offered algorithms: {algorithms}"
        )
    computed = hashlib.sha256(body).digest()
    for given in offered:
        try:
            raw = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError(
                "Invalid Digest value. The provided Digest value is not a valid base64 string. "
                f"Given digest: {given}"
            ) from None
        if len(raw) != 32:
            raise SignatureError(
                "Invalid Digest value. The provided Digest value is not a SHA-256 digest. "
                f"Given digest: {given}"
            )
        if not hmac.compare_digest(raw, computed):
            raise SignatureError(
                f"Invalid Digest value. Computed SHA-256 digest: {_b64(computed)}; given: {given}"
            )


_CONTENT_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda b: hashlib.sha256(b).digest(),
    "sha-512": lambda b: hashlib.sha512(b).digest(),
}


def check_content_digest(value: str, body: bytes) -> None:
    """Raise SignatureError unless `Content-Digest` offers sha-256 or sha-512 and each one offered matches."""
    try:
        members = parse_dictionary(value)
    except StructuredFieldError:
        raise SignatureError(
            "Content-Digest could not be parsed. It does not contain a valid RFC8941 dictionary."
        ) from None
    offered = [alg for alg in members if alg in _CONTENT_DIGESTS]
    if not offered:
        raise SignatureError(
            "fediverse-learn only supports SHA-256 and SHA-512 in Content-Digest header. "
            f"Offered algorithms: {', '.join(members)}"
        )
    for alg in offered:
        member = members[alg]
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"Content-Digest value for {alg} is not a byte sequence")
        computed = _CONTENT_DIGESTS[alg](body)
        if not hmac.compare_digest(member.value, computed):
            raise SignatureError(
                f"Invalid Content-Digest value. Computed {alg.upper()} digest: {_b64(computed)}; "
                f"given: {_b64(member.value)}"
            )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --- HTTP-date (RFC 7231 §7.1.1.1) -------------------------------------------------------------------


def format_http_date(now: datetime) -> str:
    """RFC 7231 IMF-fixdate, e.g. "Sun, 05 Jan 2014 21:31:40 GMT" (`now` must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return format_datetime(now.astimezone(UTC).replace(microsecond=0), usegmt=True)


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec"), start=1)}
_DAY, _TIME = r"(?:mon|tue|wed|thu|fri|sat|sun)", r"(?P<t>\d\d:\d\d:\d\d)"
_DATE_FORMATS = (  # RFC 7231 §7.1.1.1: IMF-fixdate, obsolete RFC 850 and asctime forms
    re.compile(_DAY + r", (?P<d>\d\d) (?P<m>[a-z]{3}) (?P<y>\d{4}) " + _TIME + " gmt"),
    re.compile(r"(?:mon|tues|wednes|thurs|fri|satur|sun)day, (?P<d>\d\d)-(?P<m>[a-z]{3})-(?P<y>\d\d) " + _TIME
               + " gmt"),
    re.compile(_DAY + r" (?P<m>[a-z]{3}) (?P<d>[ \d]\d) " + _TIME + r" (?P<y>\d{4})"),
)


def parse_http_date(value: str) -> float:
    """Seconds since the epoch of an HTTP-date; ValueError if it is not one."""
    for pattern in _DATE_FORMATS:
        m = pattern.fullmatch(value.strip().lower())
        if m is None or m["m"] not in _MONTHS:
            continue
        year = int(m["y"])
        if len(m["y"]) == 2:
            year += 2000 if year < 50 else 1900
        hour, minute, second = (int(x) for x in m["t"].split(":"))
        try:
            parsed = datetime(year, _MONTHS[m["m"]], int(m["d"]), hour, minute, second, tzinfo=UTC)
        except ValueError:
            break
        return parsed.timestamp()
    raise ValueError(f"not RFC 2616 compliant date: {json.dumps(value)}")


# --- RFC 8941 structured fields: dictionaries, inner lists, parameters --------------------------------

_KEY_FIRST = frozenset(string.ascii_lowercase + "*")
_KEY_REST = frozenset(string.ascii_lowercase + string.digits + "_-.*")
_TCHAR = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:/")
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/=")
_NUMBER = re.compile(r"-?(\d+)(\.(\d*))?")


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """Parse an RFC 8941 dictionary. Stricter than the RFC: a repeated key or parameter is an error."""
    return _Parser(text).dictionary()


class _Parser:
    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise StructuredFieldError("non-ASCII character")
        self.s = text.strip(" \t")
        self.i = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at position {self.i}")

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.i += 1

    def dictionary(self) -> dict[str, Item | InnerList]:
        out: dict[str, Item | InnerList] = {}
        while self.i < len(self.s):
            key = self.key()
            if key in out:
                raise self.fail(f"duplicate key {key!r}")
            if self.peek() == "=":
                self.i += 1
                out[key] = self.inner_list() if self.peek() == "(" else Item(self.bare(), self.params())
            else:
                out[key] = Item(True, self.params())
            self.skip(" \t")
            if self.i >= len(self.s):
                break
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.i += 1
            self.skip(" \t")
            if self.i >= len(self.s):
                raise self.fail("trailing ','")
        return out

    def inner_list(self) -> InnerList:
        self.i += 1  # "("
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.i += 1
                return InnerList(tuple(items), self.params())
            items.append(Item(self.bare(), self.params()))
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')' in inner list")

    def params(self) -> dict[str, BareItem]:
        out: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.i += 1
            self.skip(" ")
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.i += 1
                value = self.bare()
            if key in out:
                raise self.fail(f"duplicate parameter {key!r}")
            out[key] = value
        return out

    def key(self) -> str:
        start = self.i
        if self.peek() not in _KEY_FIRST or not self.peek():
            raise self.fail("expected a key")
        while self.peek() and self.peek() in _KEY_REST:
            self.i += 1
        return self.s[start : self.i]

    def bare(self) -> BareItem:
        c = self.peek()
        if c == "-" or c.isdigit():
            return self.number()
        if c == '"':
            return self.string()
        if c == ":":
            return self.byte_sequence()
        if c == "?":
            flag = self.s[self.i + 1 : self.i + 2]
            if flag not in ("0", "1"):
                raise self.fail("bad boolean")
            self.i += 2
            return flag == "1"
        if c.isalpha() or c == "*":
            start = self.i
            while self.peek() and self.peek() in _TCHAR:
                self.i += 1
            return Token(self.s[start : self.i])
        raise self.fail("expected an item")

    def number(self) -> int | float:
        m = _NUMBER.match(self.s, self.i)
        if m is None:
            raise self.fail("bad number")
        self.i = m.end()
        if m.group(2) is None:
            if len(m.group(1)) > 15:
                raise self.fail("integer too long")
            return int(m.group(0))
        if len(m.group(1)) > 12 or not 1 <= len(m.group(3)) <= 3:
            raise self.fail("bad decimal")
        return float(m.group(0))

    def string(self) -> str:
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s):
            c = self.s[self.i]
            self.i += 1
            if c == "\\":
                nxt = self.peek()
                if nxt not in ('"', "\\") or not nxt:
                    raise self.fail("bad escape")
                out.append(nxt)
                self.i += 1
            elif c == '"':
                return "".join(out)
            elif not " " <= c <= "~":
                raise self.fail("bad character in string")
            else:
                out.append(c)
        raise self.fail("unterminated string")

    def byte_sequence(self) -> bytes:
        end = self.s.find(":", self.i + 1)
        chunk = self.s[self.i + 1 : end]
        if end < 0 or not set(chunk) <= _BASE64:
            raise self.fail("bad byte sequence")
        try:
            value = base64.b64decode(chunk, validate=True)
        except (binascii.Error, ValueError):
            raise self.fail("bad base64 in byte sequence") from None
        self.i = end + 1
        return value


def serialize_inner_list(value: InnerList) -> str:
    """Serialize an inner list with its parameters (RFC 8941 §4.1.1.1), as `@signature-params` needs."""
    items = " ".join(_serialize_bare(item.value) + _serialize_params(item.params) for item in value.items)
    return f"({items}){_serialize_params(value.params)}"


def _serialize_params(params: Mapping[str, BareItem]) -> str:
    return "".join(f";{k}" if v is True else f";{k}={_serialize_bare(v)}" for k, v in params.items())


def _serialize_bare(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return ":" + _b64(value) + ":"
