"""Mentions, hashtags and Mastodon-shaped rendering of Markdown, HTML and plain text."""

from __future__ import annotations

import time

import pytest

from fediverse_learn.sanitize import MAX_DEPTH, MAX_INPUT_CHARS, sanitize_html
from fediverse_learn.text import (
    MentionRef,
    ResolvedMention,
    Syntax,
    find_hashtags,
    find_mentions,
    render_html,
    render_markdown,
    render_plain,
)

ADA = ResolvedMention(
    raw="@ada@school.test",
    actor_uri="https://school.test/users/ada",
    profile_url="https://school.test/@ada",
    username="ada",
    domain="school.test",
)
BOB = ResolvedMention(
    raw="@bob",
    actor_uri="https://here.test/users/bob",
    profile_url="https://here.test/@bob",
    username="bob",
    domain="here.test",
)
MENTIONS = {"@ada@school.test": ADA, "@bob": BOB}

ADA_MARKUP = (
    '<span class="h-card" translate="no"><a href="https://school.test/@ada" class="u-url mention"'
    ' rel="nofollow noopener" target="_blank">@<span>ada</span></a></span>'
)
BOB_MARKUP = (
    '<span class="h-card" translate="no"><a href="https://here.test/@bob" class="u-url mention"'
    ' rel="nofollow noopener" target="_blank">@<span>bob</span></a></span>'
)


def tag_url(tag: str) -> str:
    return f"https://here.test/tags/{tag.lower()}"


def tag_markup(tag: str) -> str:
    return (
        f'<a href="{tag_url(tag)}" class="mention hashtag" rel="nofollow noopener tag" target="_blank">'
        f"#<span>{tag}</span></a>"
    )


def raws(text: str, syntax: Syntax = "markdown") -> list[str]:
    return [mention.raw for mention in find_mentions(text, syntax=syntax)]


# --- find_mentions --------------------------------------------------------------------------------


def test_find_mentions_returns_local_and_remote_refs() -> None:
    assert find_mentions("hi @bob and @Ada@School.test!") == [
        MentionRef(username="bob", domain=None, raw="@bob"),
        MentionRef(username="Ada", domain="school.test", raw="@Ada@School.test"),
    ]


def test_find_mentions_accepts_ports_and_ip_literals_for_local_trials() -> None:
    assert raws("@ada@127.0.0.1:8080 and @bob@localhost:8000") == ["@ada@127.0.0.1:8080", "@bob@localhost:8000"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@ada.", ["@ada"]),
        ("(@ada)", ["@ada"]),
        ("@ada's notes", ["@ada"]),
        ("@ada@school.test.", ["@ada@school.test"]),
        ("@ada@school.test: hello", ["@ada@school.test"]),
        ("@ada_lovelace-2.x", ["@ada_lovelace-2.x"]),
    ],
)
def test_find_mentions_strips_trailing_punctuation(text: str, expected: list[str]) -> None:
    assert raws(text, "plain") == expected


@pytest.mark.parametrize(
    "text",
    [
        "foo@bar.com",
        "mail me: a.b@school.test",
        "x@ada",
        "https://school.test/@ada",
        "@ada@-bad.test",
        "@ada@bad-.test",
        "@ada@x@y",
        "@adaé",
        "@ada@localhost:99999",
        "@ada@localhost:0",
        "@.ada",
        "@",
        "=@ada",
    ],
)
def test_find_mentions_ignores_non_mentions(text: str) -> None:
    assert raws(text, "plain") == []


def test_find_mentions_ignores_code_spans_and_blocks_in_markdown() -> None:
    source = "`@carol` and\n\n```\n@dave\n```\n\n    @erin indented\n\nbut @bob"
    assert raws(source) == ["@bob"]


def test_find_mentions_ignores_link_text_in_markdown_and_html() -> None:
    assert raws("[@carol](https://x.test) @bob") == ["@bob"]
    assert raws('<a href="https://x.test">@carol</a> <code>@dave</code> @bob', "html") == ["@bob"]


def test_find_mentions_in_plain_text_sees_backticks_as_text() -> None:
    assert raws("`@carol`", "plain") == ["@carol"]


def test_find_mentions_deduplicates_case_insensitively() -> None:
    assert raws("@Bob @bob @BOB@here.test @bob@here.test") == ["@Bob", "@BOB@here.test"]


