"""Daemon heartbeats: which processes run against this database, and since when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.tables import Daemon

# A daemon whose heartbeat is older than this is taken to have died.
ALIVE_WITHIN = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class DaemonState:
    host: str
    pid: int
    version: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    status: str

    def running(self, now: datetime) -> bool:
        return self.stopped_at is None and now - self.heartbeat_at <= ALIVE_WITHIN


def register(session: Session, host: str, pid: int, version: str, now: datetime) -> int:
    """Record a daemon starting; returns its row id."""
    row = Daemon(
        host=host, pid=pid, version=version, started_at=now, heartbeat_at=now, status="starting"
    )
    session.add(row)
    session.flush()
    return row.id


def beat(session: Session, daemon_id: int, now: datetime, status: str) -> None:
    row = session.get_one(Daemon, daemon_id)
    row.heartbeat_at = now
    row.status = status


def stopped(session: Session, daemon_id: int, now: datetime) -> None:
    row = session.get_one(Daemon, daemon_id)
    row.heartbeat_at = row.stopped_at = now
    row.status = "stopped"


def recent(session: Session, limit: int = 10) -> list[DaemonState]:
    """The latest daemons by heartbeat, newest first."""
    rows = session.scalars(select(Daemon).order_by(Daemon.heartbeat_at.desc()).limit(limit))
    return [
        DaemonState(r.host, r.pid, r.version, r.started_at, r.heartbeat_at, r.stopped_at, r.status)
        for r in rows
    ]
