"""The feed list edited in place: ``feeds add``, ``remove``, ``import``, ``export``; the
file keeps its comments and layout, and a running daemon picks the change up on SIGHUP."""

from __future__ import annotations

import json
import os
import signal
import stat
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from monitor import config, opml
from monitor.cli import cli
from monitor.discover import Discovered, decode_page, discover
from monitor.errors import FeedListError
from monitor.feedblocks import LayoutError, NewFeed, add_feeds, remove_feed
from monitor.store import feeds
from monitor.store.db import open_database
from monitor.store.tables import Entry
from tests.helpers import start_daemon, stop_daemon, write_config
from tests.servers import FEEDS, HTTPServer, Reply, wait_for

ROOT = Path(__file__).parent.parent
SHIPPED = (ROOT / "config.toml").read_text(encoding="utf-8")

COMMENTED = """\
# newsmonitor for the desk: comments everywhere, so that edits show what they keep.

[database]
url = "{db}"   # next to this file

[network]
allow = ["127.0.0.1"]

[defaults]
interval = "15m"
backlog_alerts = "3650d"    # the sample entries are old
                            # (a second line for the same key)

# ------------------------------------------------------------------ feeds
# One block per feed.

# The world desk's own feed.
[[feeds]]
url = "{world}"
name = "World Desk"  # shown in alerts
# interval = "5m"   (commented out: the default is fine)

[[feeds]]
url = "{ukraine}"

# ------------------------------------------------------------------ rules
[[rules]]
name = "ceasefire"
keywords = ["ceasefire"]

# the end
"""
RULES_HEADING = "# ------------------------------------------------------------------ rules\n"

PAGE_ONE = b"""<!DOCTYPE html>
<html><head><title>A news site</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" hreflang="uk" href="/uk/">
<link rel="alternate" type="application/rss+xml" title="World news" href="feeds/world.rss">
</head><body><p>Hello</p></body></html>"""

PAGE_TWO = b"""<!DOCTYPE html>
<html><head><title>A news site</title>
<link rel="alternate" type="application/rss+xml" title="World news" href="/world.rss">
<link rel="Alternate" type="application/atom+xml; charset=utf-8" title=Ukraine href=/ukraine.atom>
</head><body></body></html>"""


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result


def commented(tmp_path: Path, http: HTTPServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        COMMENTED.format(
            db=f"sqlite:///{tmp_path / 'nm.db'}",
            world=http.feed("/world.rss", "world.rss"),
            ukraine=http.feed("/ukraine.atom", "ukraine.atom"),
        ),
        encoding="utf-8",
    )
    return path


def plain(tmp_path: Path, *feed_list: dict[str, str]) -> Path:
    return write_config(
        tmp_path, db_url=f"sqlite:///{tmp_path / 'nm.db'}", feeds=list(feed_list), rules=[]
    )


def urls(path: Path) -> list[str]:
    return [f.url for f in config.load(path).feeds]


# -- the file keeps its comments and layout ---------------------------------------------


def test_add_then_remove_keeps_a_commented_config_byte_for_byte(
    tmp_path: Path, http: HTTPServer
) -> None:
    path = commented(tmp_path, http)
    path.chmod(0o640)
    original = path.read_text(encoding="utf-8")
    extra = http.feed("/extra.rss", "world.rss")

    out = run("feeds", "add", extra, "--name", "Extra", "--interval", "1h", "--config", str(path))
    block = f'[[feeds]]\nurl = "{extra}"\nname = "Extra"\ninterval = "1h"\n\n'
    # The new block goes after the last one; the rules' heading stays above the rules.
    assert path.read_text(encoding="utf-8") == original.replace(
        RULES_HEADING, block + RULES_HEADING
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert out.stdout.startswith(
        f'added {extra} as "Extra" to {path} (checked: title "World Desk", 3 entries);'
        " 3 feeds in all\n"
    )
    assert "systemctl reload newsmonitor" in out.stdout
    assert config.load(path).feeds[-1].interval is not None

    out = run("feeds", "remove", "Extra", "--config", str(path))
    assert path.read_text(encoding="utf-8") == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert "stay in the database" in out.stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".config.toml")] == []


