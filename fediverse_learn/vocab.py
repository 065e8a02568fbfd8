"""Reading compact ActivityStreams JSON-LD as servers send it: lists, ids, types, text, URLs, hosts, dates."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import idna

from fediverse_learn.errors import ValidationError

__all__ = [
    "AS_NS",
    "MAX_URL_LENGTH",
    "PUBLIC",
    "addressees",
    "as_list",
    "has_type",
    "host_of",
    "http_url",
    "id_of",
    "ids_of",
    "is_public",
    "parse_datetime",
    "same_origin",
    "text_of",
    "types_of",
    "url_of",
]

AS_NS = "https://www.w3.org/ns/activitystreams#"
PUBLIC = AS_NS + "Public"
MAX_URL_LENGTH = 2048

_PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})
_TYPE_PREFIXES = (AS_NS, "http://www.w3.org/ns/activitystreams#", "as:")
_ADDRESS_FIELDS = ("to", "cc", "bto", "bcc", "audience")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_CHARS = re.compile(r"[a-z0-9_.-]+")
# Characters that URL parsers disagree about (WHATWG treats "\" as "/"; whitespace and controls get stripped).
_AMBIGUOUS_URL_CHARS = re.compile(r"[\\\s\x00-\x1f\x7f]")
_MAX_DATETIME_LENGTH = 64


def as_list(v: Any) -> list[Any]:
    """A JSON-LD value as a list: None -> [], a list -> itself (copied), anything else -> [it]."""
    if v is None:
        return []
    if isinstance(v, list | tuple):
        return list(v)
    return [v]


def id_of(v: Any) -> str | None:
    """The id of a reference: the string itself, or an embedded object's "id"; None otherwise."""
    if isinstance(v, str):
        return v or None
    if isinstance(v, Mapping):
        ident = v.get("id")
        if isinstance(ident, str) and ident:
            return ident
    return None


def ids_of(v: Any) -> list[str]:
    """The ids of a value that may be a reference, an embedded object or a list of either, in order."""
    return [ident for item in as_list(v) if (ident := id_of(item)) is not None]


def _short_type(name: str) -> str:
    for prefix in _TYPE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def types_of(obj: Any) -> tuple[str, ...]:
    """The object's types without ActivityStreams prefixes ("as:Note" and the full IRI both give "Note")."""
    if not isinstance(obj, Mapping):
        return ()
    return tuple(_short_type(t) for t in as_list(obj.get("type")) if isinstance(t, str) and t)


def has_type(obj: Any, *names: str) -> bool:
    """True if any of the object's types is one of `names`."""
    return any(t in names for t in types_of(obj))


def is_public(addr: Any) -> bool:
    """True for the public collection in any of its spellings: the full IRI, "as:Public" or "Public"."""
    return isinstance(addr, str) and addr in _PUBLIC_FORMS


def addressees(obj: Any) -> set[str]:
    """Everyone the object is addressed to (to, cc, bto, bcc, audience), with Public spelled as PUBLIC."""
    if not isinstance(obj, Mapping):
        return set()
    found: set[str] = set()
    for field in _ADDRESS_FIELDS:
        for ident in ids_of(obj.get(field)):
            found.add(PUBLIC if is_public(ident) else ident)
    return found


def text_of(v: Any, language_map: Any = None, *, prefer: str = "en") -> str | None:
    """A natural-language value: a string, else the `prefer` entry of a language map, else its first string.

    Call it as `text_of(obj.get("content"), obj.get("contentMap"))`; a map may also be passed as `v`.
    """
    if isinstance(v, str):
        return v
    for candidate in (v, language_map):
        if isinstance(candidate, Mapping):
            chosen = candidate.get(prefer)
            if isinstance(chosen, str):
                return chosen
            for key, value in candidate.items():
                if isinstance(key, str) and key.lower().startswith(prefer + "-") and isinstance(value, str):
                    return value
            for value in candidate.values():
                if isinstance(value, str):
                    return value
    return None


def http_url(v: Any, *, max_length: int = MAX_URL_LENGTH) -> str | None:
    """`v` if it is an absolute http(s) URL with a valid host, no userinfo, within `max_length`; else None."""
    if not isinstance(v, str) or not v or len(v) > max_length:
        return None
    try:
        host_of(v)
    except ValidationError:
        return None
    return v


def url_of(obj: Any) -> str | None:
    """The http(s) URL in an object's `url`: a string, a Link, or a list of either, preferring text/html."""
    if not isinstance(obj, Mapping):
        return None
    fallback: str | None = None
    for item in as_list(obj.get("url")):
        href: Any = item
        media_type: Any = None
        if isinstance(item, Mapping):
            href, media_type = item.get("href"), item.get("mediaType")
        url = http_url(href)
        if url is None:
            continue
        if isinstance(media_type, str) and media_type.split(";")[0].strip().lower() == "text/html":
            return url
        if fallback is None:
            fallback = url
    return fallback


def _normalise_hostname(hostname: str) -> str:
    if ":" in hostname:  # an IPv6 literal; urlsplit has already removed the brackets
        return f"[{hostname}]"
    name = hostname[:-1] if hostname.endswith(".") else hostname
    if not name:
        raise ValidationError("empty host")
    if name.isascii():
        ascii_name = name.lower()
    else:
        # IDNA 2008 with the `idna` package, exactly as httpx encodes the host it connects to: Python's own
        # IDNA 2003 codec maps "ß" to "ss" where httpx reaches "xn--strae-oqa", which would let one domain
        # pass as another.
        try:
            ascii_name = idna.encode(name.lower()).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValidationError(f"host is not a valid domain name: {exc}") from None
    if not _HOST_CHARS.fullmatch(ascii_name) or "" in ascii_name.split("."):
        raise ValidationError("host has characters not allowed in a domain name")
    return ascii_name


def host_of(url: str) -> str:
    """An http(s) URL's host as we compare it: lowercase, IDNA, one trailing dot stripped, non-default port.

    Parsed with urllib, never string-munged (Mastodon CVE-2023-42451). URLs with userinfo, no host, another
    scheme, or characters that URL parsers disagree about raise ValidationError.
    """
    if not isinstance(url, str) or not url:
        raise ValidationError("URL missing")
    return _host_of(url)


@functools.lru_cache(maxsize=8192)
def _host_of(url: str) -> str:
    """host_of for a non-empty str; a pure function, cached (a raised ValidationError is not cached)."""
    if _AMBIGUOUS_URL_CHARS.search(url):
        raise ValidationError("URL has whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"unparseable URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValidationError(f"URL scheme {scheme or '(none)'} is not http or https")
    if "@" in parts.netloc:
        raise ValidationError("URL has userinfo")
    if not parts.hostname:
        raise ValidationError("URL has no host")
    host = _normalise_hostname(parts.hostname)
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{host}:{port}"
    return host


def same_origin(a: str, b: str) -> bool:
    """True if two http(s) URLs share scheme, host and port (normalised); False if either is invalid."""
    try:
        return host_of(a) == host_of(b) and urlsplit(a).scheme.lower() == urlsplit(b).scheme.lower()
    except ValidationError:
        return False


def parse_datetime(s: Any) -> datetime | None:
    """An xsd:dateTime as an aware UTC datetime ("Z", fractions, offsets; naive means UTC), else None."""
    if not isinstance(s, str) or not s or len(s) > _MAX_DATETIME_LENGTH:
        return None
    text = s.strip()
    if text.endswith("z"):
        text = text[:-1] + "Z"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
