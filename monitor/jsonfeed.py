"""Pure: JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) to a ParsedFeed.

feedparser does not read JSON Feed, so this small parser does, producing the same
records as RSS and Atom: ``id`` is the identity (else ``url``, else a hash, as for
RSS), ``title``, ``url``, ``authors`` (1.1) or ``author`` (1.0, and the feed's own when
the item has none), ``date_published`` else ``date_modified``, ``summary``,
``content_text`` or ``content_html`` as text, and ``tags`` (as categories). A JSON
value of the wrong type is treated as absent; an item that is not an object is skipped.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from monitor.errors import ParseError
from monitor.identity import entry_identity
from monitor.records import ParsedEntry, ParsedFeed
from monitor.text import html_to_text, one_line

log = logging.getLogger(__name__)

VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")


def parse_json_feed(text: str, url: str) -> ParsedFeed:
    """Parse a JSON Feed body (already decoded) fetched from ``url``.

    Raises:
        ParseError: the text is not JSON, or not a JSON Feed (no jsonfeed.org
            ``version``, or no ``items`` list).
    """
    try:
        data = json.loads(text)
    except RecursionError:
        raise ParseError(url, "the body is JSON nested too deeply to read") from None
    except ValueError as exc:
        raise ParseError(url, f"the body is not valid JSON ({one_line(str(exc), 200)})") from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIXES):
        raise ParseError(url, "the body is JSON but not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError(url, "the JSON Feed has no list of items")
    feed_author = _authors(data)
    feed_title = one_line(_string(data, "title"), None) or None
    entries = []
    for raw in items:
        if not isinstance(raw, dict):
            log.warning("%s: skipped a JSON Feed item that is not an object", url)
            continue
        entries.append(_entry(raw, url, feed_author, feed_title))
    return ParsedFeed(title=feed_title, entries=tuple(entries))


def _string(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _authors(data: dict[str, Any]) -> str | None:
    """``authors`` (1.1), else ``author`` (1.0), as names joined by commas."""
    raw = data.get("authors")
    people = raw if isinstance(raw, list) else [data.get("author")]
    names = [one_line(_string(p, "name"), None) for p in people if isinstance(p, dict)]
    names = [n for n in names if n]
    return ", ".join(names) or None


def _date(value: object) -> datetime | None:
    """An RFC 3339 date as an aware UTC datetime (one without an offset counts as UTC)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _entry(
    raw: dict[str, Any], feed_url: str, feed_author: str | None, feed_title: str | None
) -> ParsedEntry:
    raw_id = raw.get("id")
    # The spec says a string; numbers are common in the wild, and mean the same.
    numeric = isinstance(raw_id, int | float) and not isinstance(raw_id, bool)
    guid = raw_id if isinstance(raw_id, str) else str(raw_id) if numeric else None
    link = _link(feed_url, one_line(_string(raw, "url"), None))
    title = one_line(_string(raw, "title"), None)
    summary = one_line(_string(raw, "summary"), None)
    content = one_line(_string(raw, "content_text"), None) or one_line(
        html_to_text(_string(raw, "content_html")), None
    )
    if not summary:
        summary, content = content, ""
    elif content == summary:
        content = ""
    published_raw = raw.get("date_published") or raw.get("date_modified")
    tags = raw.get("tags")
    tags = tags if isinstance(tags, list) else []
    return ParsedEntry(
        identity=entry_identity(
            guid,
            link,
            title,
            published_raw if isinstance(published_raw, str) else None,
        ),
        title=title,
        link=link,
        author=_authors(raw) or feed_author,
        published=_date(raw.get("date_published")) or _date(raw.get("date_modified")),
        summary=summary,
        content=content,
        categories=tuple(
            dict.fromkeys(t for t in (one_line(v, None) for v in tags if isinstance(v, str)) if t)
        ),
        feed_title=feed_title,
    )


def _link(feed_url: str, link: str) -> str | None:
    if not link:
        return None
    try:
        return urljoin(feed_url, link)
    except ValueError:  # an unreadable URL ("http://[::1") is no link
        return None
