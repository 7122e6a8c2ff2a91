"""Pure: the feeds a web page advertises, and whether a body is a web page at all.

A page advertises its feeds in its head, as
``<link rel="alternate" type="application/rss+xml" href="/feed.xml">`` (the RSS
autodiscovery convention; also ``application/atom+xml`` and ``application/feed+json``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
_HTML_START = re.compile(
    r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>])", re.IGNORECASE | re.DOTALL
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_TAG = re.compile(r"<(?:html|head|body|meta|link)[\s>/]", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """Whether the text starts as an HTML page does (``<!DOCTYPE html>``, ``<html>``)."""
    return _HTML_START.match(text[:4096]) is not None


def might_be_html(text: str, content_type: str | None = None) -> bool:
    """A looser test, for a body that already proved not to be a feed: served as HTML, or
    with HTML's own tags near its start."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind in _HTML_TYPES or _HTML_TAG.search(text[:4096]) is not None


def discover(html: str, base_url: str) -> list[str]:
    """The absolute http(s) URLs of the feeds the page advertises, in page order, once each.

    Relative ``href`` values are resolved against the page's ``<base href>``, if it has
    one, else against ``base_url`` (where the page was fetched from).
    """
    finder = _LinkFinder(base_url)
    finder.feed(html)
    finder.close()
    return finder.found


class _LinkFinder(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base_url
        self._base_seen = False
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        href = values.get("href", "")
        if tag == "base" and href and not self._base_seen:
            self._base_seen = True  # only the first <base> counts (HTML standard)
            self.base = _join(self.base, href) or self.base
            return
        if tag != "link" or not href:
            return
        rel = values.get("rel", "").lower().split()
        kind = values.get("type", "").split(";", 1)[0].strip().lower()
        if "alternate" not in rel or kind not in FEED_TYPES:
            return
        url = _join(self.base, href)
        if url is not None and url not in self.found:
            self.found.append(url)


def _join(base: str, href: str) -> str | None:
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url