def test_removing_a_block_takes_its_own_comments_only(tmp_path: Path, http: HTTPServer) -> None:
    path = commented(tmp_path, http)
    original = path.read_text(encoding="utf-8")
    world, ukraine = urls(path)

    run("feeds", "remove", world, "--config", str(path))
    first_block = (
        "# The world desk's own feed.\n"
        f'[[feeds]]\nurl = "{world}"\nname = "World Desk"  # shown in alerts\n'
        '# interval = "5m"   (commented out: the default is fine)\n\n'
    )
    assert path.read_text(encoding="utf-8") == original.replace(first_block, "")

    run("feeds", "remove", ukraine, "--config", str(path))
    text = path.read_text(encoding="utf-8")
    assert "[[feeds]]" not in text
    assert text == original.replace(first_block, "").replace(
        f'[[feeds]]\nurl = "{ukraine}"\n\n', ""
    )
    assert config.load(path).feeds == ()


def test_the_shipped_config_takes_a_feed_and_gives_it_back(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(SHIPPED, encoding="utf-8")
    url = "https://example.org/news/feed.xml"
    run("feeds", "add", url, "--no-check", "--name", "Example", "--config", str(path))
    text = path.read_text(encoding="utf-8")
    heading = "# ---------------------------------------------------------------------------- rules"
    block = f'[[feeds]]\nurl = "{url}"\nname = "Example"\n\n'
    assert text == SHIPPED.replace(heading, block + heading)
    run("feeds", "remove", url, "--config", str(path))
    assert path.read_text(encoding="utf-8") == SHIPPED
    run("feeds", "remove", "bbc world", "--config", str(path))
    bbc = '[[feeds]]\nurl = "https://feeds.bbci.co.uk/news/world/rss.xml"\nname = "BBC World"\n\n'
    assert path.read_text(encoding="utf-8") == SHIPPED.replace(bbc, "")


FEEDS_FIRST = """\
# Only feeds and a rule.

# The first feed.
[[feeds]]
url = "http://a.example/feed"

# rules
[[rules]]
name = "r"
keywords = ["x"]
"""
NO_FEEDS = """\
[database]
url = "sqlite:///nm.db"   # relative to this file
# a commented-out line at the end
"""
JAMMED = """\
[[feeds]]
url = "http://a.example/feed"
# interval = "1h"
[[feeds]]
url = "http://b.example/feed"
[[rules]]
name = "r"
keywords = ["x"]
"""
BASES = {"shipped": SHIPPED, "feeds first": FEEDS_FIRST, "no feeds": NO_FEEDS, "jammed": JAMMED}

hosts = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True)
paths = st.text(alphabet="abcXYZ019-._~%/?=&${}:@!", max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    base=st.sampled_from(sorted(BASES)),
    scheme=st.sampled_from(["http", "https"]),
    host=hosts,
    port=st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
    path=paths,
    name=st.one_of(st.none(), st.text(max_size=40)),
    interval=st.one_of(st.none(), st.sampled_from(["30s", "15m", "1h30m", "2 D"])),
)
def test_add_then_remove_leaves_the_file_unchanged(
    base: str, scheme: str, host: str, port: str, path: str, name: str | None, interval: str | None
) -> None:
    text = BASES[base]
    url = f"{scheme}://{host}{port}/{path}"
    added = add_feeds(text, [NewFeed(url, name, interval)])
    cfg = config.validate(tomllib.loads(added), source=Path("/nonexistent/config.toml"))
    # What was written reads back as given: "${" is not taken for a variable.
    assert (cfg.feeds[-1].url, cfg.feeds[-1].name) == (url, name)
    assert remove_feed(added, len(cfg.feeds) - 1) == text


