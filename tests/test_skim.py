"""Skimming known entries out before feedparser: never a new entry lost, never one
changed; what is cut is only what was known."""

from __future__ import annotations

from collections import Counter
from html import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.parse import parse_feed
from monitor.records import ParsedFeed
from monitor.skim import skip_known
from tests.servers import FEEDS

URL = "http://127.0.0.1/feed"
# (entities.rss is refused whole, before any skimming.)
XML_FEEDS = sorted(
    p for p in FEEDS.iterdir() if p.suffix in (".rss", ".atom") and p.stem != "entities"
)


def check(body: bytes, known: frozenset[str]) -> ParsedFeed:
    """The skimmed parse against the whole one: the same entries, less only known ones."""
    whole = parse_feed(body, URL, None)
    skimmed = parse_feed(body, URL, None, known)
    left = Counter(skimmed.entries)
    for entry in whole.entries:
        if left[entry]:
            left[entry] -= 1
        else:  # not read: it must have been known, and said so
            assert entry.identity in known
    assert not +left, "the skimmed parse has entries the whole one has not"
    cut = Counter(skimmed.skipped)
    assert cut == Counter(e.identity for e in whole.entries) - Counter(
        e.identity for e in skimmed.entries
    )
    assert (skimmed.title, skimmed.ttl_minutes, skimmed.problem) == (
        whole.title,
        whole.ttl_minutes,
        whole.problem,
    )
    return skimmed


def test_every_sample_feed_with_all_but_its_first_entry_known() -> None:
    assert XML_FEEDS
    for path in XML_FEEDS:
        body = path.read_bytes()
        entries = parse_feed(body, URL, None).entries
        known = frozenset(e.identity for e in entries[1:])
        skimmed = check(body, known)
        if entries and path.stem in ("world",):
            assert skimmed.skipped, "nothing was cut from a plain RSS feed"


def test_rss_and_atom_items_with_known_guids_are_cut() -> None:
    rss = _rss([_item("a"), _item("b"), _item("c")])
    skimmed = check(rss, frozenset({"a", "c"}))
    assert [e.identity for e in skimmed.entries] == ["b"]
    assert skimmed.skipped == ("a", "c")
    atom = _atom(["urn:a", "urn:b"])
    skimmed = check(atom, frozenset({"urn:b"}))
    assert [e.identity for e in skimmed.entries] == ["urn:a"]
    assert skimmed.skipped == ("urn:b",)


def test_doubtful_items_are_read_whole() -> None:
    known = frozenset({"a", "http://127.0.0.1/a"})
    two_ids = _rss(["<item><guid>a</guid><guid>b</guid><title>t</title></item>"])
    assert skip_known(two_ids, known) == (two_ids, ())
    no_guid = _rss(["<item><link>http://127.0.0.1/a</link><title>t</title></item>"])
    assert skip_known(no_guid, known) == (no_guid, ())
    marked_up = _rss(["<item><guid>a<b>x</b></guid></item>"])
    assert skip_known(marked_up, known) == (marked_up, ())
    based = _rss([_item("a")]).replace(b"<channel>", b'<channel xml:base="http://x/">')
    assert skip_known(based, known) == (based, ())
    broken = _rss([_item("a")])[:-20]
    assert skip_known(broken, known) == (broken, ())


_GUID = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=12
)


@settings(max_examples=150, deadline=None)
@given(
    guids=st.lists(_GUID, min_size=0, max_size=8),
    known_mask=st.lists(st.booleans(), min_size=8, max_size=8),
    cdata=st.booleans(),
    atom=st.booleans(),
)
def test_skimmed_parse_equals_whole_parse_less_known(
    guids: list[str], known_mask: list[bool], cdata: bool, atom: bool
) -> None:
    body = _atom(guids, cdata) if atom else _rss([_item(g, cdata) for g in guids])
    whole = parse_feed(body, URL, None).entries
    known = frozenset(e.identity for e, k in zip(whole, known_mask, strict=False) if k)
    check(body, known)


def _text(value: str, cdata: bool) -> str:
    if cdata and "]]>" not in value:
        return f"<![CDATA[{value}]]>"
    return escape(value, quote=False)


def _item(guid: str, cdata: bool = False) -> str:
    return (
        f"<item><title>Title {escape(guid)}</title><guid>{_text(guid, cdata)}</guid>"
        f"<description>&lt;p&gt;About {escape(guid)}&lt;/p&gt;</description></item>"
    )


def _rss(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Feed</title><link>http://127.0.0.1/</link><ttl>30</ttl>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _atom(ids: list[str], cdata: bool = False) -> bytes:
    entries = "".join(
        f"<entry><id>{_text(i, cdata)}</id><title>Title {escape(i)}</title>"
        "<updated>2026-11-26T10:00:00Z</updated></entry>"
        for i in ids
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Feed</title><id>urn:feed</id><updated>2026-11-26T10:00:00Z</updated>{entries}"
        "</feed>"
    ).encode()
