"""Entries seen per feed: which identities are known, and storing new ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.dialects.sqlite import Insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from monitor.records import ParsedEntry
from monitor.store.db import chunked
from monitor.store.tables import Entry

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert


def known(session: Session, feed_id: int, identities: Iterable[str]) -> set[str]:
    """Which of ``identities`` this feed has already stored."""
    wanted = list(dict.fromkeys(identities))
    found: set[str] = set()
    conn = session.connection()  # Core: asked for every feed matched in the daemon
    for chunk in chunked(wanted):
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


def add(
    session: Session, feed_id: int, entries: Sequence[ParsedEntry], now: datetime
) -> dict[str, int]:
    """Insert the entries this feed has not stored yet, in one batch; returns the row id
    of each entry inserted, by identity. One stored meanwhile (by another poller of the
    same body) is left as it is and not in the result: the database's unique constraint
    decides, so no read before the write is needed."""
    if not entries:
        return {}
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
    # A Core insert (many rows per statement) on the session's connection: the ORM's unit
    # of work costs more than the rest of storing a feed. Rows come back in the order
    # given: without it, SQLAlchemy's batching of a RETURNING insert on SQLite left the
    # daemon's process 10 MiB larger after an all-new pass of 1000 feeds.
    statement = (
        _insert(session)(Entry)
        .on_conflict_do_nothing(index_elements=[Entry.feed_id, Entry.identity])
        .returning(Entry.identity, Entry.id, sort_by_parameter_order=True)
    )
    return {identity: row_id for identity, row_id in session.connection().execute(statement, rows)}


def _insert(session: Session) -> Callable[[type[Entry]], Insert | PgInsert]:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    if session.get_bind().dialect.name == "postgresql":
        # Imported only where used: on SQLite it would cost 0.04 s of every start.
        from sqlalchemy.dialects.postgresql import insert

        return insert
    return sqlite_insert


def touch(session: Session, feed_id: int, identities: Iterable[str], now: datetime) -> None:
    """Record that these entries are still in the feed's body (retention keeps them)."""
    present = list(dict.fromkeys(identities))
    for chunk in chunked(present):
        session.execute(
            update(Entry)
            .where(Entry.feed_id == feed_id, Entry.identity.in_(chunk))
            .values(last_seen_at=now)
        )
