"""Pure OPML: subscription lists read (1.0 and 2.0, nested outlines) and written (2.0).

Reading goes through defusedxml: a file that declares entities or refers to external
ones is refused before anything is expanded (the "billion laughs" and external-entity
attacks). Writing builds the tree with the standard library, which escapes every value.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # building and escaping only; parsing is defusedxml's
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from monitor.errors import FeedListError
from monitor.text import one_line


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """An outline with an ``xmlUrl``; ``title`` from its ``title``, else its ``text``."""

    url: str
    title: str | None


@dataclass(frozen=True, slots=True)
class OpmlList:
    """The feeds of an OPML file in document order, and how many leaf outlines had no
    ``xmlUrl`` (folders, which only hold other outlines, are not counted)."""

    feeds: tuple[OpmlFeed, ...]
    without_url: int


def _local(tag: object) -> str:
    # OPML has no namespace, but some exporters put one on it.
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _clean(value: str | None) -> str | None:
    text = one_line(value or "", 300)
    return text or None


def read_opml(data: bytes, source: str) -> OpmlList:
    """The feeds listed in an OPML document; ``source`` names it in errors.

    Raises:
        FeedListError: not well-formed XML, declares entities, or not OPML.
    """
    try:
        root = fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise FeedListError(
            f"{source} declares or refers to XML entities, which are refused."
        ) from None
    except ET.ParseError as exc:
        raise FeedListError(f"{source} is not well-formed XML ({exc}).") from None
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if _local(root.tag) != "opml" or body is None:
        raise FeedListError(f"{source} is not an OPML file (no <opml> with a <body>).")
    feeds: list[OpmlFeed] = []
    without_url = 0
    # Depth first, in document order; outlines nest to any depth (folders, categories).
    pending = [e for e in reversed(body) if _local(e.tag) == "outline"]
    while pending:
        outline = pending.pop()
        children = [e for e in outline if _local(e.tag) == "outline"]
        url = (outline.get("xmlUrl") or "").strip()
        if url:
            title = _clean(outline.get("title")) or _clean(outline.get("text"))
            feeds.append(OpmlFeed(url=url, title=title))
        elif not children:
            without_url += 1
        pending.extend(reversed(children))
    return OpmlList(feeds=tuple(feeds), without_url=without_url)


def write_opml(
    feeds: Sequence[tuple[str, str | None]], now: datetime, title: str = "newsmonitor feeds"
) -> str:
    """An OPML 2.0 document listing ``feeds`` as (URL, title) pairs, one outline each.

    An outline's ``text`` (required by OPML 2.0) is the title, else the URL.
    """
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    for url, name in feeds:
        attributes = {"type": "rss", "text": name or url}
        if name:
            attributes["title"] = name
        attributes["xmlUrl"] = url
        ET.SubElement(body, "outline", attributes)
    ET.indent(root, space="  ")
    text = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{text}\n'
