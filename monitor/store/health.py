"""Feed health rows: what the health check reads of each feed, and its verdicts written
back together with the health alerts they call for (one transaction)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, extract, func, select, update
from sqlalchemy.orm import Session

from monitor.health import AUTO_WINDOW, FeedHealth, HealthAlert, Verdict
from monitor.store import outbox
from monitor.store.tables import Entry, Feed

# A published date later than first seen by more than this is not believed.
PUBLISHED_SLACK = timedelta(hours=1)


def feeds(
    session: Session, now: datetime, history: Callable[[FeedHealth], bool] = lambda _: True
) -> list[FeedHealth]:
    """Every active feed not gone (410); with its recent entry times where ``history``
    says they are needed (``health.needs_history``), else none."""
    # Core queries on the session's connection, plain rows: ORM objects, or tens of
    # thousands of timestamps through SQLAlchemy's types, would make this the slowest
    # part of a poll of unchanged feeds.
    conn = session.connection()
    rows = conn.execute(
        select(
            Feed.id,
            Feed.url,
            Feed.name,
            Feed.title,
            Feed.consecutive_errors,
            Feed.last_error,
            Feed.first_success_at,
            Feed.last_success_at,
            Feed.health,
            Feed.unhealthy_since,
            Feed.health_reason,
            Feed.health_notified_at,
        ).where(Feed.active, Feed.gone_at.is_(None))
    ).all()
    if not rows:
        return []
    newest = dict(
        conn.execute(
            select(Entry.feed_id, func.max(Entry.first_seen_at))
            .join(Feed, Feed.id == Entry.feed_id)
            .where(Feed.active, Feed.gone_at.is_(None))
            .group_by(Entry.feed_id)
        ).all()
    )
    found = [
        FeedHealth(
            id=r.id,
            url=r.url,
            name=r.name or r.title or r.url,
            consecutive_errors=r.consecutive_errors,
            last_error=r.last_error,
            first_success_at=r.first_success_at,
            last_success_at=r.last_success_at,
            last_new_at=newest.get(r.id),
            entry_times=(),
            health=r.health,
            unhealthy_since=r.unhealthy_since,
            health_reason=r.health_reason,
            notified_at=r.health_notified_at,
        )
        for r in rows
    ]
    wanted = [f.id for f in found if history(f)]
    if not wanted:
        return found
    times = _entry_times(conn, wanted, now - AUTO_WINDOW)
    return [replace(f, entry_times=tuple(times[f.id])) if f.id in times else f for f in found]


def _entry_times(conn: Connection, ids: list[int], since: datetime) -> dict[int, list[datetime]]:
    times: dict[int, list[datetime]] = defaultdict(list)
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
    return times


def record(
    session: Session,
    feed: FeedHealth,
    verdict: Verdict,
    alerts: Sequence[HealthAlert],
    now: datetime,
) -> bool:
    """Store the feed's health and queue its alerts (in the caller's transaction);
    ``False``, and nothing done, when the stored health is no longer what the verdict
    was judged on: another process sharing the database recorded its own verdict
    meanwhile, and queued the alerts."""
    changed = session.connection().execute(
        update(Feed)
        .where(
            Feed.id == feed.id,
            Feed.health == feed.health,
            Feed.health_notified_at.is_not_distinct_from(feed.notified_at),
        )
        .values(
            health=verdict.health,
            unhealthy_since=verdict.since,
            health_reason=verdict.reason,
            health_notified_at=verdict.notified_at,
        )
    )
    if changed.rowcount != 1:
        return False
    for a in alerts:
        outbox.add_health(session, feed.id, a.channel, a.alert_id, a.status, a.reason, a.since, now)
    return True