def test_several_feeds_are_added_as_blocks_in_a_row() -> None:
    two = [NewFeed("http://n.example/1", "One"), NewFeed("http://n.example/2")]
    added = add_feeds(FEEDS_FIRST, two)
    assert added == FEEDS_FIRST.replace(
        "# rules\n",
        '[[feeds]]\nurl = "http://n.example/1"\nname = "One"\n\n'
        '[[feeds]]\nurl = "http://n.example/2"\n\n# rules\n',
    )
    assert remove_feed(remove_feed(added, 2), 1) == FEEDS_FIRST


def test_a_feed_list_that_cannot_be_edited_safely_is_left_alone(tmp_path: Path) -> None:
    inline = 'feeds = [{url = "http://a.example/"}]\n[database]\nurl = "sqlite:///nm.db"\n'
    scattered = (
        '[[feeds]]\nurl = "http://a.example/"\n[retention]\nhits = "30d"\n'
        '[[feeds]]\nurl = "http://b.example/"\n'
    )
    for text, why in ((inline, "inline array"), (scattered, "all the .*feeds.* blocks in one")):
        with pytest.raises(LayoutError, match=why):
            add_feeds(text, [NewFeed("http://n.example/")])
    path = tmp_path / "config.toml"
    path.write_text(scattered, encoding="utf-8")
    out = run("feeds", "remove", "http://b.example/", "--config", str(path), code=2)
    assert "put all the [[feeds]] blocks in one place" in out.stderr
    assert path.read_text(encoding="utf-8") == scattered


def test_the_edit_follows_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    real.write_text(NO_FEEDS, encoding="utf-8")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    run("feeds", "add", "http://n.example/feed", "--no-check", "--config", str(link))
    assert link.is_symlink()
    assert urls(real) == ["http://n.example/feed"]


# -- feeds add: checked by fetching, discovered on pages --------------------------------


def test_add_fetches_the_feed_once_to_check_it(tmp_path: Path, http: HTTPServer) -> None:
    world = http.feed("/world.rss", "world.rss")
    path = plain(tmp_path)
    out = run("--config", str(path), "feeds", "add", world)  # --config before the command
    assert f'added {world} to {path} (checked: title "World Desk", 3 entries)' in out.stdout
    assert urls(path) == [world]
    assert config.load(path).feeds[0].name is None
    assert len(http.received("/world.rss", "GET")) == 1


def test_add_no_check_does_not_fetch(tmp_path: Path, http: HTTPServer) -> None:
    url = http.url("/not-yet.rss")
    path = plain(tmp_path)
    out = run("feeds", "--config", str(path), "add", url, "--no-check")
    assert "(not checked)" in out.stdout
    assert urls(path) == [url]
    assert http.requests == []


def test_add_finds_the_one_feed_a_page_advertises(tmp_path: Path, http: HTTPServer) -> None:
    http.route("/home", Reply(status=301, headers={"Location": "/site/"}))
    http.route("/site/", Reply(body=PAGE_ONE, headers={"Content-Type": "text/html"}))
    feed = http.feed("/site/feeds/world.rss", "world.rss")
    path = plain(tmp_path)
    # Relative to the page it came from, after the redirect.
    out = run("feeds", "add", http.url("/home"), "--name", "World", "--config", str(path))
    assert f"found {feed} on {http.url('/home')}" in out.stdout
    assert urls(path) == [feed]
    assert config.load(path).feeds[0].name == "World"


def test_a_page_with_several_feeds_lists_them_and_changes_nothing(
    tmp_path: Path, http: HTTPServer
) -> None:
    page = http.route("/", Reply(body=PAGE_TWO, headers={"Content-Type": "text/html"}))
    path = plain(tmp_path)
    before = path.read_text(encoding="utf-8")
    out = run("feeds", "add", page, "--config", str(path), code=1)
    assert out.stdout.splitlines() == [
        f"{http.url('/world.rss')}  (RSS)  World news",
        f"{http.url('/ukraine.atom')}  (Atom)  Ukraine",
    ]
    assert f"error: {page} advertises 2 feeds; add one of them" in out.stderr
    assert path.read_text(encoding="utf-8") == before


