"""Feed health rows: what the health check reads of each feed, and its verdicts written
back together with the health alerts they call for (one transaction)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from monitor.health import AUTO_WINDOW, FeedHealth, HealthAlert, Verdict
from monitor.store import outbox
from monitor.store.tables import Entry, Feed

# A published date later than first seen by more than this is not believed.
PUBLISHED_SLACK = timedelta(hours=1)


def feeds(session: Session, now: datetime) -> list[FeedHealth]:
    """Every active feed not gone (410), with its recent entry times."""
    rows = list(session.scalars(select(Feed).where(Feed.active, Feed.gone_at.is_(None))))
    if not rows:
        return []
    ids = [r.id for r in rows]
    # Core queries on the session's connection: tens of thousands of rows, which the
    # ORM's row loading would make the slowest part of a poll of unchanged feeds.
    conn = session.connection()
    newest = dict(
        conn.execute(
            select(Entry.feed_id, func.max(Entry.first_seen_at))
            .where(Entry.feed_id.in_(ids))
            .group_by(Entry.feed_id)
        ).all()
    )
    times: dict[int, list[datetime]] = defaultdict(list)
    since = now - AUTO_WINDOW
    # As seconds since the epoch, computed by the database: converting tens of thousands
    # of timestamps through SQLAlchemy's types costs more than the rest of the check.
    recent = conn.execute(
        select(
            Entry.feed_id, extract("epoch", Entry.published), extract("epoch", Entry.first_seen_at)
        ).where(Entry.feed_id.in_(ids), Entry.first_seen_at >= since)
    )
    since_s, slack = since.timestamp(), PUBLISHED_SLACK.total_seconds()
    for feed_id, published, first_seen in recent:
        # The entries found on a feed's first poll were all first seen at once: their
        # published dates tell the feed's rhythm better, when they are plausible.
        at = float(first_seen)
        if published is not None and since_s <= float(published) <= at + slack:
            at = float(published)
        times[feed_id].append(datetime.fromtimestamp(at, UTC))
    return [
        FeedHealth(
            id=r.id,
            url=r.url,
            name=r.name or r.title or r.url,
            consecutive_errors=r.consecutive_errors,
            last_error=r.last_error,
            first_success_at=r.first_success_at,
            last_success_at=r.last_success_at,
            last_new_at=newest.get(r.id),
            entry_times=tuple(times[r.id]),
            health=r.health,
            unhealthy_since=r.unhealthy_since,
            health_reason=r.health_reason,
            notified_at=r.health_notified_at,
        )
        for r in rows
    ]


def record(
    session: Session,
    feed: FeedHealth,
    verdict: Verdict,
    alerts: Sequence[HealthAlert],
    now: datetime,
) -> None:
    """Store the feed's health and queue its alerts (in the caller's transaction)."""
    row = session.get(Feed, feed.id)
    if row is None:
        return
    row.health = verdict.health
    row.unhealthy_since = verdict.since
    row.health_reason = verdict.reason
    row.health_notified_at = verdict.notified_at
    for a in alerts:
        outbox.add_health(session, feed.id, a.channel, a.alert_id, a.status, a.reason, a.since, now)
