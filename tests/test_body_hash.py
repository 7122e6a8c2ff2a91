"""A 200 with the body already read is not parsed again: the pipeline treats it as a 304."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.config import RuleConfig
from monitor.connections import Connections
from monitor.fetch import Fetcher, FetchLimits
from monitor.match import compile_rules
from monitor.netguard import AddressPolicy
from monitor.pipeline import FeedSettings, Poller, PollOutcome, poll_feed
from monitor.store import entries, feeds
from monitor.store.batch import GroupCommit
from monitor.store.db import Database, open_database
from monitor.store.tables import Entry, Feed
from tests.servers import FEEDS, HTTPServer, Reply

BODY = (FEEDS / "world.rss").read_bytes()
EXTRA = b"""<item><guid isPermaLink="false">world-4</guid><title>A new ceasefire</title></item>"""
START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


def poll(db: Database, url: str, now: datetime) -> PollOutcome:
    with db.transaction() as s:
        (state,) = [f for f in feeds.active(s) if f.url == url]

    async def run() -> PollOutcome:
        policy = AddressPolicy.allowing(["127.0.0.1"])
        async with Fetcher(Connections(2), FetchLimits(), policy) as fetcher:
            poller = Poller(
                db=db,
                fetcher=fetcher,
                matcher=compile_rules([RuleConfig(name="c", keywords=("ceasefire",))]),
                rule_channels={},
                urgent_rules=frozenset(),
                plans={},
                settings={},
                default=FeedSettings(timedelta(minutes=5), timedelta(days=3650)),
                clock=lambda: now,
                rng=random.Random(1),
                writes=GroupCommit(db),
            )
            return await poll_feed(poller, state)

    return asyncio.run(run())


def feed_row(db: Database, url: str) -> Feed:
    with db.transaction() as s:
        (row,) = [r for r in s.query(Feed).all() if r.url == url]
        s.expunge(row)
        return row


def test_an_unchanged_body_is_not_parsed_again(db: Database, http: HTTPServer) -> None:
    # No ETag or Last-Modified: every poll is a full 200 with the same body.
    url = http.route("/world.rss", Reply(body=BODY))
    with db.transaction() as s:
        feeds.sync(s, [(url, None)], START)

    first = poll(db, url, START)
    assert (first.error, first.unchanged, first.parsed, first.new_entries) == (None, False, 3, 3)
    row = feed_row(db, url)
    assert row.body_hash == hashlib.sha256(BODY).hexdigest()
    assert row.last_changed_at == START

    later = START + timedelta(minutes=10)
    second = poll(db, url, later)
    assert second.error is None
    assert second.unchanged is True
    assert second.parsed == 0
    assert second.outcome == "not_modified"
    row = feed_row(db, url)
    assert row.last_success_at == later
    assert row.last_changed_at == START  # like a 304: the body did not change
    assert len(http.received("/world.rss", "GET")) == 2  # both were full fetches

    # A changed body is read again, and its hash replaces the old one.
    changed = BODY.replace(b"</channel>", EXTRA + b"</channel>")
    http.route("/world.rss", Reply(body=changed))
    third = poll(db, url, later + timedelta(minutes=10))
    assert (third.unchanged, third.parsed, third.new_entries, third.hits) == (False, 4, 1, 1)
    assert feed_row(db, url).body_hash == hashlib.sha256(changed).hexdigest()
    # The three known entries were left unread (skimmed) and are still seen in the body.
    with db.transaction() as s:
        seen = {i: t for i, t in s.execute(select(Entry.identity, Entry.last_seen_at))}
        assert entries.in_last_body(s, row.id) == frozenset(seen)
    assert set(seen.values()) == {later + timedelta(minutes=10)}
    assert len(seen) == 4


def test_a_body_that_failed_to_parse_is_read_again(db: Database, http: HTTPServer) -> None:
    url = http.route("/feed", Reply(body=b"hello, not a feed"))
    with db.transaction() as s:
        feeds.sync(s, [(url, None)], START)
    first = poll(db, url, START)
    assert first.error is not None
    assert feed_row(db, url).body_hash is None
    second = poll(db, url, START + timedelta(minutes=10))
    assert second.error == first.error  # parsed (and refused) again, not skipped


def test_a_304_keeps_the_stored_hash(db: Database, http: HTTPServer) -> None:
    url = http.route("/feed", Reply(body=BODY, headers={"ETag": '"v1"'}))
    with db.transaction() as s:
        feeds.sync(s, [(url, None)], START)
    poll(db, url, START)
    outcome = poll(db, url, START + timedelta(minutes=10))
    assert outcome.unchanged is True
    requests = http.received("/feed", "GET")
    assert requests[-1].headers["if-none-match"] == '"v1"'
    row = feed_row(db, url)
    assert row.etag == '"v1"'
    assert row.body_hash == hashlib.sha256(BODY).hexdigest()
