"""Authored text (Markdown, HTML, plain) rendered as Mastodon-shaped HTML with mention, hashtag and URL links."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from fediverse_learn.sanitize import MAX_DEPTH, sanitize_html

__all__ = [
    "MentionRef",
    "Rendered",
    "ResolvedMention",
    "Syntax",
    "find_hashtags",
    "find_mentions",
    "render_html",
    "render_markdown",
    "render_plain",
]

Syntax = Literal["markdown", "html", "plain"]


@dataclass(frozen=True)
class MentionRef:
    """A mention as written: `raw` is "@ada" or "@ada@school.example"; `domain` is lowercased."""

    username: str
    domain: str | None
    raw: str


@dataclass(frozen=True)
class ResolvedMention:
    """A mention the caller resolved (WebFinger) before rendering."""

    raw: str
    actor_uri: str
    profile_url: str
    username: str
    domain: str


@dataclass(frozen=True)
class Rendered:
    """Sanitised HTML plus the hashtags and mentions actually linked in it, in order of appearance."""

    html: str
    hashtags: tuple[str, ...]
    mentions: tuple[ResolvedMention, ...]


def find_mentions(text: str, *, syntax: Syntax = "markdown") -> list[MentionRef]:
    """Mentions outside links and code, each once (case-insensitively), in order of appearance; `syntax`
    is how `text` will be rendered, so these are exactly the mentions render_* can link."""
    linker = _Linker({}, lambda tag: "")
    _link_source(text, syntax, linker)
    return list(linker.candidates.values())


def find_hashtags(text: str, *, syntax: Syntax = "markdown") -> list[str]:
    """Hashtag names outside links, URLs and code, each once (case-insensitively, first spelling)."""
    linker = _Linker({}, lambda tag: "")
    _link_source(text, syntax, linker)
    return list(linker.hashtags.values())


def render_markdown(source: str, mentions: Mapping[str, ResolvedMention], tag_url: Callable[[str], str]) -> Rendered:
    """CommonMark (+ strikethrough, newline = <br>, raw HTML escaped), then links, then sanitize_html."""
    return _render(source, "markdown", mentions, tag_url)


def render_html(content: str, mentions: Mapping[str, ResolvedMention], tag_url: Callable[[str], str]) -> Rendered:
    """Authored HTML: sanitised, linked in its text, sanitised again."""
    return _render(content, "html", mentions, tag_url)


def render_plain(text: str, mentions: Mapping[str, ResolvedMention], tag_url: Callable[[str], str]) -> Rendered:
    """Plain text as Mastodon's API takes it: blank lines split <p>aragraphs, single newlines are <br>."""
    return _render(text, "plain", mentions, tag_url)


def _render(
    text: str, syntax: Syntax, mentions: Mapping[str, ResolvedMention], tag_url: Callable[[str], str]
) -> Rendered:
    linker = _Linker(mentions, tag_url)
    # Our own markup, nesting bounded by _Walker: the sanitiser's caps for hostile input would only cut
    # long notes short (a note's markup is longer than its source).
    markup = sanitize_html(_link_source(text, syntax, linker), max_chars=None, max_tags=None)
    return Rendered(markup, tuple(linker.hashtags.values()), tuple(linker.mentioned.values()))


def _link_source(text: str, syntax: Syntax, linker: _Linker) -> str:
    if syntax == "plain":
        return _plain_markup(text, linker)
    walker = _Walker(linker)
    walker.feed(_markdown().render(text) if syntax == "markdown" else sanitize_html(text))
    walker.close()
    return walker.markup()


_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t]*\n)+")


