"""The alert outbox: one row per entry and channel, written with the hits, and one per
feed health change (or reminder) and channel; drained by the delivery worker."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from monitor.records import Alert
from monitor.store import hits
from monitor.store.tables import FAILED, HEALTH, HIT, PENDING, SENT, Entry, Feed, Outbox


def add(
    session: Session,
    entry_id: int,
    channel: str,
    rules: Sequence[str],
    alert_id: str,
    now: datetime,
    *,
    due: datetime | None = None,
    hold_reason: str | None = None,
) -> None:
    """Queue one alert for a channel: due at once, or at ``due`` when it is held for a
    digest (``hold_reason``)."""
    session.add(
        Outbox(
            alert_id=alert_id,
            entry_id=entry_id,
            channel=channel,
            rules=list(rules),
            status=PENDING,
            attempts=0,
            next_attempt_at=due or now,
            hold_reason=hold_reason,
            created_at=now,
        )
    )


def add_health(
    session: Session,
    feed_id: int,
    channel: str,
    alert_id: str,
    status: str,
    reason: str,
    since: datetime,
    now: datetime,
) -> None:
    """Queue one feed health alert for a channel, due at once (never held for a digest)."""
    session.add(
        Outbox(
            alert_id=alert_id,
            kind=HEALTH,
            feed_id=feed_id,
            channel=channel,
            rules=[],
            health_status=status,
            health_reason=reason,
            health_since=since,
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
    held: bool,
    claimer: str = "",
    limit: int = 100,
    ignore_delay: bool = False,
    skip: Collection[int] = (),
) -> list[Alert]:
    """Take pending alerts that are due, oldest first, and lease them for ``lease`` so no
    other worker or ``poll`` sends them meanwhile.

    ``held`` picks the alerts waiting to be folded into a digest, else those sent on their
    own. ``ignore_delay`` also takes alerts waiting for a retry, never those held for a
    digest's time. A worker that dies mid-send leaves the lease to expire: the alert is
    then sent again, with the same id (at-least-once).
    """
    due = Outbox.next_attempt_at <= now
    if ignore_delay:
        due = or_(due, and_(Outbox.attempts > 0, Outbox.hold_reason.is_(None)))
    query = select(Outbox.id).where(
        Outbox.status == PENDING,
        Outbox.hold_reason.is_not(None) if held else Outbox.hold_reason.is_(None),
        or_(Outbox.claimed_until.is_(None), Outbox.claimed_until <= now),
        due,
    )
    if skip:
        query = query.where(Outbox.id.not_in(list(skip)))
    query = query.order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids))
        .values(claimed_until=now + lease, claimed_by=claimer or None)
    )
    rows = session.execute(
        select(Outbox, Entry, Feed)
        .outerjoin(Entry, Outbox.entry_id == Entry.id)
        .join(Feed, Feed.id == func.coalesce(Outbox.feed_id, Entry.feed_id))
        .where(Outbox.id.in_(ids))
        .order_by(Outbox.next_attempt_at, Outbox.id)
    ).all()
    return [_health_alert(o, f) if e is None else _hit_alert(session, o, e, f) for o, e, f in rows]


def _hit_alert(session: Session, o: Outbox, e: Entry, f: Feed) -> Alert:
    return Alert(
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
        hold_reason=o.hold_reason,
    )


def _health_alert(o: Outbox, f: Feed) -> Alert:
    name = f.name or f.title or f.url
    return Alert(
        alert_id=o.alert_id,
        outbox_id=o.id,
        channel=o.channel,
        entry_id="",
        title=f"{name}: {o.health_status}",
        link=f.url,
        published=None,
        author=None,
        feed_url=f.url,
        feed_name=name,
        matches=(),
        detected_at=o.created_at,
        attempts=o.attempts,
        kind=HEALTH,
        status=o.health_status,
        reason=o.health_reason,
        since=o.health_since,
    )


def sent_times(session: Session, channel: str, since: datetime) -> list[datetime]:
    """When each message sent to ``channel`` since ``since`` went out (a digest is one);
    health alerts are not counted against a channel's rate limit."""
    query = (
        select(func.min(Outbox.sent_at))
        .where(
            Outbox.channel == channel,
            Outbox.kind == HIT,
            Outbox.status == SENT,
            Outbox.sent_at >= since,
        )
        .group_by(Outbox.message_id)
    )
    return [t for t in session.scalars(query) if t is not None]