def test_add_refuses_a_listed_feed_and_what_is_not_a_feed(tmp_path: Path, http: HTTPServer) -> None:
    world = http.feed("/world.rss", "world.rss")
    http.feed("/page.html", "not-a-feed.html", **{"Content-Type": "text/html"})
    http.feed("/entities.rss", "entities.rss")
    http.route("/news/", Reply(body=PAGE_TWO.replace(b"/ukraine.atom", b"/world.rss")))
    path = plain(tmp_path, {"url": world, "name": "World Desk"})
    before = path.read_text(encoding="utf-8")
    for url, code, message in [
        (world, 1, f'{world} ("World Desk") is already in {path}.'),
        (world.replace("http://", "HTTP://"), 1, "is already in"),
        (http.url("/news/"), 1, f'{world} ("World Desk") is already in'),  # discovered
        (http.url("/page.html"), 1, "is neither a feed nor a page that advertises one"),
        (http.url("/missing.rss"), 1, "the server answered HTTP 404 Not Found."),
        (http.url("/entities.rss"), 1, "declares XML entities"),
        ("ftp://127.0.0.1/feed", 2, "is not an http:// or https:// URL"),
    ]:
        out = run("feeds", "add", url, "--config", str(path), code=code)
        assert message in out.stderr, url
        assert path.read_text(encoding="utf-8") == before
    assert len(http.received("/world.rss", "GET")) == 0  # a listed URL is not even fetched


def test_interval_is_checked_before_anything_is_fetched(tmp_path: Path, http: HTTPServer) -> None:
    path = plain(tmp_path)
    out = run(
        "feeds", "add", http.url("/x.rss"), "--interval", "soon", "--config", str(path), code=2
    )
    assert "'soon' is not a duration" in out.stderr
    assert http.requests == []


# -- feeds remove --------------------------------------------------------------------------


def test_remove_by_url_and_by_name_keeps_the_stored_entries(
    tmp_path: Path, http: HTTPServer
) -> None:
    world = http.feed("/world.rss", "world.rss")
    ukraine = http.feed("/ukraine.atom", "ukraine.atom")
    path = plain(tmp_path, {"url": world, "name": "World Desk"}, {"url": ukraine})
    run("poll", "--config", str(path))

    out = run("feeds", "remove", "world desk", "--config", str(path))
    assert out.stdout.splitlines()[:2] == [
        f'removed {world} ("World Desk") from {path}',
        "its stored entries and hits stay in the database",
    ]
    run("feeds", "remove", ukraine.replace("http://", "HTTP://"), "--config", str(path))
    assert urls(path) == []
    out = run("feeds", "remove", "World Desk", "--config", str(path), code=1)
    assert "no feed in the config has the URL or name 'World Desk'." in out.stderr
    with open_database(f"sqlite:///{tmp_path / 'nm.db'}") as db, db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Entry)) == 6


def test_a_name_two_feeds_share_needs_a_url(tmp_path: Path) -> None:
    a, b = "http://a.example/feed", "http://b.example/feed"
    path = plain(tmp_path, {"url": a, "name": "Desk"}, {"url": b, "name": "desk"})
    out = run("feeds", "remove", "Desk", "--config", str(path), code=1)
    assert f"2 feeds are named 'Desk' ({a}, {b}): give a URL." in out.stderr
    run("feeds", "remove", b, "--config", str(path))
    assert urls(path) == [a]


# -- feeds import and export --------------------------------------------------------------


