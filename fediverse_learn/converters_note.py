"""AS2 Note, Article, Page and Question objects -> RemoteNote, enforcing SECURITY.md b.5's origin rules."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fediverse_learn.errors import ValidationError
from fediverse_learn.vocab import (
    PUBLIC,
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

__all__ = [
    "MAX_CONTENT",
    "MAX_MENTIONS",
    "MAX_RECIPIENTS",
    "MAX_TAGS",
    "NOTE_TYPES",
    "RemoteNote",
    "note_from_ap",
]

NOTE_TYPES = ("Note", "Article", "Page", "Question")
MAX_CONTENT = 100_000
MAX_TAGS = 100
MAX_MENTIONS = 100
MAX_RECIPIENTS = 1_000
_MAX_SUMMARY = 5_000
_MAX_TITLE = 500
_MAX_TAG_NAME = 100
_MAX_TAG_ITEMS = 1_000  # tag entries looked at, whatever their type
_MAX_CONTEXT = 2_048
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}")


@dataclass(frozen=True)
class RemoteNote:
    """A remote post as we keep it: attributed to the actor that sent it, on its origin, sanitised."""

    uri: str
    type: str
    attributed_to: str
    content_html: str
    summary: str | None
    sensitive: bool
    published: datetime | None
    updated: datetime | None
    url: str | None
    in_reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    audience: str | None
    context: str | None
    name: str | None
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    language: str | None
    replies: str | None


def _sanitize(markup: str) -> str:
    from fediverse_learn.sanitize import sanitize_html  # noqa: PLC0415 -- owned elsewhere; keeps imports light

    return sanitize_html(markup)


def _first_url(value: Any) -> str | None:
    for item in as_list(value)[:10]:
        if (url := http_url(id_of(item))) is not None:
            return url
    return None


def _note_type(obj: Mapping[str, Any]) -> str:
    for name in types_of(obj):
        if name in NOTE_TYPES:
            return name
    raise ValidationError(f"not a note: type {list(types_of(obj))[:5]}")


def _note_uri(obj: Mapping[str, Any], actor_uri: str) -> str:
    ident = obj.get("id")
    uri = http_url(ident)
    if uri is None:
        raise ValidationError("object has no http(s) id")
    if not same_origin(uri, actor_uri):
        raise ValidationError(f"object {uri} is not on the origin of its actor, {host_of(actor_uri)}")
    return uri


def _content_html(obj: Mapping[str, Any]) -> str:
    """Sanitised HTML of `content`/`contentMap`; Misskey's `_misskey_content` and `source` are never used."""
    raw = text_of(obj.get("content"), obj.get("contentMap"))
    if not raw:
        return ""
    raw = raw[:MAX_CONTENT]
    media_type = obj.get("mediaType")
    if isinstance(media_type, str) and media_type.split(";")[0].strip().lower() == "text/plain":
        paragraphs = (html.escape(p).replace("\n", "<br>") for p in raw.split("\n\n") if p.strip())
        return "".join(f"<p>{p}</p>" for p in paragraphs)
    return _sanitize(raw)


def _plain(value: Any, language_map: Any, limit: int) -> str | None:
    text = text_of(value, language_map)
    if text is None or not text.strip():
        return None
    return text.strip()[:limit]


def _recipients(value: Any) -> tuple[str, ...]:
    """Addresses in order with Public spelled PUBLIC, non-URLs dropped, capped (Public is always kept)."""
    found: list[str] = []
    seen: set[str] = set()
    public = False
    for ident in ids_of(as_list(value)[: MAX_RECIPIENTS * 10]):
        if is_public(ident):
            public = True
        elif ident not in seen and http_url(ident) is not None:
            seen.add(ident)
            found.append(ident)
    if public:
        return (PUBLIC, *found[: MAX_RECIPIENTS - 1])
    return tuple(found[:MAX_RECIPIENTS])


def _tags(obj: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(hashtag names without "#", mention hrefs), each deduplicated and capped."""
    hashtags: list[str] = []
    folded: set[str] = set()
    mentions: list[str] = []
    for tag in as_list(obj.get("tag"))[:_MAX_TAG_ITEMS]:
        if not isinstance(tag, Mapping):
            continue
        if has_type(tag, "Hashtag") and len(hashtags) < MAX_TAGS:
            name = tag.get("name")
            if isinstance(name, str):
                name = name.strip().lstrip("#")
                usable = name and len(name) <= _MAX_TAG_NAME and not any(c.isspace() for c in name)
                if usable and name.casefold() not in folded:
                    folded.add(name.casefold())
                    hashtags.append(name)
        elif has_type(tag, "Mention") and len(mentions) < MAX_MENTIONS:
            href = http_url(tag.get("href"))
            if href is not None and href not in mentions:
                mentions.append(href)
    return tuple(hashtags), tuple(mentions)


def _language(obj: Mapping[str, Any]) -> str | None:
    """The content's language: the contentMap key of the content shown, else its first key, else Lemmy's
    `language.identifier`; "und" (undetermined) and malformed tags give None."""
    candidates: list[Any] = []
    content_map = obj.get("contentMap")
    if isinstance(content_map, Mapping):
        content = obj.get("content")
        candidates.extend(k for k, v in content_map.items() if v == content)
        candidates.extend(content_map.keys())
    language = obj.get("language")
    if isinstance(language, Mapping):
        candidates.append(language.get("identifier"))
    for tag in candidates:
        if isinstance(tag, str) and _LANGUAGE.fullmatch(tag) and tag.lower() != "und":
            return tag
    return None


def _context(value: Any) -> str | None:
    ident = id_of(value)
    if ident is None or len(ident) > _MAX_CONTEXT:
        return None
    return ident


def note_from_ap(obj: Mapping[str, Any], actor_uri: str) -> RemoteNote:
    """Convert a Note, Article, Page or Question that `actor_uri` created or updated; else ValidationError.

    The object's id must be on the actor's origin and `attributedTo` (a string, object or list, e.g. Person
    and Group) must name the actor. A `url` on another origin is dropped; text is capped and sanitised.
    """
    if not isinstance(obj, Mapping):
        raise ValidationError("object is not a JSON object")
    note_type = _note_type(obj)
    uri = _note_uri(obj, actor_uri)
    if actor_uri not in ids_of(as_list(obj.get("attributedTo"))[:_MAX_TAG_ITEMS]):
        raise ValidationError(f"object {uri} is not attributed to its actor {actor_uri}")
    url = url_of(obj)
    replies = http_url(id_of(obj.get("replies")))
    hashtags, mentions = _tags(obj)
    return RemoteNote(
        uri=uri,
        type=note_type,
        attributed_to=actor_uri,
        content_html=_content_html(obj),
        summary=_plain(obj.get("summary"), obj.get("summaryMap"), _MAX_SUMMARY),
        sensitive=obj.get("sensitive") is True,
        published=parse_datetime(obj.get("published")),
        updated=parse_datetime(obj.get("updated")),
        url=url if url is not None and same_origin(url, uri) else None,
        in_reply_to=_first_url(obj.get("inReplyTo")),
        to=_recipients(obj.get("to")),
        cc=_recipients(obj.get("cc")),
        audience=_first_url(obj.get("audience")),
        context=_context(obj.get("context")),
        name=_plain(obj.get("name"), obj.get("nameMap"), _MAX_TITLE),
        hashtags=hashtags,
        mentions=mentions,
        language=_language(obj),
        replies=replies if replies is not None and same_origin(replies, uri) else None,
    )
