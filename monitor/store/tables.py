"""The database schema; ``alembic/versions`` holds the migrations that create it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zone support: values are stored as naive UTC and given their
    zone back on the way out.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


HIT = "hit"
HEALTH = "health"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the feed last answered with a body (not a 304): its entries then present
    # have last_seen_at equal to it, and retention keeps them.
    last_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 (hex) of the last body read: the same body again is not parsed again.
    body_hash: Mapped[str | None] = mapped_column(String(64))
    # A 429 or 503 with Retry-After: not polled before this, not even by `poll`.
    retry_after_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An HTTP 410 Gone: polling stopped until the feed is removed from the config and added back.
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where permanent redirects (301/308) lead, and on how many polls in a row; from
    # policy.MOVED_AFTER on, that address is fetched instead of ``url``.
    moved_to: Mapped[str | None] = mapped_column(Text)
    moved_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Who is polling the feed now (``host:pid``, store.feeds.claim_due), until
    # next_poll_at; cleared by the poll's outcome. A claimer found dead at a start on
    # its host has its claims freed at once instead of when they run out.
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    # Feed health (monitor.health): "ok" or "unhealthy", since when and why, and when
    # the health channels were last told (so a restart does not tell them again).
    health: Mapped[str] = mapped_column(String(10), default="ok", server_default="ok")
    unhealthy_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    health_reason: Mapped[str | None] = mapped_column(Text)
    health_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("feed_id", "identity", name="uq_entries_feed_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class Hit(Base):
    __tablename__ = "hits"
    __table_args__ = (UniqueConstraint("entry_id", "rule", name="uq_hits_entry_rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(200), index=True)
    terms: Mapped[list[str]] = mapped_column(JSON)
    field: Mapped[str] = mapped_column(String(20))
    snippet: Mapped[str] = mapped_column(Text)
    # [start, end) character ranges of the matched text in the snippet.
    marks: Mapped[list[list[int]]] = mapped_column(JSON, server_default=text("'[]'"))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Outbox(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("entry_id", "channel", name="uq_outbox_entry_channel"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_channel_sent_at", "channel", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(36), unique=True)
    # "hit" (an entry matched rules: entry_id) or "health" (a feed turned unhealthy or
    # recovered: feed_id and the health_* columns).
    kind: Mapped[str] = mapped_column(String(10), default=HIT, server_default=HIT)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    health_status: Mapped[str | None] = mapped_column(String(10))
    health_reason: Mapped[str | None] = mapped_column(Text)
    health_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(200))
    rules: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # host:pid of the process holding the claim, so a restart can free the claims of
    # a process on this host that died, instead of waiting for the lease to end.
    claimed_by: Mapped[str | None] = mapped_column(String(300))
    # Why the alert waits to go out folded into one message with others: "digest",
    # "quiet hours" or "rate limit"; empty for an alert sent on its own.
    hold_reason: Mapped[str | None] = mapped_column(String(20))
    # The id of the message that delivered it (its own id, or a digest's).
    message_id: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Daemon(Base):
    """One running (or stopped) daemon process, so ``newsmonitor status`` can tell."""

    __tablename__ = "daemons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(Text, default="")


PENDING = "pending"
SENT = "sent"
FAILED = "failed"