def test_import_a_nested_opml_file_with_duplicates(tmp_path: Path) -> None:
    opml_file = FEEDS / "subscriptions.opml"
    path = plain(tmp_path, {"url": "http://127.0.0.1:8000/ukraine.atom"})
    before = path.read_text(encoding="utf-8")

    out = run("feeds", "import", str(opml_file), "--dry-run", "--config", str(path))
    assert out.stdout.splitlines() == [
        "would add http://127.0.0.1:8000/world.rss  World Desk",
        "would add http://127.0.0.1:8000/kyiv.rss  Kyiv & region",
        "skipped gopher://127.0.0.1/1/news: not an http:// or https:// URL",
        "would add 2 feeds, 2 already there, 1 skipped without xmlUrl, 1 skipped as not"
        f" http(s) ({path} not changed)",
    ]
    assert path.read_text(encoding="utf-8") == before

    out = run("feeds", "import", str(opml_file), "--config", str(path))
    assert "added 2 feeds, 2 already there, 1 skipped without xmlUrl" in out.stdout
    cfg = config.load(path)
    assert [(f.url, f.name) for f in cfg.feeds] == [
        ("http://127.0.0.1:8000/ukraine.atom", None),
        ("http://127.0.0.1:8000/world.rss", "World Desk"),
        ("http://127.0.0.1:8000/kyiv.rss", "Kyiv & region"),
    ]
    assert path.read_text(encoding="utf-8").startswith(before)

    out = run("feeds", "import", str(opml_file), "--config", str(path))
    assert "added 0 feeds, 4 already there" in out.stdout


def test_opml_1_0_titles_and_texts() -> None:
    listed = opml.read_opml((FEEDS / "subscriptions-1.0.opml").read_bytes(), "old.opml")
    assert listed == opml.OpmlList(
        feeds=(
            opml.OpmlFeed("http://127.0.0.1:8000/cafe.rss", "Café news"),
            opml.OpmlFeed("http://127.0.0.1:8000/text.rss", "Only text"),
        ),
        without_url=0,
    )


def test_an_opml_file_declaring_entities_is_refused(tmp_path: Path) -> None:
    path = plain(tmp_path)
    before = path.read_text(encoding="utf-8")
    out = run("feeds", "import", str(FEEDS / "entities.opml"), "--config", str(path), code=1)
    assert "declares or refers to XML entities, which are refused." in out.stderr
    assert path.read_text(encoding="utf-8") == before
    external = b'<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]><opml><body/></opml>'
    for data, message in [
        (external, "entities"),
        (b"<rss><channel/></rss>", "is not an OPML file"),
        (b"<opml><body>", "is not well-formed XML"),
    ]:
        with pytest.raises(FeedListError, match=message):
            opml.read_opml(data, "x.opml")


def test_export_reads_back_with_names_and_stored_titles(tmp_path: Path, http: HTTPServer) -> None:
    world = http.feed("/world.rss", "world.rss")
    ukraine = http.feed("/ukraine.atom", "ukraine.atom")
    missing = http.url("/missing.rss")
    path = plain(
        tmp_path, {"url": world, "name": "My <World> & co"}, {"url": ukraine}, {"url": missing}
    )
    run("poll", "--config", str(path))  # stores the feeds' own titles

    out = run("feeds", "export", "--config", str(path))
    assert out.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    listed = opml.read_opml(out.stdout.encode(), "stdout")
    assert listed.feeds == (
        opml.OpmlFeed(world, "My <World> & co"),
        opml.OpmlFeed(ukraine, "Ukraine Wire"),
        opml.OpmlFeed(missing, missing),  # no title anywhere: the URL is its text
    )

    target = tmp_path / "feeds.opml"
    out = run("feeds", "export", "--output", str(target), "--config", str(path))
    assert out.stdout == f"exported 3 feeds to {target}\n"
    other = tmp_path / "other"
    other.mkdir()
    fresh = plain(other)
    run("feeds", "import", str(target), "--config", str(fresh))
    assert [(f.url, f.name) for f in config.load(fresh).feeds] == [
        (world, "My <World> & co"),
        (ukraine, "Ukraine Wire"),
        (missing, None),
    ]