# --- find_hashtags --------------------------------------------------------------------------------


def test_find_hashtags_deduplicates_keeping_first_spelling() -> None:
    assert find_hashtags("#Maths and #maths and #MATHS, #Science") == ["Maths", "Science"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#Ελληνικά", ["Ελληνικά"]),
        ("#हिन्दी", ["हिन्दी"]),
        ("#東京", ["東京"]),
        ("#1a", ["1a"]),
        ("#snake_case", ["snake_case"]),
        ("(#tag)", ["tag"]),
        ("#tag.", ["tag"]),
        ("#tag·", ["tag"]),
        ("#a·b", ["a·b"]),
    ],
)
def test_find_hashtags_accepts_unicode_words(text: str, expected: list[str]) -> None:
    assert find_hashtags(text, syntax="plain") == expected


@pytest.mark.parametrize(
    "text", ["#123", "#_", "#", "C#", "a#b", "https://x.test/page#section", "&#x27;", "x=#a", "/#a", "#·a"]
)
def test_find_hashtags_ignores_non_tags(text: str) -> None:
    assert find_hashtags(text, syntax="plain") == []


def test_find_hashtags_ignores_code_and_links_in_markdown() -> None:
    assert find_hashtags("`#no` [#no](https://x.test)\n\n```\n# no\n#no\n```\n\n#yes") == ["yes"]


def test_find_hashtags_markdown_heading_marker_is_not_a_tag() -> None:
    assert find_hashtags("# Heading\n\n#tag") == ["tag"]


# --- render_markdown ------------------------------------------------------------------------------


def test_render_markdown_links_hashtag_in_mastodon_markup() -> None:
    rendered = render_markdown("learning #Maths", {}, tag_url)
    assert rendered.html == f"<p>learning {tag_markup('Maths')}</p>"
    assert rendered.hashtags == ("Maths",)


def test_render_markdown_links_resolved_mentions_in_mastodon_markup() -> None:
    rendered = render_markdown("hi @ada@school.test and @bob", MENTIONS, tag_url)
    assert rendered.html == f"<p>hi {ADA_MARKUP} and {BOB_MARKUP}</p>"
    assert rendered.mentions == (ADA, BOB)


def test_render_markdown_matches_mentions_case_insensitively() -> None:
    rendered = render_markdown("@Ada@School.test", MENTIONS, tag_url)
    assert rendered.html == f"<p>{ADA_MARKUP}</p>"


def test_render_markdown_leaves_unresolved_mentions_as_text() -> None:
    rendered = render_markdown("hi @carol@else.test", MENTIONS, tag_url)
    assert rendered.html == "<p>hi @carol@else.test</p>"
    assert rendered.mentions == ()


def test_render_markdown_shows_domain_when_two_mentioned_accounts_share_a_username() -> None:
    other = ResolvedMention("@ada", "https://here.test/users/ada", "https://here.test/@ada", "ada", "here.test")
    rendered = render_markdown("@ada@school.test @ada", {"@ada@school.test": ADA, "@ada": other}, tag_url)
    assert "@<span>ada@school.test</span>" in rendered.html
    assert "@<span>ada@here.test</span>" in rendered.html


def test_render_markdown_links_urls_in_mastodon_shortened_form() -> None:
    rendered = render_markdown("see https://www.example.com/a/rather/long/path/to/page?x=1&y=2.", {}, tag_url)
    assert rendered.html == (
        '<p>see <a href="https://www.example.com/a/rather/long/path/to/page?x=1&amp;y=2" rel="nofollow noopener"'
        ' translate="no" target="_blank"><span class="invisible">https://www.</span>'
        '<span class="ellipsis">example.com/a/rather/long/path</span>'
        '<span class="invisible">/to/page?x=1&amp;y=2</span></a>.</p>'
    )


def test_render_markdown_short_url_has_empty_class_and_no_hidden_rest() -> None:
    rendered = render_markdown("(https://x.test/a_(b))", {}, tag_url)
    assert rendered.html == (
        '<p>(<a href="https://x.test/a_(b)" rel="nofollow noopener" translate="no" target="_blank">'
        '<span class="invisible">https://</span><span class="">x.test/a_(b)</span>'
        '<span class="invisible"></span></a>)</p>'
    )


