"""parse_feed on the sample feeds and on hostile bodies, plus properties of the text helpers."""

from __future__ import annotations

import contextlib
import hashlib
import html
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import ParseError
from monitor.parse import parse_feed
from monitor.records import ParsedEntry, ParsedFeed
from monitor.text import collapse_spaces, html_to_text, normalise, one_line
from tests.servers import FEEDS, HTTPServer

FEED_URL = "http://example.org/feeds/main.rss"


def sample(name: str) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), f"http://127.0.0.1/{name}")


def rss(items: str, prolog: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'{prolog}<rss version="2.0"><channel><title>Test</title><link>http://example.org/</link>'
        f"{items}</channel></rss>"
    ).encode()


def only_entry(body: bytes, url: str = FEED_URL) -> ParsedEntry:
    (entry,) = parse_feed(body, url).entries
    return entry


def has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" or c in "\u2028\u2029" for c in text)


# -- the sample feeds ---------------------------------------------------------------------


def test_world_rss() -> None:
    feed = sample("world.rss")
    assert feed.title == "World Desk"
    assert feed.problem is None
    assert [e.identity for e in feed.entries] == ["world-1", "world-2", "world-3"]
    assert [e.title for e in feed.entries] == [
        "Ceasefire talks resume in Geneva",
        "Markets steady as oil prices ease",
        "Dnipropetrovsk football club wins the cup",
    ]
    first = feed.entries[0]
    assert first.link == "http://127.0.0.1/world/1"
    assert first.author == "Anna Reporter"
    assert first.published == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    # HTML in the description is reduced to its text.
    assert first.summary == (
        "Negotiators met again on Wednesday to discuss a ceasefire along the front line."
    )
    assert feed.entries[1].author is None
    for entry in feed.entries:
        assert entry.published is not None and entry.published.utcoffset() == timedelta(0)


def test_ukraine_atom() -> None:
    feed = sample("ukraine.atom")
    assert feed.title == "Ukraine Wire"
    assert feed.problem is None
    assert [e.identity for e in feed.entries] == [
        "urn:sample:ukraine:1",
        "urn:sample:ukraine:2",
        "urn:sample:ukraine:3",
    ]
    shelling, peace, weather = feed.entries
    # type="html": escaped markup becomes text.
    assert shelling.title == "Shelling reported in Dnipropetrovsk region"
    assert shelling.summary == (
        "Officials in Dnipropetrovsk said the ceasefire was broken overnight."
        " Дніпропетровська область."
    )
    assert shelling.author == "Олена Коваль"
    assert shelling.published == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    # A title broken over lines is one line.
    assert peace.title == "Peace talks planned for next week"
    assert peace.summary == "Diplomats confirmed the date of the peace-talks round."
    assert weather.link == "http://127.0.0.1/ukraine/3"


def test_malformed_but_readable_is_kept_with_problem() -> None:
    feed = sample("malformed.rss")
    assert feed.problem is not None
    assert "not well-formed" in feed.problem
    assert "\n" not in feed.problem
    (entry,) = feed.entries
    assert entry.identity == "sloppy-1"
    assert entry.title == "Ceasefire & aid convoy"
    assert entry.published == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(ParseError) as info:
        sample("not-a-feed.html")
    assert info.value.url == "http://127.0.0.1/not-a-feed.html"
    assert str(info.value) == "this is a web page, not a feed, and it advertises no feeds"


@pytest.mark.parametrize("body", [b"", b"   ", b"hello world", b"\x00\xff\xfe garbage", b"{}"])
def test_junk_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(body, FEED_URL)


# -- entity declarations ------------------------------------------------------------------

ENTITIES = (FEEDS / "entities.rss").read_bytes()


