"""Pure parsing: feed bytes in, :class:`ParsedFeed` out (feedparser never fetches here).

:func:`parse_feed` decodes the body (:mod:`monitor.charset`), then tells the formats
apart by the body first and the Content-Type second: a body starting with ``{`` (or
served as JSON) is a JSON Feed (:mod:`monitor.jsonfeed`); one starting as an HTML page
is answered with the feeds the page advertises (:mod:`monitor.discover`); anything
else goes to feedparser as RSS, Atom or RDF, transcoded to UTF-8 so that feedparser
never second-guesses the encoding chosen here.
"""

from __future__ import annotations

import calendar
import dataclasses
import functools
import io
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.exceptions import CharacterEncodingOverride, NonXMLContentType

from monitor import charset
from monitor.discover import discover, looks_like_html, might_be_html
from monitor.errors import ParseError
from monitor.identity import entry_identity
from monitor.jsonfeed import parse_json_feed
from monitor.records import ParsedEntry, ParsedFeed
from monitor.skim import skip_known
from monitor.text import html_to_text, one_line

__all__ = ["declares_entities", "entry_identity", "parse_feed"]

log = logging.getLogger(__name__)

_JSON_TYPES = ("application/feed+json", "application/json")
_DECLARED_ENCODING = re.compile(r"\A(\s*<\?xml\s[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2")
# Web page errors name at most this many of the feeds it advertises.
_SHOWN_FEEDS = 5
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
# Informational only: the body was read correctly all the same.
_BENIGN = (CharacterEncodingOverride, NonXMLContentType)


def declares_entities(body: bytes) -> bool:
    """Whether the body has a DOCTYPE that declares entities.

    Such bodies are refused before parsing: when expat's expansion limit fires,
    feedparser falls back to a loose parser that expands them without bound. A plain
    reference to a public DTD (no ``<!ENTITY`` of its own) is fine. Any ``<!ENTITY``
    after a DOCTYPE counts, so quoting tricks inside the DOCTYPE do not hide one.
    """
    view = body
    if b"\x00" in body[:4]:
        for bom, codec in charset.BOMS:
            if body.startswith(bom):
                view = body.decode(codec, errors="ignore").encode("utf-8")
                break
    match = _DOCTYPE.search(view)
    return match is not None and _ENTITY_DECL.search(view, match.end()) is not None


def parse_feed(
    body: bytes, url: str, content_type: str | None = None, known: frozenset[str] = frozenset()
) -> ParsedFeed:
    """Parse an RSS, Atom, RDF or JSON Feed body fetched from ``url``.

    A body feedparser can still read although it is not well-formed is kept, with the
    problem noted in ``ParsedFeed.problem``; a single bad entry is skipped. Items whose
    identity is in ``known`` may be left unread (``skim.skip_known``): their identities
    are in ``ParsedFeed.skipped`` instead of entries in ``ParsedFeed.entries``.

    Raises:
        ParseError: the body declares XML entities, is a web page (the message names
            the feeds it advertises), or holds no readable feed.
    """
    text = charset.decode(body, content_type).text
    start = text.lstrip()[:1]
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if start == "{" or (media_type in _JSON_TYPES and start != "<"):
        return parse_json_feed(text, url)
    if looks_like_html(text):
        raise _web_page(text, url)
    utf8 = _as_utf8_xml(text)
    # Checked on the bytes as sent and as feedparser will see them (any encoding).
    if declares_entities(body) or declares_entities(utf8):
        raise ParseError(url, "the feed declares XML entities in its DOCTYPE, which is refused")
    utf8, skipped = skip_known(utf8, known)
    return dataclasses.replace(_parse_xml(utf8, url, text, content_type), skipped=skipped)


def _as_utf8_xml(text: str) -> bytes:
    """The text as UTF-8 bytes whose XML declaration (if any) says so."""
    return _DECLARED_ENCODING.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8", "surrogatepass")


def _web_page(text: str, url: str) -> ParseError:
    feeds = [found.url for found in discover(text, url)]
    if not feeds:
        return ParseError(url, "this is a web page, not a feed, and it advertises no feeds")
    shown = ", ".join(feeds[:_SHOWN_FEEDS])
    more = f" and {len(feeds) - _SHOWN_FEEDS} more" if len(feeds) > _SHOWN_FEEDS else ""
    return ParseError(url, f"this is a web page; it advertises these feeds: {shown}{more}")