def test_render_markdown_heading_becomes_strong_paragraph() -> None:
    assert render_markdown("## Week 3", {}, tag_url).html == "<p><strong>Week 3</strong></p>"


def test_render_markdown_escapes_raw_html() -> None:
    rendered = render_markdown('<script>alert(1)</script> <b>x</b> <img src=x onerror="y">', {}, tag_url)
    assert rendered.html == (
        '<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt; &lt;img src=x onerror="y"&gt;</p>'
    )


def test_render_markdown_refuses_javascript_links() -> None:
    assert render_markdown("[click](javascript:alert(1))", {}, tag_url).html == "<p>[click](javascript:alert(1))</p>"


def test_render_markdown_supports_emphasis_strikethrough_lists_quotes_code() -> None:
    source = "*it* **bold** ~~old~~ `code`\n\n- one\n- two\n\n1. first\n\n> quoted\n\n```py\nx = 1 # @bob #tag\n```"
    assert render_markdown(source, MENTIONS, tag_url).html == (
        "<p><em>it</em> <strong>bold</strong> <s>old</s> <code>code</code></p>"
        "<ul><li>one</li><li>two</li></ul><ol><li>first</li></ol><blockquote><p>quoted</p></blockquote>"
        "<pre><code>x = 1 # @bob #tag\n</code></pre>"
    )


def test_render_markdown_single_newline_is_break_and_blank_line_is_paragraph() -> None:
    assert render_markdown("one\ntwo\n\nthree", {}, tag_url).html == "<p>one<br>two</p><p>three</p>"


def test_render_markdown_image_becomes_link_labelled_with_alt_text() -> None:
    assert render_markdown("![a cat](https://x.test/cat.png)", {}, tag_url).html == (
        '<p><a href="https://x.test/cat.png" rel="nofollow noopener" target="_blank">a cat</a></p>'
    )


def test_render_markdown_does_not_link_inside_links() -> None:
    rendered = render_markdown("[#tag @bob https://y.test](https://x.test)", MENTIONS, tag_url)
    assert rendered.html == (
        '<p><a href="https://x.test" rel="nofollow noopener" target="_blank">#tag @bob https://y.test</a></p>'
    )
    assert rendered.hashtags == ()
    assert rendered.mentions == ()


def test_render_markdown_reports_each_tag_and_mention_once() -> None:
    rendered = render_markdown("#Maths @bob #maths @BOB #Art", MENTIONS, tag_url)
    assert rendered.hashtags == ("Maths", "Art")
    assert rendered.mentions == (BOB,)


def test_render_markdown_escapes_tag_url_and_profile_url() -> None:
    evil = ResolvedMention("@bob", "https://here.test/users/bob", 'https://here.test/@bob"><b>x', "bob", "here.test")
    rendered = render_markdown("@bob #t", {"@bob": evil}, lambda tag: 'https://here.test/tags/t"><i>')
    assert "<b>" not in rendered.html
    assert "<i>" not in rendered.html
    assert 'href="https://here.test/@bob&quot;&gt;&lt;b&gt;x"' in rendered.html


def test_render_markdown_of_empty_source_is_empty() -> None:
    assert render_markdown("", {}, tag_url).html == ""


MARKDOWN_SOURCES = [
    "# Title\n\nHi @ada@school.test and @bob #Maths https://example.com/x?y=1",
    "*a* **b** ~~c~~ `d`\n\n- e\n  - f\n\n> g\n>\n> > h\n\n```\ni\n```",
    "[link](https://x.test) ![img](https://x.test/i.png) <b>raw</b> &amp; &copy;",
    "line\nbreak  \nhard\\\nbreak\n\n---\n\n1) one\n2) two",
    "*" * 300 + "deep" + "*" * 300,
]


@pytest.mark.parametrize("source", MARKDOWN_SOURCES)
def test_render_markdown_output_is_stable_under_sanitize(source: str) -> None:
    html = render_markdown(source, MENTIONS, tag_url).html
    assert sanitize_html(html) == html


# --- render_plain ---------------------------------------------------------------------------------


