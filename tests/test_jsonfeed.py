"""JSON Feed 1.0 and 1.1, chosen by Content-Type or by a body starting with ``{``."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import ParseError
from monitor.jsonfeed import parse_json_feed
from monitor.parse import parse_feed
from monitor.records import ParsedFeed
from tests.servers import FEEDS

URL = "http://127.0.0.1/json/feed.json"


def sample(name: str, content_type: str | None = "application/feed+json") -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), URL, content_type)


def test_json_feed_1_1() -> None:
    feed = sample("jsonfeed-1.1.json")
    assert feed.title == "Kyiv Wire (JSON Feed 1.1)"
    assert feed.problem is None
    first, second, third = feed.entries
    assert first.identity == "json-1"
    assert first.title == "Shelling reported in Dnipropetrovsk region"
    assert first.link == "http://127.0.0.1/json/1"
    assert first.author == "Олена Коваль, Anna Reporter"
    # date_published wins over date_modified, and is UTC.
    assert first.published == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    assert first.summary == "Officials said the ceasefire was broken overnight."
    assert first.content == (
        "Officials in Dnipropetrovsk said the ceasefire was broken overnight."
        " Дніпропетровська область."
    )
    assert first.categories == ("war", "Dnipro")
    # A numeric id is the same id; a relative url is resolved; the feed's author counts.
    assert second.identity == "2"
    assert second.link == "http://127.0.0.1/json/2"
    assert second.author == "Kyiv Wire desk"
    assert second.published == datetime(2026, 11, 25, 11, 30, tzinfo=UTC)
    assert second.summary == "Diplomats confirmed the date of the peace-talks round."
    assert second.content == ""
    assert third.title == ""
    assert third.link is None
    assert third.published is None


def test_json_feed_1_0() -> None:
    feed = sample("jsonfeed-1.0.json")
    assert feed.title == "World Desk (JSON Feed 1.0)"
    first, second = feed.entries
    assert first.identity == "http://127.0.0.1/world/1"
    assert first.author == "Anna Reporter"
    assert second.author == "World Desk"
    assert first.summary == "Negotiators met again on Wednesday to discuss a ceasefire."
    assert first.published == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "text/plain", "application/xml", "text/html"]
)
def test_chosen_by_the_body_whatever_the_content_type(content_type: str | None) -> None:
    feed = sample("jsonfeed-1.1.json", content_type)
    assert [e.identity for e in feed.entries] == ["json-1", "2", "json-3"]


def test_json_content_type_with_a_body_that_is_not_json() -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(b"[1, 2", URL, "application/feed+json")
    assert "not valid JSON" in str(info.value)


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({}, "not a JSON Feed"),
        ({"version": "1.1", "items": []}, "not a JSON Feed"),
        ({"version": "https://jsonfeed.org/version/1.1"}, "no list of items"),
        ({"version": "https://jsonfeed.org/version/1.1", "items": {}}, "no list of items"),
    ],
)
def test_not_a_json_feed(document: dict[str, Any], words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(json.dumps(document).encode(), URL)
    assert words in str(info.value)
    assert info.value.url == URL


def test_wrong_types_are_absent_values() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1",
        "title": ["not", "text"],
        "author": "not an object",
        "items": [
            "not an item",
            {
                "id": True,
                "url": 5,
                "title": {"x": 1},
                "summary": None,
                "date_published": 20261125,
                "authors": "nobody",
                "tags": "one",
            },
            {"id": "ok", "title": "Fine\u0007\nline", "url": "http://[::1"},
        ],
    }
    feed = parse_json_feed(json.dumps(document), URL)
    assert feed.title is None
    odd, fine = feed.entries
    assert odd.identity.startswith("sha256:")
    assert (odd.title, odd.link, odd.author, odd.published, odd.categories) == (
        "",
        None,
        None,
        None,
        (),
    )
    assert fine.title == "Fine line"
    assert fine.link is None


def test_deep_nesting_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_json_feed("[" * 100_000 + "]" * 100_000, URL)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
item_keys = st.sampled_from(
    [
        "id",
        "url",
        "title",
        "summary",
        "content_html",
        "content_text",
        "date_published",
        "date_modified",
        "author",
        "authors",
        "tags",
    ]
)
feed_like = st.fixed_dictionaries(
    {
        "version": st.sampled_from(
            ["https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1", "x"]
        ),
        "items": st.lists(
            st.dictionaries(item_keys, json_values, max_size=8) | json_values, max_size=4
        )
        | json_values,
    },
    optional={"title": json_values, "authors": json_values, "author": json_values},
)
SLOW = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(st.one_of(json_values, feed_like))
def test_random_json_raises_only_parse_error(document: Any) -> None:
    try:
        feed = parse_json_feed(json.dumps(document), URL)
    except ParseError as exc:
        message = str(exc)
        assert message and "\n" not in message
        return
    for entry in feed.entries:
        assert entry.identity
        assert "\n" not in entry.title + entry.summary + entry.content
        assert entry.published is None or entry.published.utcoffset() is not None


@SLOW
@given(st.text(max_size=300))
def test_random_text_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_json_feed(text, URL)
