"""Entries seen per feed: which identities are known, and storing new ones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from monitor.records import ParsedEntry
from monitor.store.tables import Entry

_CHUNK = 500  # stays under every backend's limit on bound parameters


def known(session: Session, feed_id: int, identities: Iterable[str]) -> set[str]:
    """Which of ``identities`` this feed has already stored."""
    wanted = list(dict.fromkeys(identities))
    found: set[str] = set()
    conn = session.connection()  # Core: asked for every changed feed, twice
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        found.update(
            conn.execute(
                select(Entry.identity).where(Entry.feed_id == feed_id, Entry.identity.in_(chunk))
            ).scalars()
        )
    return found


def in_last_body(session: Session, feed_id: int) -> frozenset[str]:
    """The identities of the entries the feed's last body read listed: those seen last
    (``add`` and ``touch`` give them all one ``last_seen_at``)."""
    latest = select(func.max(Entry.last_seen_at)).where(Entry.feed_id == feed_id).scalar_subquery()
    rows = session.connection().execute(
        select(Entry.identity).where(Entry.feed_id == feed_id, Entry.last_seen_at >= latest)
    )
    return frozenset(rows.scalars())


def add(session: Session, feed_id: int, entries: Sequence[ParsedEntry], now: datetime) -> list[int]:
    """Insert new entries in one batch; returns their ids, in the same order."""
    if not entries:
        return []
    rows = [
        {
            "feed_id": feed_id,
            "identity": e.identity,
            "title": e.title,
            "link": e.link,
            "author": e.author,
            "published": e.published,
            "summary": e.summary,
            "content": e.content,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for e in entries
    ]
    # A Core insert (many rows per statement, ids returned in order) on the session's
    # connection: the ORM's unit of work costs more than the rest of storing a feed.
    inserted = session.connection().execute(
        insert(Entry).returning(Entry.id, sort_by_parameter_order=True), rows
    )
    return list(inserted.scalars())


def touch(session: Session, feed_id: int, identities: Iterable[str], now: datetime) -> None:
    """Record that these entries are still in the feed's body (retention keeps them)."""
    present = list(dict.fromkeys(identities))
    for i in range(0, len(present), _CHUNK):
        session.execute(
            update(Entry)
            .where(Entry.feed_id == feed_id, Entry.identity.in_(present[i : i + _CHUNK]))
            .values(last_seen_at=now)
        )