def test_write_opml_is_opml_2_0() -> None:
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    text = opml.write_opml([("http://a.example/feed?x=1&y=2", None)], now)
    assert "<dateCreated>Wed, 25 Nov 2026 08:00:00 +0000</dateCreated>" in text
    assert 'xmlUrl="http://a.example/feed?x=1&amp;y=2"' in text
    assert opml.read_opml(text.encode(), "x").feeds[0].url == "http://a.example/feed?x=1&y=2"


# -- discovery (pure) ----------------------------------------------------------------------


def test_discover_reads_alternate_links() -> None:
    html = """<html><head>
      <base href="/base/">
      <link rel="alternate" type="application/rss+xml" href="rss.xml" title="  Posts
        and news ">
      <link rel="alternate nofollow" type="APPLICATION/ATOM+XML" href="https://other.example/a">
      <link rel="alternate" type="application/feed+json" href="feed.json">
      <link rel="alternate" type="application/rss+xml" href="rss.xml">
      <link rel="alternate" type="text/html" href="/en/">
      <link rel="feed" type="application/rss+xml" href="/not-alternate.xml">
      <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
      <link rel="alternate" type="application/rss+xml">
    </head></html>"""
    assert discover(html, "https://news.example/section/page.html") == [
        Discovered("https://news.example/base/rss.xml", "application/rss+xml", "Posts and news"),
        Discovered("https://other.example/a", "application/atom+xml"),
        Discovered("https://news.example/base/feed.json", "application/feed+json"),
    ]
    assert [d.kind for d in discover(html, "https://news.example/")] == ["RSS", "Atom", "JSON Feed"]
    assert discover("<p>no head at all", "https://news.example/") == []


def test_decode_page_uses_the_declared_charset() -> None:
    body = '<meta charset="windows-1251"><link title="Новини">'.encode("cp1251")
    assert "Новини" in decode_page(body, "text/html")
    assert "Новини" in decode_page(body, "text/html; charset=windows-1251")
    assert decode_page(b"\xff<p>", "text/html; charset=no-such-codec").endswith("<p>")


# -- feeds (the list) ----------------------------------------------------------------------


def test_feeds_lists_entries_per_day(tmp_path: Path, db_url: str, http: HTTPServer) -> None:
    world = http.feed("/world.rss", "world.rss")
    path = write_config(
        tmp_path, db_url=db_url, feeds=[{"url": world, "name": "World Desk"}], rules=[]
    )
    run("poll", "--config", str(path))
    (record,) = json.loads(run("feeds", "--format", "json", "--config", str(path)).stdout)
    assert set(record) >= {"url", "name", "status", "entries", "entries_per_day"}
    assert "a day" in run("feeds", "--config", str(path)).stdout
    # The sample entries were published on 25 November 2026: 3 in the week after.
    with open_database(db_url) as db, db.transaction() as s:
        (week,) = feeds.overview(s, datetime(2026, 11, 28, tzinfo=UTC))
        (later,) = feeds.overview(s, datetime(2026, 12, 10, tzinfo=UTC))
        (plain_overview,) = feeds.overview(s)
    assert (week.entries, week.entries_per_day) == (3, 0.4)
    assert later.entries_per_day == 0
    assert plain_overview.entries_per_day is None


# -- a running daemon ----------------------------------------------------------------------


def test_a_running_daemon_polls_a_feed_added_while_it_runs(
    tmp_path: Path, http: HTTPServer
) -> None:
    first = http.feed("/world.rss", "world.rss")
    added = http.feed("/ukraine.atom", "ukraine.atom")
    path = plain(tmp_path, {"url": first, "interval": "1s"})
    proc = start_daemon(path)
    try:
        wait_for(lambda: len(http.received("/world.rss", "GET")) >= 1, what="the first poll")
        run("feeds", "add", added, "--interval", "1s", "--config", str(path))
        assert len(http.received("/ukraine.atom", "GET")) == 1  # the check, not the daemon
        os.kill(proc.pid, signal.SIGHUP)
        wait_for(
            lambda: len(http.received("/ukraine.atom", "GET")) >= 3, what="the new feed polled"
        )
    finally:
        out = stop_daemon(proc)
    assert "reloaded" in out
