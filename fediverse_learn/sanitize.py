"""Allow-list sanitising of HTML to Mastodon's MASTODON_STRICT (SECURITY.md §b.7), and HTML to plain text."""

from __future__ import annotations

import html as html_lib
import logging
import re
from functools import cache
from html.parser import HTMLParser
from typing import NamedTuple

import nh3

__all__ = ["LINK_SCHEMES", "MAX_DEPTH", "MAX_INPUT_CHARS", "MAX_TAGS", "html_to_text", "sanitize_html"]

logger = logging.getLogger(__name__)

MAX_INPUT_CHARS = 100_000
"""Input beyond this many characters is cut off before parsing."""
MAX_TAGS = 10_000
"""Input is cut off before its 10,001st start tag: html5ever's scope checks are O(depth) per tag."""
MAX_DEPTH = 100
"""Elements nested deeper than this are unwrapped (their text is kept)."""
LINK_SCHEMES = frozenset({"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"})

_ELEMENTS = frozenset(
    {"p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em"}
    | {"ul", "ol", "li", "ruby", "rt", "rp"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_MATH_ELEMENTS = frozenset({"math", "semantics", "annotation"})
_ATTRIBUTES: dict[str, frozenset[str]] = {
    "*": frozenset({"lang"}),
    "a": frozenset({"href", "rel", "class", "translate"}),
    "span": frozenset({"class", "translate"}),
    "ol": frozenset({"start", "reversed"}),
    "li": frozenset({"value"}),
    "p": frozenset({"class"}),
}
_MATH_ATTRIBUTES: dict[str, frozenset[str]] = {"math": frozenset({"display"}), "annotation": frozenset({"encoding"})}
_REMOVED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "embed", "object", "applet", "frame", "frameset"}
    | {"noembed", "noframes", "noscript", "template"}
)
_CLASS_PREFIXES = ("h-", "p-", "u-", "dt-", "e-")
_CLASS_NAMES = frozenset({"mention", "hashtag", "ellipsis", "invisible", "quote-inline"})
_LINK_REL = "nofollow noopener"
_KEPT_REL_TOKENS = ("tag",)

_HTML_SPACE = re.compile(r"[\t\n\f\r ]+")
_START_TAG = re.compile(r"<[A-Za-z]")
# HTML5 "formatting elements" other than <a> (which the parser keeps to one at a time) are reopened
# ("reconstructed") after every block they were left open across, so a few thousand distinct unclosed
# ones turned 60 kB into 73 MB and 16 s of html5ever work, and even the 39 identical ones its
# Noah's Ark clause permits cost seconds. We parse them as ordinary elements under a private name
# (same tree for well-formed input) and give them their names back in _rewrite.
_FORMATTING_NAMES = r"(b|big|code|em|font|i|nobr|s|small|strike|strong|tt|u)(?=[\t\n\f\r />])"
_FORMATTING_TAG = re.compile(rf"<(/?){_FORMATTING_NAMES}", re.IGNORECASE)
_RENAMED_PREFIX = "fl-"
_RENAMED_IN_TEXT = re.compile(rf"<(/?){_RENAMED_PREFIX}{_FORMATTING_NAMES}", re.IGNORECASE)
_RENAMED = {f"{_RENAMED_PREFIX}{tag}": tag for tag in ("b", "code", "em", "i", "s", "strong", "u")}
_ROUGH_TAG = re.compile(r"<[^<>]*>")


def sanitize_html(html: str, *, max_chars: int | None = MAX_INPUT_CHARS, max_tags: int | None = MAX_TAGS) -> str:
    """Clean `html` to the strict allow-list; never raises (on an internal error: escaped plain text).

    Keep the default caps for anything remote or hand-written; fediverse_learn.text lifts them (None)
    for markup it generated itself, whose nesting it has already bounded."""
    source = html[:max_chars]
    try:
        lenient, strict = _cleaners()
        return strict.clean(_rewrite(lenient.clean(_bound(source, max_tags))))
    except Exception:  # the documented exception: a sanitiser bug must cost the markup, not the worker
        logger.warning("HTML sanitiser failed; keeping escaped text only", exc_info=True)
        return html_lib.escape(_ROUGH_TAG.sub("", source))


