"""`newsmonitor run` as a real process: polls at once, honours short intervals, stops
cleanly on SIGTERM/SIGINT, and keeps its schedule and its memory across restarts."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.helpers import start_daemon as start
from tests.helpers import stop_daemon as stop
from tests.helpers import write_config
from tests.servers import FEEDS, HTTPServer, Reply, wait_for

NEW_ITEM = b"""    <item>
      <guid isPermaLink="false">world-9</guid>
      <title>Ceasefire agreed at dawn</title>
      <link>http://127.0.0.1/world/9</link>
      <pubDate>Thu, 26 Nov 2026 06:00:00 +0000</pubDate>
    </item>
  </channel>"""


def test_run_polls_sends_and_stops_cleanly(
    tmp_path: Path, db_url: str, http: HTTPServer, receiver: HTTPServer
) -> None:
    feed = http.feed("/world.rss", "world.rss")
    receiver.route("/hook", Reply(status=204))
    config = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": feed, "interval": "1s"}],
        rules=[{"name": "ceasefire", "keywords": ["ceasefire"], "channels": ["hook"]}],
        channels={"hook": {"type": "webhook", "url": receiver.url("/hook")}},
    )
    proc = start(config)
    try:
        # A fresh daemon polls at once and sends the alert within seconds.
        wait_for(lambda: len(receiver.received("/hook")) == 1, what="the first alert")
        # A 1 s interval is honoured: a new entry is alerted soon after it appears.
        body = (FEEDS / "world.rss").read_bytes().replace(b"  </channel>", NEW_ITEM)
        http.route("/world.rss", Reply(body=body, headers={"Content-Type": "application/rss+xml"}))
        wait_for(lambda: len(receiver.received("/hook")) == 2, what="the second alert")
        polls = len(http.received("/world.rss", "GET"))
        wait_for(lambda: len(http.received("/world.rss", "GET")) >= polls + 2, what="more polls")
    finally:
        if proc.poll() is None:
            out = stop(proc, signal.SIGTERM)
    assert "newsmonitor running: 1 feed, 1 rule, 1 channel" in out
    assert "polled 1 feed" in out
    assert "Traceback" not in out
    titles = [r.json()["entry"]["title"] for r in receiver.received("/hook")]
    assert titles == ["Ceasefire talks resume in Geneva", "Ceasefire agreed at dawn"]

    # A restart sends nothing again.
    proc = start(config)
    try:
        seen = len(http.received("/world.rss", "GET"))
        wait_for(
            lambda: len(http.received("/world.rss", "GET")) >= seen + 2, what="polls after restart"
        )
    finally:
        out = stop(proc, signal.SIGTERM)
    assert len(receiver.received("/hook")) == 2
    assert "0 new entries" in out


def test_schedule_survives_a_restart(tmp_path: Path, http: HTTPServer) -> None:
    feed = http.feed("/world.rss", "world.rss")
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        feeds=[{"url": feed, "interval": "1h"}],
        rules=[{"name": "ceasefire", "keywords": ["ceasefire"]}],
    )
    proc = start(config)
    try:
        wait_for(lambda: len(http.received("/world.rss", "GET")) == 1, what="the first poll")
    finally:
        stop(proc, signal.SIGTERM)
    # Restarted: the feed is not due for an hour, so it is not fetched again.
    proc = start(config)
    try:
        wait_for(lambda: proc.poll() is None, what="the daemon")
        with pytest.raises(AssertionError):
            wait_for(lambda: len(http.received("/world.rss", "GET")) > 1, timeout=3, what="no poll")
    finally:
        stop(proc, signal.SIGTERM)


def test_ctrl_c_stops_cleanly(tmp_path: Path, http: HTTPServer) -> None:
    feed = http.feed("/world.rss", "world.rss")
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        feeds=[{"url": feed}],
        rules=[{"name": "ceasefire", "keywords": ["ceasefire"]}],
    )
    proc = start(config)
    wait_for(lambda: len(http.received("/world.rss", "GET")) == 1, what="the first poll")
    out = stop(proc, signal.SIGINT)
    assert "stopping" in out
    assert "Traceback" not in out