def _plain_markup(text: str, linker: _Linker) -> str:
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = (part.strip("\n") for part in _PARAGRAPH_BREAK.split(normalised))
    return "".join(
        "<p>" + "<br>".join(linker.link(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
        if paragraph
    )


@cache
def _markdown() -> MarkdownIt:
    # linkify needs linkify-it-py, which we do not install; _Linker links bare URLs in every syntax alike.
    parser = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")
    parser.add_render_rule("image", _render_image)
    return parser


def _render_image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    """Images are not in the allow-list: keep them as a link to the image, labelled with the alt text."""
    source = str(tokens[idx].attrGet("src") or "")
    label = self.renderInlineAsText(tokens[idx].children, options, env) or source
    return f'<a href="{html_lib.escape(source)}">{html_lib.escape(label, quote=False)}</a>'


# --- links in text -------------------------------------------------------------------------------

_URL = re.compile(r"(?<![\w/@.-])https?://[^\s<>\"'`\x00-\x1f\x7f]++", re.IGNORECASE)
_URL_PREFIX = re.compile(r"https?://(?:www\.)?", re.IGNORECASE)
_URL_TRAILING = frozenset(".,:;!?'\"")
_URL_DISPLAY_CHARS = 30
_MENTION = re.compile(r"(?<![=/\w@])@(?P<username>[A-Za-z0-9_.-]++)(?:@(?P<domain>[A-Za-z0-9.-]++(?::[0-9]++)?))?")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,30}(?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TAG_SEPARATORS = frozenset("\u00b7\u30fb\u200c")
_TAG_BLOCKERS = frozenset("=/)&")


class _Entity(NamedTuple):
    start: int
    end: int
    kind: Literal["url", "mention", "hashtag"]
    value: str
    mention: MentionRef | None = None


class _Linker:
    """Turns text runs into escaped HTML with links, recording what it found and what it linked."""

    def __init__(self, mentions: Mapping[str, ResolvedMention], tag_url: Callable[[str], str]) -> None:
        self._mentions = mentions
        self._tag_url = tag_url
        self._display = _display_names(mentions)
        self.candidates: dict[str, MentionRef] = {}
        self.hashtags: dict[str, str] = {}
        self.mentioned: dict[str, ResolvedMention] = {}

    def link(self, text: str) -> str:
        parts: list[str] = []
        cursor = 0
        for entity in _entities(text):
            parts.append(html_lib.escape(text[cursor : entity.start], quote=False))
            parts.append(self._markup(entity))
            cursor = entity.end
        parts.append(html_lib.escape(text[cursor:], quote=False))
        return "".join(parts)

    def _markup(self, entity: _Entity) -> str:
        if entity.kind == "url":
            return _url_markup(entity.value)
        if entity.kind == "hashtag":
            self.hashtags.setdefault(entity.value.casefold(), entity.value)
            href = html_lib.escape(self._tag_url(entity.value))
            return f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{_escape(entity.value)}</span></a>'
        if entity.mention is not None:
            self.candidates.setdefault(entity.value.lower(), entity.mention)
        resolved = self._mentions.get(entity.value.lower())
        if resolved is None:
            return _escape(entity.value)
        self.mentioned.setdefault(resolved.actor_uri, resolved)
        return (
            f'<span class="h-card" translate="no"><a href="{html_lib.escape(resolved.profile_url)}"'
            f' class="u-url mention">@<span>{_escape(self._display[resolved.actor_uri])}</span></a></span>'
        )


def _display_names(mentions: Mapping[str, ResolvedMention]) -> dict[str, str]:
    """Mastodon shows "@user" unless two different accounts mentioned share that user name."""
    actors: dict[str, set[str]] = {}
    for mention in mentions.values():
        actors.setdefault(mention.username.lower(), set()).add(mention.actor_uri)
    return {
        mention.actor_uri: (
            f"{mention.username}@{mention.domain}" if len(actors[mention.username.lower()]) > 1 else mention.username
        )
        for mention in mentions.values()
    }


def _escape(text: str) -> str:
    return html_lib.escape(text, quote=False)


def _url_markup(url: str) -> str:
    """Mastodon's TextFormatter.shortened_link: scheme hidden, 30 characters shown, the rest elided."""
    prefix_match = _URL_PREFIX.match(url)
    prefix = prefix_match.group() if prefix_match else ""
    shown, hidden = url[len(prefix) : len(prefix) + _URL_DISPLAY_CHARS], url[len(prefix) + _URL_DISPLAY_CHARS :]
    return (
        f'<a href="{html_lib.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{_escape(prefix)}</span>'
        f'<span class="{"ellipsis" if hidden else ""}">{_escape(shown)}</span>'
        f'<span class="invisible">{_escape(hidden)}</span></a>'
    )


def _entities(text: str) -> list[_Entity]:
    """URLs first; mentions and hashtags only in the text between them."""
    found: list[_Entity] = []
    cursor = 0
    for url in _scan_urls(text):
        found.extend(_scan_words(text, cursor, url.start))
        found.append(url)
        cursor = url.end
    found.extend(_scan_words(text, cursor, len(text)))
    return found


def _scan_urls(text: str) -> Iterator[_Entity]:
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        try:
            host = urlsplit(url).hostname
        except ValueError:
            continue
        if host:
            yield _Entity(match.start(), match.start() + len(url), "url", url)


def _trim_url(url: str) -> str:
    """Drop trailing punctuation, and closing brackets that have no opening partner in the URL."""
    opened = {")": url.count("("), "]": url.count("[")}
    closed = {")": url.count(")"), "]": url.count("]")}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _URL_TRAILING or (last in closed and closed[last] > opened[last]):
            closed[last] = closed.get(last, 0) - 1
            end -= 1
        else:
            break
    return url[:end]


def _scan_words(text: str, start: int, end: int) -> list[_Entity]:
    segment = text[start:end]
    found = [*_scan_mentions(segment), *_scan_hashtags(segment)]
    shifted = (entity._replace(start=entity.start + start, end=entity.end + start) for entity in found)
    return sorted(shifted, key=lambda entity: entity.start)


def _scan_mentions(text: str) -> Iterator[_Entity]:
    for match in _MENTION.finditer(text):
        mention = _mention(match)
        end = match.start() + len(mention.raw) if mention else 0
        if mention and (end == len(text) or not (text[end] == "@" or _is_word(text[end]))):
            yield _Entity(match.start(), end, "mention", mention.raw, mention)


def _mention(match: re.Match[str]) -> MentionRef | None:
    written = match.group("username")
    username = written.rstrip(".-")
    domain = match.group("domain") if username == written else None
    if domain is not None and ":" not in domain:
        domain = domain.rstrip(".-")
    if not _USERNAME.fullmatch(username) or (domain is not None and not _valid_domain(domain)):
        return None
    raw = f"@{username}" if domain is None else f"@{username}@{domain}"
    return MentionRef(username, None if domain is None else domain.lower(), raw)


def _valid_domain(domain: str) -> bool:
    """A DNS name (IPv4 literals pass too, for local trials) with an optional :port."""
    host, _, port = domain.partition(":")
    if port and not (len(port) <= 5 and 0 < int(port) < 65536):
        return False
    return len(host) <= 253 and all(_LABEL.fullmatch(label) for label in host.split("."))


def _scan_hashtags(text: str) -> Iterator[_Entity]:
    """Mastodon's HASHTAG_RE, by hand because `re` lacks \\p{M}: word characters and ·・ZWNJ inside,
    at least one letter, not preceded by a word character or one of = / ) &."""
    start = text.find("#")
    while start != -1:
        end = start + 1
        if start == 0 or not (_is_word(text[start - 1]) or text[start - 1] in _TAG_BLOCKERS):
            while end < len(text) and (_is_word(text[end]) or text[end] in _TAG_SEPARATORS):
                end += 1
            while end > start + 1 and text[end - 1] in _TAG_SEPARATORS:
                end -= 1
            name = text[start + 1 : end]
            if name and _is_word(name[0]) and any(unicodedata.category(char)[0] == "L" for char in name):
                yield _Entity(start, end, "hashtag", name)
        start = text.find("#", end)


def _is_word(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Pc"


# --- walking rendered HTML -------------------------------------------------------------------------

_NOT_LINKED = frozenset({"a", "code", "pre"})
_BLOCKS = frozenset(
    {"p", "br", "blockquote", "ul", "ol", "li", "pre", "hr", "div", "h1", "h2", "h3", "h4"} | {"h5", "h6"}
)
_VOID = frozenset({"br", "hr", "img", "wbr"})
_WALKER_DEPTH = MAX_DEPTH - 4  # room for the <span><a><span> of a link without the sanitiser unwrapping it
# A newline and the blanks around it; the lookbehind makes each run of blanks be scanned once.
_NEWLINE = re.compile(r"(?<![\t\f ])[\t\f ]*+[\n\r][\t\n\f\r ]*+")


class _Walker(HTMLParser):
    """Re-serialises HTML from markdown-it or sanitize_html (never raw input), linking text outside
    <a>, <code> and <pre>; newlines outside <pre> become spaces, and vanish next to block tags
    (Mastodon's clients show status text with white-space: pre-wrap). Elements nested deeper than
    _WALKER_DEPTH are unwrapped (markdown-it nests emphasis without limit)."""

    def __init__(self, linker: _Linker) -> None:
        super().__init__(convert_charrefs=True)
        self._linker = linker
        self._parts: list[str] = []
        self._pending: list[str] = []
        self._open: list[bool] = []  # per open element: were its tags written
        self._not_linked = 0
        self._pre = 0
        self._after_block = True

    def markup(self) -> str:
        self._flush(before_block=True)
        return "".join(self._parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush(before_block=tag in _BLOCKS)
        self._after_block = tag in _BLOCKS
        written = tag in _VOID or len(self._open) < _WALKER_DEPTH
        if written:
            rendered = "".join(f' {key}="{html_lib.escape(value or "")}"' for key, value in attrs)
            self._parts.append(f"<{tag}{rendered}>")
        if tag in _VOID:
            return
        self._open.append(written)
        self._not_linked += tag in _NOT_LINKED
        self._pre += tag == "pre"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br />, <hr />: void, nothing to close

    def handle_endtag(self, tag: str) -> None:
        self._flush(before_block=tag in _BLOCKS)
        self._after_block = tag in _BLOCKS
        if tag in _VOID or not self._open:
            return
        if self._open.pop():
            self._parts.append(f"</{tag}>")
        self._not_linked -= tag in _NOT_LINKED and self._not_linked > 0
        self._pre -= tag == "pre" and self._pre > 0

    def handle_data(self, data: str) -> None:
        self._pending.append(data)

    def _flush(self, *, before_block: bool) -> None:
        text, self._pending = "".join(self._pending), []
        if not self._pre:
            text = text.lstrip("\t\n\f\r ") if self._after_block else text
            text = text.rstrip("\t\n\f\r ") if before_block else text
            text = _NEWLINE.sub(" ", text)
        if text:
            self._parts.append(_escape(text) if self._not_linked else self._linker.link(text))
            self._after_block = False
