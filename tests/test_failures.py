"""Bad feeds and dead receivers: reported in one line, nothing lost, nothing sent twice."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from click.testing import CliRunner, Result
from sqlalchemy import select

from monitor.cli import cli
from monitor.store.db import Database
from monitor.store.tables import Feed, Outbox
from tests.helpers import write_config
from tests.servers import HTTPServer, Reply, free_port

T = TypeVar("T", Feed, Outbox)
RULE = {"name": "ceasefire", "keywords": ["ceasefire"], "channels": ["hook"]}


def poll(config: Path) -> Result:
    result = CliRunner().invoke(cli, ["poll", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result


def rows(db_url: str, table: type[T]) -> list[T]:
    db = Database(db_url)
    try:
        with db.transaction() as s:
            return list(s.scalars(select(table).order_by(table.id)))
    finally:
        db.close()


def test_bad_feeds_are_recorded_and_the_others_still_polled(
    tmp_path: Path, db_url: str, http: HTTPServer, receiver: HTTPServer
) -> None:
    good = http.feed("/world.rss", "world.rss")
    sloppy = http.feed("/sloppy.rss", "malformed.rss")
    page = http.feed("/page.html", "not-a-feed.html")
    missing = http.url("/missing.rss")
    dead = f"http://127.0.0.1:{free_port()}/feed.rss"
    receiver.route("/hook", Reply(status=204))
    config = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": u} for u in (page, missing, dead, good, sloppy)],
        rules=[RULE],
        channels={"hook": {"type": "webhook", "url": receiver.url("/hook")}},
    )
    out = poll(config).output
    assert "polled 5 feeds" in out
    assert "3 failed" in out
    assert f"failed: {page}: this is a web page, not a feed, and it advertises no feeds" in out
    assert f"failed: {missing}: the server answered HTTP 404 Not Found" in out
    assert f"failed: {dead}: could not connect" in out

    feeds = {f.url: f for f in rows(db_url, Feed)}
    for url in (page, missing, dead):
        assert feeds[url].consecutive_errors == 1
        assert feeds[url].last_error and "\n" not in feeds[url].last_error
        assert feeds[url].last_success_at is None
    assert feeds[missing].last_error == "the server answered HTTP 404 Not Found"
    for url in (good, sloppy):
        assert feeds[url].last_error is None
        assert feeds[url].last_success_at is not None
    # The good feed and the readable-though-malformed one both alerted.
    titles = sorted(r.json()["entry"]["title"] for r in receiver.received("/hook"))
    assert titles == ["Ceasefire & aid convoy", "Ceasefire talks resume in Geneva"]

    # Errors count up across polls, and a recovered feed clears its error.
    http.feed("/missing.rss", "ukraine.atom")
    poll(config)
    feeds = {f.url: f for f in rows(db_url, Feed)}
    assert feeds[page].consecutive_errors == 2
    assert feeds[missing].consecutive_errors == 0
    assert feeds[missing].last_error is None


def test_dead_webhook_keeps_the_alert_until_it_is_delivered_once(
    tmp_path: Path, db_url: str, http: HTTPServer
) -> None:
    feed = http.feed("/world.rss", "world.rss")
    port = free_port()
    hook = f"http://127.0.0.1:{port}/hook"
    config = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": feed}],
        rules=[RULE],
        channels={"hook": {"type": "webhook", "url": hook}},
    )
    # Connection refused: the alert stays pending with the reason.
    assert "alerts: 0 sent, 1 failed" in poll(config).output
    (row,) = rows(db_url, Outbox)
    assert row.status == "pending"
    assert row.attempts == 1
    assert "could not reach the webhook" in row.last_error

    # The receiver comes back but answers 500 once, then accepts.
    receiver = HTTPServer(port=port).start()
    try:
        receiver.route("/hook", Reply(status=500), Reply(status=204))
        assert "alerts: 0 sent, 1 failed" in poll(config).output
        (row,) = rows(db_url, Outbox)
        assert row.status == "pending"
        assert row.last_error == "the webhook answered HTTP 500 Internal Server Error"
        assert "alerts: 1 sent, 0 failed" in poll(config).output
        assert "alerts: 0 sent, 0 failed" in poll(config).output
        posts = receiver.received("/hook")
        assert len(posts) == 2  # the 500 and the accepted one, with the same id
        assert posts[0].json()["id"] == posts[1].json()["id"]
        (row,) = rows(db_url, Outbox)
        assert row.status == "sent"
        assert row.attempts == 3
        assert row.sent_at is not None
    finally:
        receiver.stop()
