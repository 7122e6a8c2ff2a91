"""Counts for status lines, ``newsmonitor status``, health checks and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.health import UNHEALTHY
from monitor.store.tables import FAILED, PENDING, Feed, Hit, Outbox


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state of the monitoring at one moment."""

    feeds_ok: int
    feeds_failing: int
    feeds_unhealthy: int  # judged so by the health check ([health])
    alerts_pending: int
    alerts_failed: int
    oldest_pending_age: float | None  # seconds
    hits_24h: int
    last_poll_at: datetime | None

    def line(self) -> str:
        """A one-line summary (systemd STATUS=, logs)."""
        return (
            f"feeds: {self.feeds_ok} ok, {self.feeds_failing} failing;"
            f" hits in 24 h: {self.hits_24h}; alerts pending: {self.alerts_pending}"
        )


def snapshot(session: Session, now: datetime) -> Snapshot:
    """Count feeds by health, pending and failed alerts, and the last day's hits."""
    failing = Feed.consecutive_errors > 0
    by_health = {
        bool(k): n
        for k, n in session.execute(
            select(failing, func.count()).where(Feed.active).group_by(failing)
        ).all()
    }
    unhealthy = session.scalar(
        select(func.count()).where(Feed.active, Feed.gone_at.is_(None), Feed.health == UNHEALTHY)
    )
    pending_count, oldest = session.execute(
        select(func.count(), func.min(Outbox.created_at)).where(Outbox.status == PENDING)
    ).one()
    failed_count = session.scalar(select(func.count()).where(Outbox.status == FAILED)) or 0
    hits_24h = session.scalar(select(func.count()).where(Hit.found_at >= now - timedelta(hours=24)))
    last_poll = session.scalar(select(func.max(Feed.last_polled_at)).where(Feed.active))
    return Snapshot(
        feeds_ok=by_health.get(False, 0),
        feeds_failing=by_health.get(True, 0),
        feeds_unhealthy=unhealthy or 0,
        alerts_pending=pending_count,
        alerts_failed=failed_count,
        oldest_pending_age=(now - oldest).total_seconds() if oldest else None,
        hits_24h=hits_24h or 0,
        last_poll_at=last_poll,
    )
