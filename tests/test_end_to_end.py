"""The whole pipeline through the CLI: real feeds over HTTP, real SMTP, a real webhook receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.deliver.routing import alert_id
from tests.helpers import write_config
from tests.servers import FEEDS, HTTPServer, Reply, SMTPServer

RULES = [
    {
        "name": "dnipro",
        "keywords": ["Dnipropetrovsk"],
        "exclude": ["football"],
        "channels": ["mail", "hook"],
    },
    {"name": "ceasefire", "keywords": ["ceasefire", '"peace talks"'], "channels": ["mail", "hook"]},
]

EXTRA_ITEM = b"""    <item>
      <guid isPermaLink="false">world-4</guid>
      <title>New ceasefire proposal tabled</title>
      <link>http://127.0.0.1/world/4</link>
      <pubDate>Thu, 26 Nov 2026 08:00:00 +0000</pubDate>
      <description>A fresh proposal.</description>
    </item>
  </channel>"""


def poll(config: Path) -> Result:
    result = CliRunner().invoke(cli, ["poll", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def setup(
    tmp_path: Path, db_url: str, http: HTTPServer, receiver: HTTPServer, smtp: SMTPServer
) -> Path:
    world = http.feed("/world.rss", "world.rss")
    ukraine = http.feed("/ukraine.atom", "ukraine.atom")
    receiver.route("/hook", Reply(status=204))
    return write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": world, "name": "World Desk"}, {"url": ukraine}],
        rules=RULES,
        channels={
            "mail": {
                "type": "email",
                "host": "127.0.0.1",
                "port": smtp.port,
                "security": "none",
                "from": "newsmonitor <alerts@example.org>",
                "to": ["desk@example.org"],
            },
            "hook": {"type": "webhook", "url": receiver.url("/hook"), "headers": {"X-Token": "t0"}},
        },
    )


@pytest.mark.parametrize("parse_workers", ["auto", 1])
def test_poll_stores_hits_and_sends_each_alert_once(
    setup: Path,
    http: HTTPServer,
    receiver: HTTPServer,
    smtp: SMTPServer,
    parse_workers: str | int,
) -> None:
    # "auto" parses this light load in a thread, matching in the daemon's process; a
    # worker process matches what it parses, and the daemon stores only what is new.
    setup.write_text(setup.read_text() + f"[performance]\nparse_workers = {parse_workers!r}\n")
    out = poll(setup).output
    assert "polled 2 feeds" in out
    assert "alerts: 6 sent, 0 failed" in out

    posts = receiver.received("/hook")
    assert len(posts) == 3
    by_title = {p.json()["entry"]["title"]: p.json() for p in posts}
    assert set(by_title) == {
        "Ceasefire talks resume in Geneva",
        "Shelling reported in Dnipropetrovsk region",
        "Peace talks planned for next week",
    }
    shelling = by_title["Shelling reported in Dnipropetrovsk region"]
    # One alert per entry and channel, naming every rule that matched.
    assert [(m["rule"], m["terms"]) for m in shelling["matches"]] == [
        ("dnipro", ["Dnipropetrovsk"]),
        ("ceasefire", ["ceasefire"]),
    ]
    ukraine_url = http.url("/ukraine.atom")
    assert shelling["id"] == alert_id(ukraine_url, "urn:sample:ukraine:1", "hook")
    assert shelling["entry"] == {
        "id": "urn:sample:ukraine:1",
        "title": "Shelling reported in Dnipropetrovsk region",
        "link": "http://127.0.0.1/ukraine/1",
        "published": "2026-11-25T11:00:00+00:00",
        "author": "Олена Коваль",
    }
    # No name in the config: the feed's own title names it.
    assert shelling["feed"] == {"url": ukraine_url, "name": "Ukraine Wire"}
    assert "Dnipropetrovsk" in shelling["matches"][0]["snippet"]
    assert shelling["detected_at"].endswith("+00:00")
    peace = by_title["Peace talks planned for next week"]
    assert peace["matches"][0]["terms"] == ["peace talks"]
    for p in posts:
        assert p.headers["content-type"] == "application/json"
        assert p.headers["x-token"] == "t0"
        assert p.headers["idempotency-key"] == p.json()["id"]

    assert len(smtp.messages) == 3
    subjects = sorted(str(m["Subject"]) for _, _, m in smtp.messages)
    assert subjects == [
        "[ceasefire] Ceasefire talks resume in Geneva",
        "[ceasefire] Peace talks planned for next week",
        "[dnipro, ceasefire] Shelling reported in Dnipropetrovsk region",
    ]
    for sender, rcpts, msg in smtp.messages:
        assert sender == "alerts@example.org"
        assert rcpts == ["desk@example.org"]
        assert msg["Date"] and msg["Message-ID"]
        assert msg.is_multipart()
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        assert text is not None and html is not None

    # Nothing new on a second poll, nor after a restart (a new process is a new CliRunner run).
    out = poll(setup).output
    assert "0 new entries" in out and "alerts: 0 sent" in out
    assert len(receiver.received("/hook")) == 3
    assert len(smtp.messages) == 3

    # One new matching entry gives exactly one more alert per channel.
    body = (FEEDS / "world.rss").read_bytes().replace(b"  </channel>", EXTRA_ITEM)
    http.route("/world.rss", Reply(body=body, headers={"Content-Type": "application/rss+xml"}))
    out = poll(setup).output
    assert "1 new entry," in out and "alerts: 2 sent" in out
    posts = receiver.received("/hook")
    assert len(posts) == 4
    assert posts[-1].json()["entry"]["title"] == "New ceasefire proposal tabled"
    assert len(smtp.messages) == 4
    assert str(smtp.messages[-1][2]["Subject"]) == "[ceasefire] New ceasefire proposal tabled"


def test_hits_lists_what_was_found(setup: Path) -> None:
    poll(setup)
    result = CliRunner().invoke(cli, ["hits", "--config", str(setup), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 4
    assert {(r["rule"], r["title"]) for r in rows} == {
        ("ceasefire", "Ceasefire talks resume in Geneva"),
        ("dnipro", "Shelling reported in Dnipropetrovsk region"),
        ("ceasefire", "Shelling reported in Dnipropetrovsk region"),
        ("ceasefire", "Peace talks planned for next week"),
    }
    for r in rows:
        wanted = "id rule terms snippet title link published feed feed_name found_at".split()
        assert set(r) >= set(wanted)
