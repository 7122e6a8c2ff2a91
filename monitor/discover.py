"""Pure feed discovery: the feeds an HTML page advertises with ``<link rel="alternate">``,
and whether a body is a web page at all.

A site names its feeds in the page head (the RSS Autodiscovery convention, and HTML's
``alternate`` link type): ``<link rel="alternate" type="application/rss+xml"
href="/feed.xml" title="Posts">``. ``href`` is resolved against the page's URL, or
against the page's ``<base href>`` when it has one (HTML, "Document base URL").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Final
from urllib.parse import urljoin, urlsplit

from monitor.text import one_line

# The media types of feeds, and how each is called when listed.
FEED_TYPES: Final = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/rdf+xml": "RDF",
    "application/feed+json": "JSON Feed",
}
_HTML_START = re.compile(
    r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>])", re.IGNORECASE | re.DOTALL
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_TAG = re.compile(r"<(?:html|head|body|meta|link)[\s>/]", re.IGNORECASE)


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """Whether the text starts as an HTML page does (``<!DOCTYPE html>``, ``<html>``)."""
    return _HTML_START.match(text[:4096]) is not None


def might_be_html(text: str, content_type: str | None = None) -> bool:
    """A looser test, for a body that already proved not to be a feed: served as HTML, or
    with HTML's own tags near its start."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind in _HTML_TYPES or _HTML_TAG.search(text[:4096]) is not None


@dataclass(frozen=True, slots=True)
class Discovered:
    """One advertised feed: its absolute URL, media type and the page's title for it."""

    url: str
    type: str
    title: str | None = None

    @property
    def kind(self) -> str:
        """``RSS``, ``Atom``, ``RDF`` or ``JSON Feed``."""
        return FEED_TYPES.get(self.type, self.type)


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if tag == "base" and self.base is None and values.get("href", "").strip():
            self.base = values["href"].strip()
        elif tag == "link":
            self.links.append(values)

    handle_startendtag = handle_starttag


def discover(html: str, base_url: str) -> list[Discovered]:
    """The feeds ``html`` advertises, in page order, each URL once, made absolute.

    Only ``rel`` values holding the token ``alternate`` and the feed media types of
    :data:`FEED_TYPES` count; links that do not resolve to http(s) URLs are left out.
    """
    collector = _LinkCollector()
    collector.feed(html)
    collector.close()
    base = urljoin(base_url, collector.base) if collector.base else base_url
    found: dict[str, Discovered] = {}
    for link in collector.links:
        rel = link.get("rel", "").lower().split()
        media = link.get("type", "").split(";")[0].strip().lower()
        href = link.get("href", "").strip()
        if "alternate" not in rel or media not in FEED_TYPES or not href:
            continue
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or url in found:
            continue
        title = one_line(link.get("title", ""), 200) or None
        found[url] = Discovered(url=url, type=media, title=title)
    return list(found.values())


def decode_page(body: bytes, content_type: str | None) -> str:
    """An HTML body as text: the charset of the Content-Type header, else of a ``<meta>``
    in the first 2 KiB, else UTF-8; undecodable bytes are replaced."""
    charset = None
    if content_type:
        for param in content_type.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip("\"'")
    if charset is None:
        m = _CHARSET.search(body[:2048])
        charset = m.group(1).decode("ascii") if m else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
