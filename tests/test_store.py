"""Storage on SQLite and PostgreSQL: migrations, the first-poll backlog rule, listing hits."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, select

from monitor.cli import cli
from monitor.store.db import Database, open_database
from monitor.store.tables import Base
from tests.helpers import write_config
from tests.servers import HTTPServer, Reply


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_migrations_create_exactly_the_model(db_url: str) -> None:
    db = open_database(db_url)
    try:
        db.upgrade()  # a second run changes nothing
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert tables >= {"feeds", "entries", "hits", "outbox", "alembic_version"}
    finally:
        db.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'nm.db'}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
    finally:
        db.close()


def test_db_upgrade_command(tmp_path: Path) -> None:
    config = write_config(tmp_path, db_url="sqlite:///nm.db", feeds=[], rules=[])
    out = invoke("db", "upgrade", "--config", str(config))
    assert out == f"database sqlite:///{tmp_path.resolve() / 'nm.db'} is up to date\n"
    assert (tmp_path / "nm.db").exists()


def rss(items: list[tuple[str, str, datetime | None]]) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        + (f"<pubDate>{format_datetime(when)}</pubDate>" if when else "")
        + "</item>"
        for guid, title, when in items
    )
    return f'<rss version="2.0"><channel><title>Backlog</title>{body}</channel></rss>'.encode()


def test_first_poll_alerts_only_the_recent_backlog(
    tmp_path: Path, db_url: str, http: HTTPServer, receiver: HTTPServer
) -> None:
    now = datetime.now(UTC)
    items = [
        ("a", "ceasefire one hour ago", now - timedelta(hours=1)),
        ("b", "ceasefire two days ago", now - timedelta(days=2)),
        ("c", "ceasefire undated", None),
    ]
    feed = http.route("/b.rss", Reply(body=rss(items)))
    receiver.route("/hook", Reply(status=204))
    config = write_config(
        tmp_path,
        db_url=db_url,
        defaults={"backlog_alerts": "24h"},
        feeds=[{"url": feed}],
        rules=[{"name": "c", "keywords": ["ceasefire"], "channels": ["hook"]}],
        channels={"hook": {"type": "webhook", "url": receiver.url("/hook")}},
    )
    invoke("poll", "--config", str(config))
    # Every entry is stored and matched ...
    hits = json.loads(invoke("hits", "--config", str(config), "--format", "json"))
    assert sorted(h["title"] for h in hits) == sorted(t for _, t, _ in items)
    # ... but only the recent, dated one is alerted.
    assert [r.json()["entry"]["title"] for r in receiver.received("/hook")] == [
        "ceasefire one hour ago"
    ]

    # After the first poll every new entry is alerted, old or undated.
    items += [
        ("d", "ceasefire old news", now - timedelta(days=30)),
        ("e", "ceasefire no date", None),
    ]
    http.route("/b.rss", Reply(body=rss(items)))
    invoke("poll", "--config", str(config))
    titles = sorted(r.json()["entry"]["title"] for r in receiver.received("/hook"))
    assert titles == ["ceasefire no date", "ceasefire old news", "ceasefire one hour ago"]


def test_per_feed_backlog_override(tmp_path: Path, http: HTTPServer, receiver: HTTPServer) -> None:
    old = datetime.now(UTC) - timedelta(days=10)
    feed = http.route("/b.rss", Reply(body=rss([("a", "ceasefire", old)])))
    receiver.route("/hook", Reply(status=204))
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        defaults={"backlog_alerts": "1h"},
        feeds=[{"url": feed, "backlog_alerts": "30d"}],
        rules=[{"name": "c", "keywords": ["ceasefire"], "channels": ["hook"]}],
        channels={"hook": {"type": "webhook", "url": receiver.url("/hook")}},
    )
    invoke("poll", "--config", str(config))
    assert len(receiver.received("/hook")) == 1


def test_hits_filters_and_formats(tmp_path: Path, db_url: str, http: HTTPServer) -> None:
    world = http.feed("/world.rss", "world.rss")
    ukraine = http.feed("/ukraine.atom", "ukraine.atom")
    config = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": world, "name": "World Desk"}, {"url": ukraine, "name": "Ukraine Wire"}],
        rules=[
            {"name": "dnipro", "keywords": ["Dnipropetrovsk"]},
            {"name": "ceasefire", "keywords": ["ceasefire", "peace talks"]},
        ],
    )
    invoke("poll", "--config", str(config))
    c = ["--config", str(config)]

    def titles(*args: str) -> list[str]:
        return [h["title"] for h in json.loads(invoke("hits", *c, "--format", "json", *args))]

    everything = json.loads(invoke("hits", *c, "--format", "json"))
    assert len(everything) == 5
    found = [h["found_at"] for h in everything]
    assert found == sorted(found, reverse=True)  # newest first
    assert len(titles("--rule", "dnipro")) == 2
    assert titles("--feed", "World Desk") == titles("--feed", world)
    # The feed's own title (as shown when the config gives no name) finds it too.
    assert titles("--feed", "Ukraine Wire") == titles("--feed", ukraine)
    assert set(titles("--feed", "World Desk")) == {
        "Ceasefire talks resume in Geneva",
        "Dnipropetrovsk football club wins the cup",
    }
    assert len(titles("--limit", "2")) == 2
    assert len(titles("--since", "1h")) == 5
    assert titles("--since", "2999-01-01") == []
    assert len(titles("--since", "2000-01-01")) == 5

    shelling = next(h for h in everything if h["rule"] == "dnipro" and "Shelling" in h["title"])
    assert shelling["terms"] == ["Dnipropetrovsk"]
    assert shelling["feed"] == ukraine
    assert shelling["feed_name"] == "Ukraine Wire"
    assert shelling["published"] == "2026-11-25T11:00:00+00:00"
    assert datetime.fromisoformat(shelling["found_at"]).tzinfo is not None

    rows = list(
        csv.DictReader(io.StringIO(invoke("hits", *c, "--format", "csv", "--rule", "dnipro")))
    )
    assert len(rows) == 2
    assert rows[0]["terms"] == "Dnipropetrovsk"

    table = invoke("hits", *c, "--rule", "ceasefire")
    assert "Peace talks planned for next week" in table

    bad = CliRunner().invoke(cli, ["hits", *c, "--since", "yesterday-ish"])
    assert bad.exit_code == 2
    assert "neither a duration like 2d nor a date" in bad.output


def test_hits_on_an_empty_database(tmp_path: Path) -> None:
    config = write_config(tmp_path, db_url="sqlite:///nm.db", feeds=[], rules=[])
    assert invoke("hits", "--config", str(config)) == "no hits\n"
    assert json.loads(invoke("hits", "--config", str(config), "--format", "json")) == []


def test_unopenable_database_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, db_url="sqlite:///no/such/folder/nm.db", feeds=[], rules=[])
    result = CliRunner().invoke(cli, ["poll", "--config", str(config)])
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"error: the database folder {tmp_path.resolve() / 'no/such/folder'} does not exist"
    )


def test_database_helper_roundtrips_aware_times(db_url: str) -> None:
    db = open_database(db_url)
    try:
        from monitor.store import feeds

        moment = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        with db.transaction() as s:
            feeds.sync(s, [("http://127.0.0.1/x", "X")], moment)
        with db.transaction() as s:
            assert feeds.next_due_at(s) == moment
            assert feeds.claim_due(s, moment - timedelta(seconds=1), moment, "h:1") == []
            (state,) = feeds.claim_due(s, moment, moment + timedelta(minutes=2), "h:1")
            # Claimed: not due again until the claim runs out.
            assert feeds.next_due_at(s) == moment + timedelta(minutes=2)
        assert state.url == "http://127.0.0.1/x"
        with db.transaction() as s:
            feeds.sync(s, [], moment)  # removed from the config: no longer polled
        with db.transaction() as s:
            assert feeds.claim_due(s, moment + timedelta(days=1), moment, "h:1") == []
    finally:
        Database.close(db)


def test_adding_entries_inserts_only_those_not_stored_yet(db_url: str) -> None:
    from monitor.records import ParsedEntry
    from monitor.store import entries, feeds
    from monitor.store.tables import Entry

    moment = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    later = moment + timedelta(hours=1)

    def entry(identity: str, title: str) -> ParsedEntry:
        return ParsedEntry(identity, title, None, None, None, "", "")

    with open_database(db_url) as db:
        with db.transaction() as s:
            feeds.sync(s, [("http://127.0.0.1/a", None), ("http://127.0.0.1/b", None)], moment)
            feed_a, feed_b = feeds.active(s)
            first = entries.add(s, feed_a.id, [entry("x", "first"), entry("y", "y")], moment)
        with db.transaction() as s:
            # x was stored meanwhile (by another poller of the same body): left as it is.
            again = entries.add(s, feed_a.id, [entry("x", "second"), entry("z", "z")], later)
            # The same identity in another feed is another entry.
            other = entries.add(s, feed_b.id, [entry("x", "b's")], later)
        with db.transaction() as s:
            stored = {
                (feed_id, identity): (title, seen)
                for feed_id, identity, title, seen in s.execute(
                    select(Entry.feed_id, Entry.identity, Entry.title, Entry.first_seen_at)
                )
            }
    assert set(first) == {"x", "y"} and set(again) == {"z"} and set(other) == {"x"}
    assert len({*first.values(), *again.values(), *other.values()}) == 4
    assert stored == {
        (feed_a.id, "x"): ("first", moment),
        (feed_a.id, "y"): ("y", moment),
        (feed_a.id, "z"): ("z", later),
        (feed_b.id, "x"): ("b's", later),
    }


def test_an_entry_listed_twice_in_one_feed_is_stored_and_alerted_once(
    tmp_path: Path, http: HTTPServer, receiver: HTTPServer
) -> None:
    now = datetime.now(UTC)
    feed = http.route(
        "/d.rss", Reply(body=rss([("a", "ceasefire first", now), ("a", "ceasefire again", now)]))
    )
    receiver.route("/hook", Reply(status=204))
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        feeds=[{"url": feed}],
        rules=[{"name": "c", "keywords": ["ceasefire"], "channels": ["hook"]}],
        channels={"hook": {"type": "webhook", "url": receiver.url("/hook")}},
    )
    assert "1 new entry," in invoke("poll", "--config", str(config))
    assert [r.json()["entry"]["title"] for r in receiver.received("/hook")] == ["ceasefire first"]


def test_hits_keep_where_the_matched_text_is(tmp_path: Path, db_url: str, http: HTTPServer) -> None:
    ukraine = http.feed("/ukraine.atom", "ukraine.atom")
    config = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": ukraine, "name": "Ukraine Wire"}],
        rules=[{"name": "dnipro", "query": "Dnipropetrovsk -football"}],
    )
    invoke("poll", "--config", str(config))
    c = ["--config", str(config)]
    (hit,) = json.loads(invoke("hits", *c, "--format", "json"))
    start, end = hit["marks"][0]
    assert hit["snippet"][start:end] == "Dnipropetrovsk"
    assert hit["field"] == "title"
    (row,) = csv.DictReader(io.StringIO(invoke("hits", *c, "--format", "csv")))
    assert row["marks"] == f"{start}-{end}"
    table = invoke("hits", *c)
    assert "title: Shelling reported in [Dnipropetrovsk] region" in table


def test_hits_stored_before_marks_existed_read_back_with_none(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from monitor.store import hits
    from monitor.store.db import migrations_folder

    with Database(f"sqlite:///{tmp_path / 'old.db'}") as db:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(migrations_folder()))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO feeds (id, url, active, next_poll_at, consecutive_errors, created_at)"
                " VALUES (1, 'http://127.0.0.1/f', 1, '2026-01-01', 0, '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO entries (id, feed_id, identity, title, summary, content,"
                " first_seen_at) VALUES (1, 1, 'e', 'Kyiv', '', '', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO hits (entry_id, rule, terms, field, snippet, found_at)"
                " VALUES (1, 'r', '[\"Kyiv\"]', 'title', 'Kyiv', '2026-01-01')"
            )
        db.upgrade()
        with db.transaction() as s:
            (m,) = hits.for_entry(s, 1, ["r"])
    assert m.marks == ()
    assert m.snippet == "Kyiv"


def test_schema_head_is_the_newest_migration() -> None:
    # A database at SCHEMA_HEAD is not handed to Alembic at start: a migration added
    # without moving SCHEMA_HEAD would never run.
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from monitor.store.db import SCHEMA_HEAD, migrations_folder

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_folder()))
    assert ScriptDirectory.from_config(cfg).get_heads() == [SCHEMA_HEAD]


def test_sync_adds_renames_pauses_and_brings_back_feeds(db_url: str) -> None:
    from monitor.store import feeds
    from monitor.store.tables import Feed

    t0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    t1, t2 = t0 + timedelta(hours=1), t0 + timedelta(hours=2)
    a, b, c = "http://127.0.0.1/a", "http://127.0.0.1/b", "http://127.0.0.1/c"

    def rows() -> dict[str, tuple[bool, str | None, datetime, datetime | None, datetime | None]]:
        with db.transaction() as s:
            return {
                f.url: (f.active, f.name, f.next_poll_at, f.first_success_at, f.gone_at)
                for f in s.scalars(select(Feed))
            }

    with open_database(db_url) as db:
        with db.transaction() as s:
            feeds.sync(s, [(a, "A"), (b, None)], t0)
        assert rows() == {a: (True, "A", t0, None, None), b: (True, None, t0, None, None)}
        with db.transaction() as s:  # both polled: a later next poll, a first success
            for f in s.scalars(select(Feed)):
                f.next_poll_at, f.first_success_at, f.gone_at = t2, t0, t0
        with db.transaction() as s:  # a renamed, b removed, c added
            feeds.sync(s, [(a, "Alpha"), (c, "C")], t1)
        assert rows() == {
            a: (True, "Alpha", t2, t0, t0),  # its schedule and history kept
            b: (False, None, t2, t0, t0),
            c: (True, "C", t1, None, None),
        }
        with db.transaction() as s:  # b back: its next poll counts as a first one
            feeds.sync(s, [(a, "Alpha"), (b, "B"), (c, "C")], t2)
        assert rows()[b] == (True, "B", t2, None, None)
        assert rows()[a] == (True, "Alpha", t2, t0, t0)