def test_render_plain_makes_paragraphs_and_breaks() -> None:
    assert render_plain("one\ntwo\n\n\nthree\r\nfour\n \nfive", {}, tag_url).html == (
        "<p>one<br>two</p><p>three<br>four</p><p>five</p>"
    )


def test_render_plain_escapes_markup_and_keeps_markdown_literal() -> None:
    assert render_plain("<b>x</b> *y* `@bob`", MENTIONS, tag_url).html == (
        f"<p>&lt;b&gt;x&lt;/b&gt; *y* `{BOB_MARKUP}`</p>"
    )


def test_render_plain_links_urls_mentions_and_tags() -> None:
    rendered = render_plain("@bob look: https://x.test/a. #Maths", MENTIONS, tag_url)
    assert rendered.html == (
        f'<p>{BOB_MARKUP} look: <a href="https://x.test/a" rel="nofollow noopener" translate="no" target="_blank">'
        '<span class="invisible">https://</span><span class="">x.test/a</span><span class="invisible"></span>'
        f"</a>. {tag_markup('Maths')}</p>"
    )


def test_render_plain_does_not_link_urls_without_host_or_other_schemes() -> None:
    assert render_plain("https:// and ftp://x.test and javascript:alert(1)", {}, tag_url).html == (
        "<p>https:// and ftp://x.test and javascript:alert(1)</p>"
    )


def test_render_plain_of_blank_text_is_empty() -> None:
    assert render_plain(" \n\n ", {}, tag_url).html == ""


def test_render_plain_output_is_stable_under_sanitize() -> None:
    html = render_plain("a & b < c\n@bob #t https://x.test/(a)\n\nend", MENTIONS, tag_url).html
    assert sanitize_html(html) == html


# --- render_html ----------------------------------------------------------------------------------


def test_render_html_sanitises_then_links_text() -> None:
    rendered = render_html(
        '<h2>Notes</h2><p onclick="x">hi @bob #Maths</p><script>alert(1)</script><img src=x>', MENTIONS, tag_url
    )
    assert rendered.html == f"<p><strong>Notes</strong></p><p>hi {BOB_MARKUP} {tag_markup('Maths')}</p>"


def test_render_html_does_not_link_inside_links_or_code() -> None:
    rendered = render_html(
        '<p><a href="https://x.test">@bob #t</a> <code>@bob</code> <pre>#t</pre></p>', MENTIONS, tag_url
    )
    assert rendered.mentions == ()
    assert rendered.hashtags == ()


def test_render_html_drops_newlines_between_blocks() -> None:
    assert render_html("<p>one</p>\n\n<p>\n  two\nthree\n</p>", {}, tag_url).html == "<p>one</p><p>two three</p>"


def test_render_html_output_is_stable_under_sanitize() -> None:
    html = render_html('<p>@bob <b>#t</b> https://x.test <a href="javascript:x">j</a></p>', MENTIONS, tag_url).html
    assert sanitize_html(html) == html


def test_render_markdown_keeps_notes_whose_markup_outgrows_the_sanitiser_cap() -> None:
    source = "learn #maths with @bob at https://x.test/a\n" * 800 + "THE END"
    html = render_markdown(source, MENTIONS, tag_url).html
    assert len(html) > MAX_INPUT_CHARS
    assert html.endswith("THE END</p>")


def test_render_markdown_bounds_emphasis_nesting_quickly() -> None:
    started = time.perf_counter()
    html = render_markdown("*" * 20_000 + "deep" + "*" * 20_000, {}, tag_url).html
    assert time.perf_counter() - started < 5.0
    assert "deep" in html
    assert html.count("<strong>") < MAX_DEPTH


# --- resource use ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["@" * 50_000, "#" * 50_000, "@a@" * 16_000, "https://" * 6_000, "@a" + "." * 50_000])
def test_find_and_render_plain_stay_fast_on_pathological_text(text: str) -> None:
    started = time.perf_counter()
    find_mentions(text, syntax="plain")
    find_hashtags(text, syntax="plain")
    render_plain(text, {}, tag_url)
    assert time.perf_counter() - started < 5.0


def test_render_plain_url_trimming_is_linear_in_closing_brackets() -> None:
    started = time.perf_counter()
    render_plain("http://x.test" + ")" * 50_000, {}, tag_url)
    assert time.perf_counter() - started < 5.0
