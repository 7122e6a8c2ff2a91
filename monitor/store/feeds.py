"""Feed rows: the list from the config, when each is due, and how its last poll went."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    String,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from monitor.policy import MOVED_AFTER, host_of, track_move
from monitor.records import FeedState
from monitor.store.db import chunked
from monitor.store.tables import Entry, Feed, UTCDateTime

_RENAME = update(Feed).where(Feed.id == bindparam("p_id")).values(name=bindparam("p_name"))


def sync(session: Session, feeds: Sequence[tuple[str, str | None]], now: datetime) -> None:
    """Make the feed rows match the config: add new URLs (due now), refresh names, and
    deactivate the rows of feeds no longer configured (their history stays)."""
    wanted = dict(feeds)
    # Plain rows, and statements only for what changed: this runs at every start (and
    # every `poll`), where ORM objects for thousands of feeds cost more than the reads.
    conn = session.connection()
    rows = {r.url: r for r in conn.execute(select(Feed.id, Feed.url, Feed.name, Feed.active))}
    new = [
        {"url": url, "name": name, "active": True, "next_poll_at": now, "created_at": now}
        for url, name in wanted.items()
        if url not in rows
    ]
    if new:
        conn.execute(insert(Feed), new)
    renamed = [
        {"p_id": r.id, "p_name": wanted[url]}
        for url, r in rows.items()
        if url in wanted and r.name != wanted[url]
    ]
    if renamed:
        conn.execute(_RENAME, renamed)
    back = [r.id for url, r in rows.items() if url in wanted and not r.active]
    if back:
        # Back after a pause: its next poll counts as a first one, so what was published
        # meanwhile is held to the backlog limit instead of all alerted.
        conn.execute(
            update(Feed)
            .where(Feed.id.in_(back))
            .values(active=True, next_poll_at=now, first_success_at=None, gone_at=None)
        )
    dropped = [r.id for url, r in rows.items() if url not in wanted and r.active]
    if dropped:
        conn.execute(update(Feed).where(Feed.id.in_(dropped)).values(active=False))


@dataclass(frozen=True, slots=True)
class FeedOverview:
    """A feed as ``newsmonitor feeds`` and ``status`` show it."""

    url: str
    name: str | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_errors: int
    next_poll_at: datetime
    entries: int
    entries_per_day: float | None = None
    moved_to: str | None = None  # where it has moved for good (update the config)
    # Feed health (monitor.health): "ok" or "unhealthy", since when and why.
    health: str = "ok"
    unhealthy_since: datetime | None = None
    health_reason: str | None = None

    @property
    def state(self) -> str:
        if self.consecutive_errors:
            return "failing"
        return "ok" if self.last_success_at else "new"


RATE_WINDOW = timedelta(days=7)


def overview(session: Session, now: datetime | None = None) -> list[FeedOverview]:
    """Every active feed with its health and entry count, failing ones first.

    Given ``now``, also its entries per day over the :data:`RATE_WINDOW` before it,
    each entry counted at its published time (at its first sighting when it has none,
    so a feed's first poll does not count its whole history as one day's).
    """
    counts = select(Entry.feed_id, func.count().label("n")).group_by(Entry.feed_id).subquery()
    n_entries = type_coerce(func.coalesce(counts.c.n, 0), Integer)
    rows = session.execute(
        select(Feed, n_entries)
        .outerjoin(counts, counts.c.feed_id == Feed.id)
        .where(Feed.active)
        .order_by(Feed.consecutive_errors.desc(), Feed.id)
    ).all()
    recent: dict[int, int] = {}
    if now is not None:
        when = func.coalesce(Entry.published, Entry.first_seen_at)
        counted = session.execute(
            select(Entry.feed_id, func.count())
            .where(when >= now - RATE_WINDOW)
            .group_by(Entry.feed_id)
        )
        recent = {feed_id: n for feed_id, n in counted}
    days = RATE_WINDOW / timedelta(days=1)
    return [
        FeedOverview(
            url=f.url,
            name=f.name or f.title,
            last_success_at=f.last_success_at,
            last_error=f.last_error,
            last_error_at=f.last_error_at,
            consecutive_errors=f.consecutive_errors,
            next_poll_at=f.next_poll_at,
            entries=n,
            entries_per_day=round(recent.get(f.id, 0) / days, 1) if now is not None else None,
            moved_to=f.moved_to if f.moved_count >= MOVED_AFTER else None,
            health=f.health,
            unhealthy_since=f.unhealthy_since,
            health_reason=f.health_reason,
        )
        for f, n in rows
    ]


def titles(session: Session) -> dict[str, str]:
    """The title each feed gave itself when last polled, by URL (feeds without one left out)."""
    rows = session.execute(select(Feed.url, Feed.title).where(Feed.title.is_not(None)))
    return {url: title for url, title in rows if title}


# What a poll needs of a feed row, read as plain rows: ORM objects for every feed would
# cost more than a pass of unchanged feeds spends on the rest of its reads.
_STATE = (
    Feed.id,
    Feed.url,
    Feed.name,
    Feed.etag,
    Feed.last_modified,
    Feed.consecutive_errors,
    Feed.first_success_at,
    Feed.body_hash,
    Feed.moved_to,
    Feed.moved_count,
)


def _state(row: Row[*tuple[Any, ...]]) -> FeedState:
    return FeedState(
        id=row.id,
        url=row.url,
        name=row.name,
        etag=row.etag,
        last_modified=row.last_modified,
        consecutive_errors=row.consecutive_errors,
        first_success_at=row.first_success_at,
        body_hash=row.body_hash,
        fetch_url=row.moved_to if row.moved_to and row.moved_count >= MOVED_AFTER else row.url,
    )


def claim_due(
    session: Session,
    now: datetime,
    until: datetime,
    claimer: str,
    skip: Collection[int] = (),
    limit: int | None = 500,
    *,
    every: bool = False,
) -> list[FeedState]:
    """Active feeds whose next poll time has come, soonest first, except those in
    ``skip``; claimed for ``claimer`` (``host:pid``) by moving their next poll time to
    ``until``. With ``every`` (``poll``): every feed due or not, in the order they were
    added, except those another process is polling now and those under a Retry-After.

    Several processes may share the database: what one claims, the others no longer see
    as due (on PostgreSQL, rows another is claiming at the same moment are skipped, not
    waited for; SQLite's write lock makes claims one at a time anyway). The poll's
    outcome sets the real next poll time; a process that stops mid-poll leaves the
    claim to run out at ``until``, and then any process polls the feed.
    """
    query = select(*_STATE).where(Feed.active, Feed.gone_at.is_(None))
    if every:
        query = query.where(
            or_(Feed.claimed_by.is_(None), Feed.next_poll_at <= now),
            or_(Feed.retry_after_until.is_(None), Feed.retry_after_until <= now),
        ).order_by(Feed.id)
    else:
        query = query.where(Feed.next_poll_at <= now).order_by(Feed.next_poll_at)
    if skip:
        query = query.where(Feed.id.not_in(list(skip)))
    query = query.limit(limit).with_for_update(skip_locked=True)
    claimed = [_state(r) for r in session.execute(query)]
    for chunk in chunked([f.id for f in claimed]):
        session.execute(
            update(Feed).where(Feed.id.in_(chunk)).values(next_poll_at=until, claimed_by=claimer)
        )
    return claimed


_RELEASE = (
    update(Feed)
    .where(Feed.id == bindparam("p_id"), Feed.next_poll_at == bindparam("p_until", UTCDateTime))
    .values(next_poll_at=bindparam("p_now", UTCDateTime), claimed_by=None)
)


def release_claims(session: Session, claims: Iterable[tuple[int, datetime]], now: datetime) -> None:
    """Claimed feeds (id, end of the claim) whose poll did not happen: due at ``now``,
    each only if its claim is still the one taken (an outcome written meanwhile stays)."""
    params = [{"p_id": i, "p_until": until, "p_now": now} for i, until in claims]
    if params:
        session.connection().execute(_RELEASE, params)


def release_orphan_claims(
    session: Session, now: datetime, host: str, alive: Callable[[int], bool]
) -> int:
    """At start: the claims of processes of ``host`` that are no longer ``alive`` (they
    died mid-poll) are freed, their feeds due at ``now`` instead of when the claims run
    out."""
    holders = session.scalars(
        select(Feed.claimed_by)
        .where(Feed.claimed_by.like(f"{host}:%"), Feed.next_poll_at > now)
        .distinct()
    )
    dead = [h for h in holders if h and not alive(int(h.rpartition(":")[2] or 0))]
    if not dead:
        return 0
    result = session.connection().execute(
        update(Feed).where(Feed.claimed_by.in_(dead)).values(next_poll_at=now, claimed_by=None)
    )
    return result.rowcount


def next_due_at(session: Session, skip: Collection[int] = ()) -> datetime | None:
    """When the soonest active feed not in ``skip`` is due (None without feeds)."""
    query = select(func.min(Feed.next_poll_at)).where(Feed.active, Feed.gone_at.is_(None))
    if skip:
        query = query.where(Feed.id.not_in(list(skip)))
    return session.scalar(query)


def active(session: Session) -> list[FeedState]:
    """Every active feed, in the order they were added."""
    return [
        _state(r) for r in session.execute(select(*_STATE).where(Feed.active).order_by(Feed.id))
    ]


_NOW = bindparam("p_now", type_=UTCDateTime)
_NEXT = bindparam("p_next_poll_at", type_=UTCDateTime)
_MOVED = select(Feed.moved_to, Feed.moved_count).where(Feed.id == bindparam("p_id"))
_SUCCESS = (
    update(Feed)
    .where(Feed.id == bindparam("p_id"))
    .values(
        moved_to=bindparam("p_moved_to"),
        moved_count=bindparam("p_moved_count"),
        last_polled_at=_NOW,
        last_success_at=_NOW,
        first_success_at=func.coalesce(Feed.first_success_at, _NOW),
        # A Retry-After its host sent meanwhile (to another feed's poll, maybe in
        # another process) still holds: decided by the statement, on the row as it is.
        next_poll_at=case(
            (Feed.retry_after_until > _NEXT, Feed.retry_after_until),
            else_=_NEXT,
        ),
        retry_after_until=case((Feed.retry_after_until > _NOW, Feed.retry_after_until), else_=None),
        last_error=None,
        consecutive_errors=0,
        claimed_by=None,
        title=func.coalesce(bindparam("p_title", type_=String), Feed.title),
        etag=func.coalesce(bindparam("p_etag", type_=String), Feed.etag),
        last_modified=func.coalesce(bindparam("p_last_modified", type_=String), Feed.last_modified),
    )
)
_SUCCESS_CHANGED = _SUCCESS.values(
    last_changed_at=_NOW, body_hash=bindparam("p_body_hash", type_=String)
)


def mark_success(
    session: Session,
    feed_id: int,
    now: datetime,
    next_poll_at: datetime,
    etag: str | None,
    last_modified: str | None,
    title: str | None = None,
    changed: bool = False,
    body_hash: str | None = None,
    moved_to: str | None = None,
) -> bool:
    """Record a successful poll (200 or 304): validators kept, errors cleared;
    ``changed`` when it brought a body (a 200) that was read, whose SHA-256 is
    ``body_hash``; ``moved_to`` where permanent redirects led it. True when this poll
    confirmed that the feed has moved."""
    # Core statements built once, on the session's connection: this runs for every
    # feed of every poll, and the ORM's update machinery costs several times more.
    conn = session.connection()
    was_to, was_count = conn.execute(_MOVED, {"p_id": feed_id}).one()
    to, count = track_move(was_to, was_count, moved_to)
    params = {
        "p_id": feed_id,
        "p_now": now,
        "p_next_poll_at": next_poll_at,
        "p_moved_to": to,
        "p_moved_count": count,
        "p_title": title or None,
        # A 304 may omit the validators: the stored ones are kept (RFC 9110, 15.4.5).
        "p_etag": etag or None,
        "p_last_modified": last_modified or None,
    }
    if changed:
        conn.execute(_SUCCESS_CHANGED, params | {"p_body_hash": body_hash})
    else:
        conn.execute(_SUCCESS, params)
    return was_count < MOVED_AFTER <= count


def mark_error(
    session: Session,
    feed_id: int,
    now: datetime,
    next_poll_at: datetime,
    reason: str,
    *,
    count: bool = True,
    retry_after_until: datetime | None = None,
    gone: bool = False,
) -> None:
    """Record a failed poll and when to try again. ``count=False`` (the machine seemed
    offline) leaves the feed's error count alone; ``gone`` (HTTP 410) stops its polling."""
    session.execute(
        update(Feed)
        .where(Feed.id == feed_id)
        .values(
            last_polled_at=now,
            last_error=reason,
            last_error_at=now,
            consecutive_errors=Feed.consecutive_errors + (1 if count else 0),
            next_poll_at=next_poll_at,
            retry_after_until=retry_after_until,
            gone_at=now if gone else None,
            claimed_by=None,
        )
    )


def hold_host(session: Session, host: str, until: datetime) -> int:
    """A server asked to wait (429/503 with Retry-After): hold every active feed on that
    host (its name and port) until then, not just the one that asked."""
    held = 0
    for row in session.scalars(select(Feed).where(Feed.active, Feed.gone_at.is_(None))):
        source = row.moved_to if row.moved_to and row.moved_count >= MOVED_AFTER else row.url
        if host_of(source) != host:
            continue
        row.retry_after_until = max(row.retry_after_until or until, until)
        row.next_poll_at = max(row.next_poll_at, until)
        held += 1
    return held


def skipped(session: Session, now: datetime, polled: Collection[int]) -> list[tuple[str, str]]:
    """Active feeds not in ``polled`` (what ``poll`` claimed), with why: gone (HTTP 410),
    a Retry-After still in force, or another process polling them now."""
    out = []
    query = select(Feed.id, Feed.url, Feed.gone_at, Feed.retry_after_until, Feed.claimed_by).where(
        Feed.active
    )
    for row in session.execute(query.order_by(Feed.id)):
        if row.id in polled:
            continue
        if row.gone_at is not None:
            out.append((row.url, "the server answered 410 Gone; remove it from the config"))
        elif row.retry_after_until is not None and row.retry_after_until > now:
            until = row.retry_after_until.strftime("%Y-%m-%d %H:%M:%S UTC")
            out.append((row.url, f"the server asked to wait until {until} (Retry-After)"))
        else:  # claimed by another process, or being claimed at this very moment
            by = f" ({row.claimed_by})" if row.claimed_by else ""
            out.append((row.url, f"another newsmonitor process{by} is polling it now"))
    return out
