"""Pruning old data, as ``[retention]`` says, without ever letting an old entry alert again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, exists, or_, select
from sqlalchemy.orm import Session

from monitor.store.tables import HEALTH, PENDING, Daemon, Entry, Feed, Hit, Outbox

DAEMON_ROWS_KEPT = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Pruned:
    hits: int
    entries: int


def prune(session: Session, now: datetime, keep_hits: timedelta, keep_entries: timedelta) -> Pruned:
    """Delete hits found before ``now - keep_hits``, then entries that are all of:

    * first and last seen before ``now - keep_entries``;
    * absent from their feed's latest body (last seen before the feed last changed), so
      that an entry still listed by its feed is never forgotten and alerted again;
    * without hits, and without an alert still waiting to be sent.

    Sent alerts go with their entries; feed health alerts no longer pending go when
    queued before ``now - keep_hits``.
    """
    hits_cut = now - keep_hits
    gone_hits = _deleted(session, delete(Hit).where(Hit.found_at < hits_cut))
    entries_cut = now - keep_entries
    # A feed with no body recorded yet (last_changed_at empty) may list anything: keep.
    still_listed = exists(
        select(Feed.id).where(
            Feed.id == Entry.feed_id,
            or_(Feed.last_changed_at.is_(None), Feed.last_changed_at <= Entry.last_seen_at),
        )
    )
    has_hits = exists(select(Hit.id).where(Hit.entry_id == Entry.id))
    waiting = exists(select(Outbox.id).where(Outbox.entry_id == Entry.id, Outbox.status == PENDING))
    old = select(Entry.id).where(
        Entry.first_seen_at < entries_cut,
        Entry.last_seen_at < entries_cut,
        ~still_listed,
        ~has_hits,
        ~waiting,
    )
    ids = list(session.scalars(old))
    gone_entries = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        session.execute(delete(Outbox).where(Outbox.entry_id.in_(chunk)))
        gone_entries += _deleted(session, delete(Entry).where(Entry.id.in_(chunk)))
    session.execute(
        delete(Outbox).where(
            Outbox.kind == HEALTH, Outbox.status != PENDING, Outbox.created_at < hits_cut
        )
    )
    session.execute(delete(Daemon).where(Daemon.heartbeat_at < now - DAEMON_ROWS_KEPT))
    return Pruned(hits=gone_hits, entries=gone_entries)


def _deleted(session: Session, statement: Delete) -> int:
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount or 0
