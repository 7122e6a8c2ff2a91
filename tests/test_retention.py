"""Retention on SQLite and PostgreSQL: old data goes, nothing that could alert again does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monitor.records import ParsedEntry, RuleMatch
from monitor.store import entries, feeds, hits, outbox, retention
from monitor.store.db import Database, open_database
from monitor.store.tables import Entry, Hit, Outbox

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


def entry(identity: str) -> ParsedEntry:
    return ParsedEntry(identity, identity, None, None, None, "", "")


def test_prune_keeps_what_the_feed_still_lists_and_what_has_hits(db: Database) -> None:
    with db.transaction() as s:
        feeds.sync(s, [("http://127.0.0.1/f", None)], T0)
        (feed,) = feeds.active(s)
        # Day 0: the feed lists a, b, c; b matched a rule and was alerted.
        ids = entries.add(s, feed.id, [entry("a"), entry("b"), entry("c")], T0)
        hits.add(s, [(ids["b"], [RuleMatch("r", ("b",), "title", "b")])], T0)
        outbox.add(s, ids["b"], "hook", ["r"], "id-b", T0)
        (alert,) = outbox.claim(s, T0, timedelta(minutes=5), held=False)
        outbox.mark_sent(s, [alert.outbox_id], T0, alert.alert_id)
        feeds.mark_success(s, feed.id, T0, T0, None, None, changed=True)
    with db.transaction() as s:
        # Day 200: the feed now lists only c (and d, new).
        later = T0 + 200 * DAY
        entries.touch(s, feed.id, ["c"], later)
        entries.add(s, feed.id, [entry("d")], later)
        feeds.mark_success(s, feed.id, later, later, None, None, changed=True)

    now = T0 + 201 * DAY
    with db.transaction() as s:
        done = retention.prune(
            s, now, keep_hits=timedelta(days=365), keep_entries=timedelta(days=90)
        )
    assert done == retention.Pruned(hits=0, entries=1)
    with db.transaction() as s:
        left = set(s.scalars(select(Entry.identity)))
    # a: gone (old, not listed, no hit); b: kept for its hit; c: still listed; d: new.
    assert left == {"b", "c", "d"}

    # Once its hit is past the hit retention, b goes too, and its sent alert with it.
    with db.transaction() as s:
        done = retention.prune(
            s, T0 + 400 * DAY, keep_hits=timedelta(days=365), keep_entries=timedelta(days=90)
        )
    assert done.hits == 1
    with db.transaction() as s:
        assert set(s.scalars(select(Entry.identity))) == {"c", "d"}
        assert s.scalar(select(func.count()).select_from(Hit)) == 0
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0


def test_prune_never_drops_an_alert_still_waiting(db: Database) -> None:
    with db.transaction() as s:
        feeds.sync(s, [("http://127.0.0.1/f", None)], T0)
        (feed,) = feeds.active(s)
        (row_id,) = entries.add(s, feed.id, [entry("x")], T0).values()
        outbox.add(s, row_id, "hook", ["r"], "id-x", T0)
        feeds.mark_success(s, feed.id, T0 + DAY, T0, None, None, changed=True)
    with db.transaction() as s:
        done = retention.prune(s, T0 + 500 * DAY, timedelta(days=1), timedelta(days=1))
    assert done.entries == 0
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 1


def test_a_feed_that_only_answers_304_keeps_its_entries(db: Database) -> None:
    with db.transaction() as s:
        feeds.sync(s, [("http://127.0.0.1/f", None)], T0)
        (feed,) = feeds.active(s)
        entries.add(s, feed.id, [entry("a")], T0)
        feeds.mark_success(s, feed.id, T0, T0, None, None, changed=True)
        # Months of 304s: the body, and so the entry, is unchanged.
        feeds.mark_success(s, feed.id, T0 + 300 * DAY, T0, None, None)
    with db.transaction() as s:
        assert (
            retention.prune(s, T0 + 301 * DAY, timedelta(days=30), timedelta(days=30)).entries == 0
        )


def test_a_feed_without_a_recorded_body_keeps_everything(db: Database) -> None:
    with db.transaction() as s:
        feeds.sync(s, [("http://127.0.0.1/f", None)], T0)
        (feed,) = feeds.active(s)
        entries.add(s, feed.id, [entry("a")], T0)  # last_changed_at never set
    with db.transaction() as s:
        assert (
            retention.prune(s, T0 + 400 * DAY, timedelta(days=30), timedelta(days=30)).entries == 0
        )