@pytest.mark.parametrize("codec", ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_entity_declaring_doctype_is_refused(codec: str) -> None:
    body = ENTITIES.decode("utf-8").encode(codec)
    with pytest.raises(ParseError) as info:
        parse_feed(body, FEED_URL)
    assert "entities" in str(info.value)


def test_single_entity_declaration_is_refused() -> None:
    body = rss(
        "<item><guid>1</guid><title>&x;</title></item>",
        prolog='<!DOCTYPE rss [\n  <!ENTITY x "expanded">\n]>\n',
    )
    with pytest.raises(ParseError):
        parse_feed(body, FEED_URL)


def test_public_dtd_without_internal_subset_is_accepted() -> None:
    body = rss(
        "<item><guid>rss091-1</guid><title>Old-style feed item</title></item>",
        prolog='<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n',
    )
    entry = only_entry(body)
    assert entry.identity == "rss091-1"
    assert entry.title == "Old-style feed item"


# -- bodies are never opened as paths or URLs ---------------------------------------------


def test_body_that_is_a_url_is_not_fetched(http: HTTPServer) -> None:
    url = http.feed("/world.rss", "world.rss")
    with pytest.raises(ParseError):
        parse_feed(url.encode(), FEED_URL)
    assert http.received("/world.rss", "GET") == []


@pytest.mark.parametrize(
    "body",
    [
        b"/etc/passwd",
        b"http://127.0.0.1:1/x",
        b"file:///etc/passwd",
        str(FEEDS / "world.rss").encode(),
    ],
)
def test_body_that_looks_like_a_location_is_not_opened(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(body, FEED_URL)


# -- identities, links, text, dates -------------------------------------------------------


def test_identity_prefers_guid_then_link_then_hash() -> None:
    date = "Wed, 25 Nov 2026 10:00:00 +0000"
    body = rss(
        "<item><guid isPermaLink='false'>  g-1  </guid><link>http://example.org/a</link>"
        "<title>With guid</title></item>"
        "<item><link>http://example.org/b</link><title>With link</title></item>"
        f"<item><title>Bare</title><pubDate>{date}</pubDate></item>"
        "<item><title>Bare</title></item>"
    )
    with_guid, with_link, dated, undated = parse_feed(body, FEED_URL).entries
    assert with_guid.identity == "g-1"
    assert with_guid.link == "http://example.org/a"
    assert with_link.identity == "http://example.org/b"
    assert dated.link is None
    expected = hashlib.sha256(f"Bare\x00{date}".encode()).hexdigest()
    assert dated.identity == f"sha256:{expected}"
    expected_undated = hashlib.sha256(b"Bare\x00").hexdigest()
    assert undated.identity == f"sha256:{expected_undated}"
    # Stable: parsing the same body again gives the same identities.
    again = parse_feed(body, FEED_URL).entries
    assert [e.identity for e in again] == [
        e.identity for e in (with_guid, with_link, dated, undated)
    ]
    # The hash covers the date: the same title on another day is another entry.
    assert dated.identity != undated.identity


def test_atom_id_is_identity() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b'<entry><id>tag:example.org,2026:1</id><title>One</title><link href="/one"/>'
        b"<updated>2026-11-25T13:00:00+02:00</updated></entry></feed>"
    )
    entry = only_entry(body)
    assert entry.identity == "tag:example.org,2026:1"
    assert entry.link == "http://example.org/one"
    assert entry.published == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def test_relative_link_is_resolved_against_feed_url() -> None:
    body = rss(
        "<item><guid isPermaLink='false'>1</guid><title>a</title><link>/news/1?x=y</link></item>"
        "<item><guid isPermaLink='false'>2</guid><title>b</title><link>2.html</link></item>"
    )
    first, second = parse_feed(body, FEED_URL).entries
    assert first.link == "http://example.org/news/1?x=y"
    assert second.link == "http://example.org/feeds/2.html"


def test_published_is_converted_to_utc() -> None:
    body = rss(
        "<item><guid isPermaLink='false'>1</guid><title>a</title>"
        "<pubDate>Wed, 25 Nov 2026 10:00:00 +0200</pubDate></item>"
        "<item><guid isPermaLink='false'>2</guid><title>b</title>"
        "<pubDate>Tue, 24 Nov 2026 22:30:00 -0500</pubDate></item>"
        "<item><guid isPermaLink='false'>3</guid><title>c</title></item>"
        "<item><guid isPermaLink='false'>4</guid><title>d</title><pubDate>soon</pubDate></item>"
    )
    a, b, c, d = parse_feed(body, FEED_URL).entries
    assert a.published == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert b.published == datetime(2026, 11, 25, 3, 30, tzinfo=UTC)
    assert a.published is not None and a.published.utcoffset() == timedelta(0)
    assert c.published is None
    assert d.published is None


def test_html_is_stripped_and_entities_decoded() -> None:
    body = rss(
        "<item><guid isPermaLink='false'>1</guid>"
        "<title>Tom &amp;amp; Jerry &amp;#8212; caf&amp;eacute;</title>"
        "<description>&lt;p&gt;Tom &amp;amp; Jerry&amp;nbsp;caf&amp;eacute;&lt;/p&gt;"
        "&lt;script&gt;steal()&lt;/script&gt;&lt;p&gt;Second&lt;br&gt;line&lt;/p&gt;"
        "</description></item>"
        "<item><guid isPermaLink='false'>2</guid>"
        "<title><![CDATA[A <b>bold</b> move]]></title>"
        "<description><![CDATA[<div>One</div><div>Two &amp; three</div>]]></description></item>"
    )
    first, second = parse_feed(body, FEED_URL).entries
    assert first.title == "Tom & Jerry — café"
    assert first.summary == "Tom & Jerry café Second line"
    assert second.title == "A bold move"
    assert second.summary == "One Two & three"


def test_atom_content_is_kept_apart_from_summary() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b"<entry><id>e1</id><title>T</title><summary>Short summary.</summary>"
        b'<content type="html">&lt;p&gt;The &lt;em&gt;full&lt;/em&gt; story.&lt;/p&gt;</content>'
        b"</entry></feed>"
    )
    entry = only_entry(body)
    assert entry.summary == "Short summary."
    assert entry.content == "The full story."