def _parse_xml(body: bytes, url: str, text: str, content_type: str | None) -> ParsedFeed:
    # No content-location: feedparser would resolve relative guids against it, and an
    # entry's identity must not change with the feed's URL. Links are resolved below.
    headers = {"content-type": "application/xml; charset=utf-8"}
    # A BytesIO, never bytes or str: given those, feedparser treats a body that looks
    # like a path or URL as one and opens it.
    result = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    problem = None
    bozo = result.get("bozo_exception")
    if result.get("bozo") and not isinstance(bozo, _BENIGN):
        problem = f"the feed is not well-formed ({_reason(bozo)})"
    if not result.entries and not result.get("version"):
        if might_be_html(text, content_type):
            raise _web_page(text, url)
        detail = f" ({_reason(bozo)})" if problem else ""
        raise ParseError(url, f"the body is not an RSS, Atom, RDF or JSON feed{detail}")
    raw_title = result.feed.get("title")
    feed_title = one_line(raw_title, None) if isinstance(raw_title, str) and raw_title else None
    entries = []
    for raw in result.entries:
        try:
            entries.append(_entry(raw, url, feed_title))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            log.warning("%s: skipped an unreadable entry (%s)", url, exc)
    return ParsedFeed(
        title=feed_title,
        entries=tuple(entries),
        problem=problem,
        ttl_minutes=_whole_number(result.feed.get("ttl")),
        update_period=_word(result.feed.get("sy_updateperiod")),
        update_frequency=_whole_number(result.feed.get("sy_updatefrequency")),
    )


def _whole_number(value: Any) -> int | None:
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.isdigit() and 0 < int(text) < 10**7 else None


def _word(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def _reason(exc: object) -> str:
    text = str(exc) if exc is not None else "unknown problem"
    return one_line(text, 200) or type(exc).__name__


def _text(detail: Any, value: Any) -> str:
    if not isinstance(value, str):
        return ""
    kind = dict.get(detail, "type", "") if isinstance(detail, dict) else ""
    if "html" in kind or "xml" in kind:
        value = html_to_text(value)
    # Feed text is hostile: no control characters (terminal escapes, CR/LF) survive.
    return one_line(value, None)


def _published(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: FeedParserDict.get falls back between published and updated with a
        # DeprecationWarning; the order here is ours.
        parsed = dict.get(raw, key)
        if isinstance(parsed, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                return None
    return None


def _categories(get: Callable[[str], Any]) -> tuple[str, ...]:
    tags = get("tags")
    if not isinstance(tags, list):
        return ()
    terms = (dict.get(t, "term") or dict.get(t, "label") for t in tags if isinstance(t, dict))
    return tuple(
        dict.fromkeys(one_line(t, None) for t in terms if isinstance(t, str) and t.strip())
    )


def _entry(raw: Any, feed_url: str, feed_title: str | None = None) -> ParsedEntry:
    # Plain dict lookups: FeedParserDict.get first maps legacy key names (none of these
    # is one it maps), which made it a sixth of building the records.
    get: Callable[[str], Any] = functools.partial(dict.get, raw)
    title = _text(get("title_detail"), get("title"))
    link = get("link") if isinstance(get("link"), str) else None
    link = urljoin(feed_url, one_line(link, None)) if link and link.strip() else None
    summary = _text(get("summary_detail"), get("summary"))
    contents = [_text(c, dict.get(c, "value")) for c in get("content") or () if isinstance(c, dict)]
    content = " ".join(c for c in contents if c and c != summary)
    author = get("author")
    published_raw = get("published") or get("updated")
    return ParsedEntry(
        identity=entry_identity(
            get("id") if isinstance(get("id"), str) else None,
            link,
            title,
            published_raw if isinstance(published_raw, str) else None,
        ),
        title=title,
        link=link,
        author=one_line(author, None) if isinstance(author, str) and author.strip() else None,
        published=_published(raw),
        summary=summary,
        content=content,
        categories=_categories(get),
        feed_title=feed_title,
    )
