"""The outbox on SQLite and PostgreSQL: leased claims, so two senders never take one alert."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import RuleConfig
from monitor.connections import Connections
from monitor.fetch import Fetcher, FetchLimits
from monitor.match import compile_rules
from monitor.netguard import AddressPolicy
from monitor.pipeline import FeedSettings, Poller, poll_feed
from monitor.records import ParsedEntry, RuleMatch
from monitor.store import entries, feeds, hits, outbox
from monitor.store.batch import GroupCommit
from monitor.store.db import Database, open_database
from monitor.store.tables import Feed, Outbox
from tests.helpers import write_config
from tests.servers import HTTPServer, Reply

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


def queue_one(db: Database) -> None:
    with db.transaction() as s:
        feeds.sync(s, [("http://127.0.0.1/feed", "Feed")], NOW)
        (feed,) = feeds.active(s)
        entry = ParsedEntry("e1", "Ceasefire", None, None, NOW, "", "")
        (row_id,) = entries.add(s, feed.id, [entry], NOW).values()
        hits.add(s, [(row_id, [RuleMatch("c", ("ceasefire",), "title", "Ceasefire")])], NOW)
        outbox.add(s, row_id, "hook", ["c"], "id-1", NOW)


def claim(db: Database, now: datetime, ignore_delay: bool = False) -> list[str]:
    with db.transaction() as s:
        return [
            a.alert_id for a in outbox.claim(s, now, LEASE, held=False, ignore_delay=ignore_delay)
        ]


def test_a_claimed_alert_is_not_taken_again_until_its_lease_ends(db: Database) -> None:
    queue_one(db)
    assert claim(db, NOW) == ["id-1"]
    # Another sender (a `poll` beside the daemon) finds nothing, even ignoring delays.
    assert claim(db, NOW + timedelta(seconds=1), ignore_delay=True) == []
    # A sender that died mid-send: once the lease ends the alert goes out again.
    assert claim(db, NOW + LEASE + timedelta(seconds=1)) == ["id-1"]


def test_outcomes_release_the_claim(db: Database) -> None:
    queue_one(db)
    with db.transaction() as s:
        (alert,) = outbox.claim(s, NOW, LEASE, held=False)
        assert alert.matches == (RuleMatch("c", ("ceasefire",), "title", "Ceasefire"),)
    with db.transaction() as s:
        outbox.mark_retry(s, [alert.outbox_id], "refused", NOW + timedelta(seconds=30))
    assert claim(db, NOW + timedelta(seconds=10)) == []  # waiting for its retry time
    assert claim(db, NOW + timedelta(seconds=10), ignore_delay=True) == ["id-1"]
    with db.transaction() as s:
        outbox.mark_sent(s, [alert.outbox_id], NOW + timedelta(seconds=11), alert.alert_id)
    assert claim(db, NOW + timedelta(days=1), ignore_delay=True) == []
    with db.transaction() as s:
        row = s.get_one(Outbox, alert.outbox_id)
        assert (row.status, row.attempts, row.claimed_until) == ("sent", 2, None)
        assert outbox.count_by_status(s) == {"sent": 1}


def test_a_feed_added_back_is_held_to_the_backlog_again(db: Database) -> None:
    with db.transaction() as s:
        feeds.sync(s, [("http://127.0.0.1/feed", None)], NOW)
        (feed,) = feeds.active(s)
        feeds.mark_success(s, feed.id, NOW, NOW + timedelta(minutes=5), None, None)
    with db.transaction() as s:
        feeds.sync(s, [], NOW)  # removed from the config
    with db.transaction() as s:
        assert feeds.active(s) == []
        feeds.sync(s, [("http://127.0.0.1/feed", None)], NOW + timedelta(days=3))
    with db.transaction() as s:
        (feed,) = feeds.active(s)
        assert feed.first_success_at is None


class _Broken:
    def match(self, entry: ParsedEntry) -> list[RuleMatch]:
        raise RuntimeError("matcher bug")


def test_an_unexpected_failure_is_recorded_and_backs_off(db: Database, http: HTTPServer) -> None:
    url = http.feed("/world.rss", "world.rss")
    with db.transaction() as s:
        feeds.sync(s, [(url, None)], NOW)
        (state,) = feeds.active(s)

    async def run() -> str | None:
        loopback = AddressPolicy.allowing(["127.0.0.1"])
        async with Fetcher(Connections(4), FetchLimits(), loopback) as fetcher:
            poller = Poller(
                db=db,
                fetcher=fetcher,
                matcher=_Broken(),
                rule_channels={},
                urgent_rules=frozenset(),
                plans={},
                settings={},
                default=FeedSettings(timedelta(minutes=1), timedelta(hours=1)),
                clock=lambda: NOW,
                rng=random.Random(1),
                writes=GroupCommit(db),
            )
            return (await poll_feed(poller, state)).error

    error = asyncio.run(run())
    assert error == "unexpected failure: RuntimeError('matcher bug')"
    with db.transaction() as s:
        row = s.get_one(Feed, state.id)
        assert row.consecutive_errors == 1
        assert row.last_error == error
        assert row.next_poll_at >= NOW + timedelta(seconds=54)  # backed off, not every tick


def test_compiled_rules_are_the_matcher_the_poller_uses() -> None:
    matcher = compile_rules([RuleConfig(name="c", keywords=("ceasefire",))])
    entry = ParsedEntry("e", "A ceasefire", None, None, None, "", "")
    assert [m.rule for m in matcher.match(entry)] == ["c"]


def test_poll_tries_every_pending_alert_exactly_once(
    tmp_path: Path, http: HTTPServer, receiver: HTTPServer
) -> None:
    items = "".join(
        f"<item><guid>g{i}</guid><title>ceasefire {i}</title>"
        f"<pubDate>{format_datetime(datetime.now(UTC))}</pubDate></item>"
        for i in range(20)
    )
    body = f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()
    feed = http.route("/f.rss", Reply(body=body))
    receiver.route("/hook", Reply(status=500))
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        feeds=[{"url": feed}],
        rules=[{"name": "c", "keywords": ["ceasefire"], "channels": ["hook"]}],
        channels={"hook": {"type": "webhook", "url": receiver.url("/hook")}},
    )
    result = CliRunner().invoke(cli, ["poll", "--config", str(config)])
    assert "alerts: 0 sent, 20 failed" in result.output
    posts = receiver.received("/hook")
    assert len(posts) == 20
    assert len({p.json()["id"] for p in posts}) == 20