def test_control_characters_do_not_survive() -> None:
    body = rss(
        "<item><guid isPermaLink='false'>1</guid>"
        "<title>Red \x1b[31mALERT\x1b[0m&#13;&#10;Bcc: victim@example.org</title>"
        "<author>Eve\x1b]0;owned\x07</author>"
        "<description>one\x1btwo&#13;&#10;three</description></item>"
    )
    entry = only_entry(body)
    for text in (entry.title, entry.summary, entry.author or ""):
        assert not has_control(text), repr(text)
    assert "ALERT" in entry.title and "Bcc: victim@example.org" in entry.title
    assert entry.author is not None and entry.author.startswith("Eve")


def test_line_separators_do_not_survive() -> None:
    body = rss(
        "<item><guid isPermaLink='false'>1</guid>"
        "<title>one&#13;&#10;two&#x2028;three\u2029four\u0085five</title></item>"
    )
    entry = only_entry(body)
    # feedparser reads a stray C1 control as its windows-1252 character; either way it is
    # not a control character any more.
    assert entry.title.startswith("one two three four")
    assert entry.title.endswith("five")
    assert not has_control(entry.title)


def test_unreadable_feed_title_is_none_not_an_error() -> None:
    body = rss("<item><guid>1</guid></item>").replace(b"<title>Test</title>", b"")
    feed = parse_feed(body, FEED_URL)
    assert feed.title is None
    (entry,) = feed.entries
    assert entry.title == ""


# -- properties ---------------------------------------------------------------------------

SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_parse_error(body: bytes) -> None:
    try:
        feed = parse_feed(body, FEED_URL)
    except ParseError:
        return
    assert isinstance(feed, ParsedFeed)


@SLOW
@given(st.binary(max_size=300))
def test_bytes_after_an_rss_prefix_raise_only_parse_error(tail: bytes) -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>' + tail
    with contextlib.suppress(ParseError):
        parse_feed(body, FEED_URL)