def html_to_text(html: str) -> str:
    """Plain text of `html` for summaries and search: blocks end in a blank line, <br> in a newline."""
    collector = _TextCollector()
    collector.feed(sanitize_html(html))
    collector.close()
    return collector.text()


def _bound(source: str, max_tags: int | None) -> str:
    """Apply the structural caps that keep html5ever linear-ish; no markup is interpreted here."""
    source = _FORMATTING_TAG.sub(rf"<\1{_RENAMED_PREFIX}\2", source)
    if max_tags is not None:
        for count, match in enumerate(_START_TAG.finditer(source)):
            if count == max_tags:
                return source[: match.start()]
    return source


@cache
def _cleaners() -> tuple[nh3.Cleaner, nh3.Cleaner]:
    """The first pass keeps headings and MathML for _rewrite; the second is MASTODON_STRICT itself."""
    lenient = _cleaner(
        _ELEMENTS | frozenset(_RENAMED) | _HEADINGS | _MATH_ELEMENTS, _ATTRIBUTES | _MATH_ATTRIBUTES, None
    )
    strict = _cleaner(_ELEMENTS, _ATTRIBUTES, {"a": {"target": "_blank"}})
    return lenient, strict


def _cleaner(
    tags: frozenset[str], attributes: dict[str, frozenset[str]], set_values: dict[str, dict[str, str]] | None
) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags=set(_REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in attributes.items()},
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel=None,
        set_tag_attribute_values=set_values,
        url_schemes=set(LINK_SCHEMES),
        url_relative="deny",
    )


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    """nh3 callback: keep only allowed classes, translate="no" and a normalised rel. Must not raise."""
    if attribute == "class":
        return " ".join(name for name in _HTML_SPACE.split(value) if _allowed_class(name))
    if attribute == "translate":
        return value if value == "no" else None
    if attribute == "rel":
        return _link_rel(value)
    return value


def _allowed_class(name: str) -> bool:
    return name.startswith(_CLASS_PREFIXES) or name in _CLASS_NAMES


def _link_rel(value: str) -> str:
    """Mastodon forces rel="nofollow noopener"; we also keep rel="tag" so hashtag links stay marked."""
    tokens = _HTML_SPACE.split(value.lower())
    return " ".join([_LINK_REL, *(token for token in _KEPT_REL_TOKENS if token in tokens)])


def _rewrite(markup: str) -> str:
    """Mastodon's transformers, applied to the well-formed output of the first nh3 pass."""
    rewriter = _Rewriter()
    rewriter.feed(markup)
    rewriter.close()
    return "".join(rewriter.parts)


class _Open(NamedTuple):
    closing: str
    paragraph: bool = False
    link: bool = False


_UNWRAPPED = _Open("")


