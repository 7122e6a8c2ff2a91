"""An HTML page given as a feed URL: answered with the feeds it advertises."""

from __future__ import annotations

import asyncio

import pytest

from monitor.connections import Connections
from monitor.discover import discover
from monitor.errors import ParseError
from monitor.fetch import Fetcher
from monitor.netguard import AddressPolicy
from monitor.parse import parse_feed
from tests.servers import FEEDS, HTTPServer, Reply

PAGE = (FEEDS / "discovery.html").read_text(encoding="utf-8")
ADVERTISED = [
    "http://127.0.0.1/news/rss.xml",
    "http://127.0.0.1/atom.xml",
    "https://127.0.0.1/feed.json",
]


def urls(html: str, base: str) -> list[str]:
    return [found.url for found in discover(html, base)]


def test_discover_finds_advertised_feeds_in_order_once_each() -> None:
    # <base href> resolves the relative ones; stylesheets, plain application/json
    # (WordPress's REST links), language alternates and javascript: links are not feeds.
    assert urls(PAGE, "http://example.org/somewhere/page.html") == ADVERTISED


def test_discover_without_base_uses_the_page_url() -> None:
    html = (
        '<html><head><link rel="alternate" type="application/atom+xml" href="feed.atom">'
        "</head><body><link rel=alternate type=application/rss+xml href=/body.rss></body></html>"
    )
    assert urls(html, "http://example.org/blog/") == [
        "http://example.org/blog/feed.atom",
        "http://example.org/body.rss",
    ]


@pytest.mark.parametrize(
    "html",
    ["", "<html></html>", "<link rel=alternate type=application/rss+xml>", "<<<>>>&&", "<link"],
)
def test_discover_on_pages_without_feeds(html: str) -> None:
    assert urls(html, "http://example.org/") == []


def test_a_web_page_names_the_feeds_it_advertises() -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(PAGE.encode(), "http://127.0.0.1/news/", "text/html; charset=utf-8")
    assert str(info.value) == (
        "this is a web page; it advertises these feeds: " + ", ".join(ADVERTISED)
    )


def test_a_page_without_doctype_served_as_html() -> None:
    body = b'<head><link rel="alternate" type="application/rss+xml" href="/f.rss"></head>'
    with pytest.raises(ParseError) as info:
        parse_feed(body, "http://127.0.0.1/", "text/html")
    assert str(info.value).endswith("these feeds: http://127.0.0.1/f.rss")


def test_many_feeds_are_cut_short_in_the_message() -> None:
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="/{i}.rss">' for i in range(8)
    )
    with pytest.raises(ParseError) as info:
        parse_feed(
            f"<!doctype html><html><head>{links}</head></html>".encode(), "http://a.example/"
        )
    assert str(info.value).endswith("http://a.example/4.rss and 3 more")


def test_fetched_page_is_reported_with_its_feeds(http: HTTPServer) -> None:
    url = http.route(
        "/news/", Reply(body=PAGE.encode(), headers={"Content-Type": "text/html; charset=utf-8"})
    )

    async def run() -> None:
        async with Fetcher(Connections(2), policy=AddressPolicy.allowing(["127.0.0.1"])) as f:
            result = await f.fetch(url)
        parse_feed(result.body, url, result.content_type)

    with pytest.raises(ParseError) as info:
        asyncio.run(run())
    assert "it advertises these feeds: http://127.0.0.1/news/rss.xml" in str(info.value)