feed_text = st.text(max_size=60)
item = st.fixed_dictionaries(
    {
        "title": feed_text,
        "link": feed_text,
        "guid": feed_text,
        "description": feed_text,
        "pubDate": st.one_of(
            feed_text,
            st.datetimes(timezones=st.just(UTC)).map(
                lambda d: d.strftime("%a, %d %b %Y %H:%M:%S +0000")
            ),
        ),
        "author": feed_text,
    },
)


@SLOW
@given(st.lists(item, max_size=4), st.booleans())
def test_random_rss_raises_only_parse_error(items: list[dict[str, str]], escape: bool) -> None:
    def tag(name: str, value: str) -> str:
        return f"<{name}>{html.escape(value) if escape else value}</{name}>"

    body = rss(
        "".join("<item>" + "".join(tag(k, v) for k, v in i.items()) + "</item>" for i in items)
    )
    try:
        feed = parse_feed(body, FEED_URL)
    except ParseError:
        return
    for entry in feed.entries:
        assert entry.identity
        for text in (
            entry.title,
            entry.summary,
            entry.content,
            entry.author or "",
            entry.link or "",
        ):
            assert not has_control(text), repr(text)
        assert entry.published is None or entry.published.utcoffset() == timedelta(0)


# Letters, combining marks, compatibility characters, invisible joiners and spaces, so
# that normalisation has something to do.
tricky_text = st.text(
    alphabet=st.sampled_from(
        "aeoK \n\t\u0301\u0308\u00ad\u200b\u2060\ufeff\u212b\ufb01\u00a0\u3000\u2126"
    )
)


@given(st.one_of(st.text(), tricky_text))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


def test_normalise_output_is_nfkc_after_removing_a_soft_hyphen() -> None:
    # A soft hyphen between a letter and its combining accent: once it is removed, the
    # two must compose, or "café" in a rule never finds this text.
    assert normalise("cafe\u00ad\u0301") == "caf\u00e9"


@given(st.one_of(st.text(), tricky_text))
def test_normalise_has_no_invisible_joiners_or_space_runs(text: str) -> None:
    out = normalise(text)
    assert not any(c in out for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff")
    assert out == out.strip()
    assert "  " not in out
    assert not any(c.isspace() and c != " " for c in out)


@given(st.text())
def test_one_line_has_no_control_characters(text: str) -> None:
    out = one_line(text, None)
    assert not has_control(out)
    assert out == collapse_spaces(out)
    cut = one_line(text, 20)
    assert len(cut) <= 20


@given(st.text().filter(lambda t: "<" not in t and "&" not in t))
def test_html_to_text_leaves_plain_text_alone(text: str) -> None:
    assert html_to_text(text) == collapse_spaces(text)


inline_tags = st.sampled_from(["b", "i", "em", "strong", "span", "a", "code", "small"])


@given(st.lists(st.tuples(inline_tags, st.text(max_size=20)), max_size=6))
def test_html_to_text_recovers_escaped_text(parts: list[tuple[str, str]]) -> None:
    # Text escaped into inline tags comes back exactly (spaces folded), including any
    # '<' or '&' it held: the escaping is undone, the markup is gone.
    markup = "".join(f'<{t} class="x">{html.escape(s)}</{t}>' for t, s in parts)
    plain = "".join(s for _, s in parts)
    assert html_to_text(markup) == collapse_spaces(plain)


@given(st.text(max_size=40), st.text(max_size=40))
def test_html_to_text_drops_scripts_and_styles(before: str, hidden: str) -> None:
    hidden_marker = "HIDDENMARKER"
    markup = (
        f"<p>{html.escape(before)}</p><script>{hidden_marker}{html.escape(hidden)}</script>"
        f"<style>.{hidden_marker} {{}}</style>"
    )
    out = html_to_text(markup)
    assert hidden_marker not in out
    assert out == collapse_spaces(before)