class _Rewriter(HTMLParser):
    """Headings -> <p><strong>, links without an allowed href -> their text, MathML -> its annotation,
    nesting beyond MAX_DEPTH unwrapped, no <p> in <p> and no <a> in <a>. Only ever fed nh3 output:
    CPython 3.11's HTMLParser is quadratic on hostile input (see tests), never on that."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._open: list[_Open] = []
        self._paragraphs = 0
        self._links = 0
        self._math: _MathText | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._math is not None:
            self._math.start(tag, attrs)
        elif tag == "br":
            self.parts.append("<br>")
        elif tag == "math":
            self._math = _MathText(block=_attribute(attrs, "display") == "block")
        else:
            opening, entry = self._translate(_RENAMED.get(tag, tag), attrs)
            self.parts.append(opening)
            self._open.append(entry)
            self._paragraphs += entry.paragraph
            self._links += entry.link

    def handle_endtag(self, tag: str) -> None:
        if self._math is not None:
            if self._math.end():
                self.parts.append(html_lib.escape(self._math.render(), quote=False))
                self._math = None
        elif tag != "br" and self._open:
            entry = self._open.pop()
            self.parts.append(entry.closing)
            self._paragraphs -= entry.paragraph
            self._links -= entry.link

    def handle_data(self, data: str) -> None:
        if self._math is not None:
            self._math.data(data)
        else:
            self.parts.append(html_lib.escape(_unrename(data), quote=False))

    def _translate(self, tag: str, attrs: list[tuple[str, str | None]]) -> tuple[str, _Open]:
        if len(self._open) >= MAX_DEPTH:
            return "", _UNWRAPPED
        if tag in _HEADINGS:
            if self._paragraphs:
                return "<strong>", _Open("</strong>")
            return "<p><strong>", _Open("</strong></p>", paragraph=True)
        if tag == "a":
            if self._links or not _attribute(attrs, "href"):
                return "", _UNWRAPPED
            return _start_tag("a", _with_rel(attrs)), _Open("</a>", link=True)
        if tag not in _ELEMENTS or (tag == "p" and self._paragraphs):
            return "", _UNWRAPPED
        return _start_tag(tag, attrs), _Open(f"</{tag}>", paragraph=tag == "p")


class _MathText:
    """Collects a <math> element: FEP-dc88 TeX annotation as $…$ ($$…$$ when display="block"),
    else a text/plain annotation, else all its text (Mastodon's MATH_TRANSFORMER)."""

    def __init__(self, *, block: bool) -> None:
        self._block = block
        self._depth = 0
        self._text: list[str] = []
        self._annotations: dict[str, str] = {}
        self._annotation: list[str] | None = None
        self._encoding = ""
        self._annotation_depth = 0

    def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._depth += 1
        if tag == "annotation" and self._annotation is None:
            self._annotation, self._annotation_depth = [], self._depth
            self._encoding = _attribute(attrs, "encoding") or ""

    def data(self, data: str) -> None:
        self._text.append(data)
        if self._annotation is not None:
            self._annotation.append(data)

    def end(self) -> bool:
        """Close one element; True when it was the <math> itself."""
        if self._depth == 0:
            return True
        if self._annotation is not None and self._depth == self._annotation_depth:
            self._annotations.setdefault(self._encoding, "".join(self._annotation))
            self._annotation = None
        self._depth -= 1
        return False

    def render(self) -> str:
        tex = self._annotations.get("application/x-tex")
        if tex is not None:
            return f"$${tex}$$" if self._block else f"${tex}$"
        return self._annotations.get("text/plain", "".join(self._text))


def _attribute(attrs: list[tuple[str, str | None]], name: str) -> str | None:
    return next((value for key, value in attrs if key == name), None)


def _with_rel(attrs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    rel = _link_rel(_attribute(attrs, "rel") or "")
    if _attribute(attrs, "rel") is None:
        return [*attrs, ("rel", rel)]
    return [(key, rel if key == "rel" else value) for key, value in attrs]


def _unrename(text: str) -> str:
    """Undo _bound's renaming where it hit text rather than a tag (attribute values, <textarea>)."""
    return _RENAMED_IN_TEXT.sub(r"<\1\2", text) if "<" in text else text


def _start_tag(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    rendered = "".join(f' {key}="{html_lib.escape(_unrename(value or ""))}"' for key, value in attrs)
    return f"<{tag}{rendered}>"


_TEXT_BREAKS = {"p": 2, "blockquote": 2, "pre": 2, "ul": 2, "ol": 2, "li": 1}


class _TextCollector(HTMLParser):
    """Text of sanitised HTML: whitespace collapsed outside <pre>, block boundaries as newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._pending = 0
        self._line_start = True
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._flush()
            self._parts.append("\n")
            self._line_start = True
        elif tag in _TEXT_BREAKS:
            self._boundary(_TEXT_BREAKS[tag])
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _TEXT_BREAKS:
            self._boundary(_TEXT_BREAKS[tag])
            self._pre -= tag == "pre" and self._pre > 0

    def handle_data(self, data: str) -> None:
        if not self._pre:
            data = _HTML_SPACE.sub(" ", data)
            if self._line_start:
                data = data.lstrip(" ")
        if data:
            self._flush()
            self._parts.append(data)
            self._line_start = data.endswith("\n")

    def text(self) -> str:
        lines = "".join(self._parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")

    def _boundary(self, newlines: int) -> None:
        self._pending = max(self._pending, newlines)
        self._line_start = True

    def _flush(self) -> None:
        if self._pending and self._parts:
            self._parts.append("\n" * self._pending)
        self._pending = 0