def mark_sent(
    session: Session, outbox_ids: Collection[int], now: datetime, message_id: str
) -> None:
    """The receiver accepted the message that carried these alerts."""
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(list(outbox_ids)))
        .values(
            status=SENT,
            sent_at=now,
            message_id=message_id,
            claimed_until=None,
            attempts=Outbox.attempts + 1,
            last_error=None,
        )
    )


def mark_retry(
    session: Session, outbox_ids: Collection[int], reason: str, next_attempt_at: datetime
) -> None:
    """The send failed: keep the alerts pending and try again at ``next_attempt_at``."""
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(list(outbox_ids)))
        .values(
            attempts=Outbox.attempts + 1,
            last_error=reason,
            next_attempt_at=next_attempt_at,
            claimed_until=None,
        )
    )


def mark_failed(session: Session, outbox_ids: Collection[int], reason: str) -> None:
    """The receiver refused the alerts for good: stop retrying (``alerts retry`` revives)."""
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(list(outbox_ids)))
        .values(status=FAILED, attempts=Outbox.attempts + 1, last_error=reason, claimed_until=None)
    )


def defer(session: Session, outbox_ids: Collection[int], until: datetime, reason: str) -> None:
    """Hold the alerts until ``until``, to go out then folded into one message."""
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(list(outbox_ids)))
        .values(hold_reason=reason, next_attempt_at=until, claimed_until=None)
    )


def release(session: Session, outbox_ids: Collection[int]) -> None:
    """Give claimed alerts back without an outcome (their sender is stopping)."""
    session.execute(
        update(Outbox).where(Outbox.id.in_(list(outbox_ids))).values(claimed_until=None)
    )


def release_orphans(
    session: Session, now: datetime, host: str, alive: Callable[[int], bool]
) -> int:
    """Free the claims held by processes of ``host`` that are no longer ``alive`` (they
    died mid-send): their alerts go out again now, not when the lease ends."""
    holders = session.scalars(
        select(Outbox.claimed_by)
        .where(Outbox.claimed_until > now, Outbox.claimed_by.like(f"{host}:%"))
        .distinct()
    )
    dead = [h for h in holders if h and not alive(int(h.rpartition(":")[2] or 0))]
    if not dead:
        return 0
    result = session.execute(
        update(Outbox)
        .where(Outbox.claimed_by.in_(dead), Outbox.status == PENDING)
        .values(claimed_until=None, claimed_by=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def retry_failed(session: Session, now: datetime, alert_id: str | None = None) -> int:
    """Put failed alerts (one, by its id, or all) back to pending, due now."""
    query = update(Outbox).where(Outbox.status == FAILED)
    if alert_id is not None:
        query = query.where(Outbox.alert_id == alert_id)
    result = session.execute(query.values(status=PENDING, next_attempt_at=now, claimed_until=None))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A pending or failed alert, as ``newsmonitor alerts`` lists it."""

    alert_id: str
    channel: str
    status: str
    title: str
    rules: tuple[str, ...]
    attempts: int
    next_attempt_at: datetime
    hold_reason: str | None
    last_error: str | None
    created_at: datetime


def waiting(session: Session, limit: int | None = None) -> list[Waiting]:
    """Pending and failed alerts, failed first, then oldest first; a health alert's title
    says which feed and what happened."""
    query = (
        select(Outbox, Entry.title, Feed)
        .outerjoin(Entry, Outbox.entry_id == Entry.id)
        .join(Feed, Feed.id == func.coalesce(Outbox.feed_id, Entry.feed_id))
        .where(Outbox.status.in_([PENDING, FAILED]))
        .order_by((Outbox.status == FAILED).desc(), Outbox.created_at, Outbox.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        Waiting(
            o.alert_id,
            o.channel,
            o.status,
            title if o.kind == HIT else f"feed {f.name or f.title or f.url} {o.health_status}",
            tuple(o.rules),
            o.attempts,
            o.next_attempt_at,
            o.hold_reason,
            o.last_error,
            o.created_at,
        )
        for o, title, f in session.execute(query).all()
    ]


def count_by_status(session: Session) -> dict[str, int]:
    """How many outbox rows are in each status."""
    query = select(Outbox.status, func.count()).group_by(Outbox.status)
    return {status: count for status, count in session.execute(query).all()}
