"""The alert outbox: one row per entry and channel, written with the hits, drained by
the delivery worker."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from monitor.records import Alert
from monitor.store import hits
from monitor.store.tables import PENDING, SENT, Entry, Feed, Outbox


def add(
    session: Session,
    entry_id: int,
    channel: str,
    rules: Sequence[str],
    alert_id: str,
    now: datetime,
) -> None:
    """Queue one alert for a channel, due at once."""
    session.add(
        Outbox(
            alert_id=alert_id,
            entry_id=entry_id,
            channel=channel,
            rules=list(rules),
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def claim(
    session: Session,
    now: datetime,
    lease: timedelta,
    *,
    limit: int = 100,
    ignore_delay: bool = False,
    skip: Collection[int] = (),
) -> list[Alert]:
    """Take pending alerts whose retry time has come (or all with ``ignore_delay``),
    oldest first, except the rows in ``skip``, and lease them for ``lease`` so no other
    worker or ``poll`` sends them meanwhile. A worker that dies mid-send leaves the
    lease to expire: the alert is then sent again, with the same id (at-least-once)."""
    query = select(Outbox.id).where(
        Outbox.status == PENDING,
        or_(Outbox.claimed_until.is_(None), Outbox.claimed_until <= now),
    )
    if not ignore_delay:
        query = query.where(Outbox.next_attempt_at <= now)
    if skip:
        query = query.where(Outbox.id.not_in(list(skip)))
    query = query.order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    session.execute(update(Outbox).where(Outbox.id.in_(ids)).values(claimed_until=now + lease))
    rows = session.execute(
        select(Outbox, Entry, Feed)
        .join(Entry, Outbox.entry_id == Entry.id)
        .join(Feed, Entry.feed_id == Feed.id)
        .where(Outbox.id.in_(ids))
        .order_by(Outbox.next_attempt_at, Outbox.id)
    ).all()
    return [
        Alert(
            alert_id=o.alert_id,
            outbox_id=o.id,
            channel=o.channel,
            entry_id=e.identity,
            title=e.title,
            link=e.link,
            published=e.published,
            author=e.author,
            feed_url=f.url,
            feed_name=f.name or f.title or f.url,
            matches=tuple(hits.for_entry(session, e.id, o.rules)),
            detected_at=o.created_at,
            attempts=o.attempts,
        )
        for o, e, f in rows
    ]


def mark_sent(session: Session, outbox_id: int, now: datetime) -> None:
    """The receiver accepted the alert."""
    row = session.get_one(Outbox, outbox_id)
    row.status = SENT
    row.sent_at = now
    row.claimed_until = None
    row.attempts += 1
    row.last_error = None


def mark_retry(session: Session, outbox_id: int, reason: str, next_attempt_at: datetime) -> None:
    """The send failed: keep the alert pending and try again at ``next_attempt_at``."""
    row = session.get_one(Outbox, outbox_id)
    row.attempts += 1
    row.last_error = reason
    row.next_attempt_at = next_attempt_at
    row.claimed_until = None


def release(session: Session, outbox_id: int) -> None:
    """Give a claimed alert back without an outcome (its sender is stopping)."""
    session.get_one(Outbox, outbox_id).claimed_until = None


def count_by_status(session: Session) -> dict[str, int]:
    """How many outbox rows are in each status."""
    query = select(Outbox.status, func.count()).group_by(Outbox.status)
    return {status: count for status, count in session.execute(query).all()}
