"""One feed's poll, start to end: fetch, parse, new entries, match, store.

This module joins the stages and holds no decisions of its own: timing comes from
:mod:`monitor.policy`, matching from :mod:`monitor.match`, routing from
:mod:`monitor.deliver.routing`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from monitor import policy
from monitor.connectivity import Connectivity
from monitor.deliver.routing import alert_id, channels_for
from monitor.errors import FetchError, ParseError, StoreError
from monitor.fetch import NO_OPTIONS, Fetcher
from monitor.match import Matcher
from monitor.parse import parse_feed
from monitor.records import (
    FeedState,
    FetchOptions,
    FetchResult,
    ParsedEntry,
    ParsedFeed,
    RuleMatch,
)
from monitor.store import entries, feeds, hits, outbox
from monitor.store.batch import GroupCommit
from monitor.store.db import Database
from monitor.text import one_line

log = logging.getLogger(__name__)
NO_PLAN = policy.DeliveryPlan()


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """What the poller needs to know of a feed's configuration."""

    interval: timedelta
    backlog: timedelta
    fetch: FetchOptions = NO_OPTIONS
    max_interval: timedelta = timedelta(days=1)
    hints: bool = True


Parse = Callable[[bytes, str, str | None, frozenset[str]], Awaitable[ParsedFeed]]


async def parse_in_thread(
    body: bytes, url: str, content_type: str | None, known: frozenset[str]
) -> ParsedFeed:
    """The plain way to parse: in a worker thread (see :mod:`monitor.parsepool`)."""
    return await asyncio.to_thread(parse_feed, body, url, content_type, known)


@dataclass(frozen=True, slots=True)
class Poller:
    """Everything one poll needs; shared by all feeds of a process."""

    db: Database
    fetcher: Fetcher
    matcher: Matcher
    rule_channels: Mapping[str, Sequence[str]]
    urgent_rules: frozenset[str]
    plans: Mapping[str, policy.DeliveryPlan]
    settings: Mapping[str, FeedSettings]
    default: FeedSettings
    clock: Callable[[], datetime]
    rng: random.Random
    writes: GroupCommit
    connectivity: Connectivity = dataclasses.field(default_factory=Connectivity)
    parse: Parse = parse_in_thread


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """How one feed's poll went."""

    url: str
    unchanged: bool = False
    parsed: int = 0
    new_entries: int = 0
    hits: int = 0
    alerts: int = 0
    error: str | None = None
    hit_rules: tuple[str, ...] = ()
    fetch_seconds: float | None = None

    @property
    def outcome(self) -> str:
        """``ok``, ``not_modified`` or ``error`` (the metrics label)."""
        return "error" if self.error else "not_modified" if self.unchanged else "ok"


async def poll_feed(poller: Poller, feed: FeedState) -> PollOutcome:
    """Poll one feed and store what is new; a failure is recorded on the feed, not raised."""
    settings = poller.settings.get(feed.url, poller.default)
    started = time.monotonic()
    fetch_seconds = None
    try:
        try:
            result = await poller.fetcher.fetch(
                feed.source, feed.etag, feed.last_modified, settings.fetch
            )
        except FetchError as exc:
            _observe(poller, feed.source, connected=not exc.network)
            raise
        finally:
            fetch_seconds = time.monotonic() - started  # failed fetches count too
        _observe(poller, feed.source, connected=True)
        # A body identical to the last one read is unchanged too: it is not parsed again.
        if result.not_modified or (result.body_hash and result.body_hash == feed.body_hash):
            outcome = await _unchanged(poller, feed, settings, result)
        else:
            url = result.final_url or feed.source
            # The entries of the last body read need not be parsed again (monitor.skim).
            recent = frozenset[str]()
            if feed.first_success_at is not None:
                recent = await poller.writes.run(lambda s: entries.in_last_body(s, feed.id))
            parsed = await poller.parse(result.body, url, result.content_type, recent)
            outcome = await _changed(poller, feed, settings, result, parsed)
        return dataclasses.replace(outcome, fetch_seconds=fetch_seconds)
    except Exception as exc:  # one feed's top level: record it, back off, keep polling
        known = isinstance(exc, FetchError | ParseError | StoreError)
        reason = one_line(str(exc) if known else f"unexpected failure: {exc!r}", 300)
        offline = isinstance(exc, FetchError) and exc.network and poller.connectivity.offline
        if not offline:
            log.warning("feed %s: %s", feed.url, reason)
        try:
            await asyncio.to_thread(_record_error, poller, feed, settings, reason, exc, offline)
        except StoreError as store_exc:
            log.error("feed %s: could not record the error: %s", feed.url, store_exc)
        return PollOutcome(url=feed.url, error=reason, fetch_seconds=fetch_seconds)


def _observe(poller: Poller, url: str, connected: bool) -> None:
    change = poller.connectivity.observe(policy.host_of(url), connected)
    if change == "offline":
        log.warning(
            "no feed server can be reached: this machine seems to be offline; connection"
            " failures are not counted against feeds until a server answers again"
        )
    elif change == "online":
        log.info("a feed server answered again: the network is back")


async def _unchanged(
    poller: Poller, feed: FeedState, settings: FeedSettings, result: FetchResult
) -> PollOutcome:
    """Record a poll that found nothing new to read, in a transaction shared with others."""
    now = poller.clock()
    next_poll = _next_poll(poller, settings, result, None, now)

    def write(s: Session) -> bool:
        return feeds.mark_success(
            s, feed.id, now, next_poll, result.etag, result.last_modified, moved_to=_moved(result)
        )

    moved = await poller.writes.run(write)
    _say_moved(feed, result, moved)
    return PollOutcome(url=feed.url, unchanged=True)


async def _changed(
    poller: Poller,
    feed: FeedState,
    settings: FeedSettings,
    result: FetchResult,
    parsed: ParsedFeed,
) -> PollOutcome:
    """Match a parsed feed's new entries and store them, with their hits and alerts."""
    if parsed.problem:
        log.warning("feed %s: %s; its entries are used anyway", feed.url, parsed.problem)
    # A feed may list one entry twice: the first occurrence counts.
    firsts: dict[str, tuple[ParsedEntry, Sequence[RuleMatch] | None]] = {}
    per_entry = parsed.matches if parsed.matches is not None else (None,) * len(parsed.entries)
    for entry, found in zip(parsed.entries, per_entry, strict=True):
        firsts.setdefault(entry.identity, (entry, found))
    if parsed.matches is None:
        known, fresh = await asyncio.to_thread(_match_new, poller, feed, firsts)
    else:  # a parser process matched them all
        known, fresh = set(), [(e, found or ()) for e, found in firsts.values()]
    now = poller.clock()
    next_poll = _next_poll(poller, settings, result, parsed, now)
    first_poll = feed.first_success_at is None

    def write(s: Session) -> tuple[bool, int, int, list[str]]:
        # The feed's row first: its lock makes another process storing this feed at the
        # same moment (`poll` beside the daemon) wait for this transaction, so that its
        # insert below finds these entries stored (SQLite's write lock already does as
        # much).
        moved = feeds.mark_success(
            s,
            feed.id,
            now,
            next_poll,
            result.etag,
            result.last_modified,
            parsed.title,
            changed=True,
            body_hash=result.body_hash,
            moved_to=_moved(result),
        )
        entries.touch(s, feed.id, known | set(parsed.skipped), now)
        ids = entries.add(s, feed.id, [e for e, _ in fresh], now)
        # Stored meanwhile by another poller: still listed, so kept; not new here.
        entries.touch(s, feed.id, [e.identity for e, _ in fresh if e.identity not in ids], now)
        hit = [(ids[e.identity], e, m) for e, m in fresh if m and e.identity in ids]
        hits.add(s, [(entry_id, matches) for entry_id, _, matches in hit], now)
        n_alerts = 0
        for entry_id, entry, matches in hit:
            if policy.should_alert(first_poll, entry.published, now, settings.backlog):
                n_alerts += _queue(s, poller, feed.url, entry_id, entry, matches, now)
        return moved, len(ids), n_alerts, [m.rule for _, _, matches in hit for m in matches]

    # Shared with other polls' writes (monitor.store.batch): one transaction, one commit
    # and one thread hop for many feeds, and no two threads waiting on SQLite's lock.
    moved, stored, n_alerts, hit_rules = await poller.writes.run(write)
    _say_moved(feed, result, moved)
    return PollOutcome(
        url=feed.url,
        parsed=len(parsed.entries) + len(parsed.skipped),
        new_entries=stored,
        hits=len(hit_rules),
        alerts=n_alerts,
        hit_rules=tuple(hit_rules),
    )


def _match_new(
    poller: Poller,
    feed: FeedState,
    firsts: Mapping[str, tuple[ParsedEntry, Sequence[RuleMatch] | None]],
) -> tuple[set[str], list[tuple[ParsedEntry, Sequence[RuleMatch]]]]:
    """The entries already stored, and the others with their matches (in a worker
    thread): matched outside the write transaction, as matching is CPU work and the
    transaction holds SQLite's write lock."""
    with poller.db.transaction() as s:
        known = entries.known(s, feed.id, firsts)
    fresh: list[tuple[ParsedEntry, Sequence[RuleMatch]]] = [
        (e, poller.matcher.match(e)) for i, (e, _) in firsts.items() if i not in known
    ]
    return known, fresh


def _moved(result: FetchResult) -> str | None:
    return result.final_url if result.permanent_redirect else None


def _say_moved(feed: FeedState, result: FetchResult, moved: bool) -> None:
    if moved:
        log.warning(
            "feed %s has moved for good to %s (%d permanent redirects in a row): fetching"
            " from there now; put the new URL in the config",
            feed.url,
            result.final_url,
            policy.MOVED_AFTER,
        )


def _next_poll(
    poller: Poller,
    settings: FeedSettings,
    result: FetchResult,
    parsed: ParsedFeed | None,
    now: datetime,
) -> datetime:
    """The interval, lengthened by the publisher's hints (unless the feed ignores them)."""
    hint = None
    if settings.hints:
        hint = policy.publisher_hint(
            result.cache_control,
            result.expires,
            result.date,
            parsed.ttl_minutes if parsed else None,
            parsed.update_period if parsed else None,
            parsed.update_frequency if parsed else None,
            now,
        )
    interval = policy.polite_interval(settings.interval, hint, settings.max_interval)
    return policy.next_poll_at(now, interval, poller.rng)


def _queue(
    session: Session,
    poller: Poller,
    feed_url: str,
    entry_row_id: int,
    entry: ParsedEntry,
    matches: Sequence[RuleMatch],
    now: datetime,
) -> int:
    routed = channels_for(matches, poller.rule_channels)
    for channel, rules in routed.items():
        urgent = any(r in poller.urgent_rules for r in rules)
        due, reason = policy.hold(now, poller.plans.get(channel, NO_PLAN), urgent)
        aid = alert_id(feed_url, entry.identity, channel)
        outbox.add(session, entry_row_id, channel, rules, aid, now, due=due, hold_reason=reason)
    return len(routed)


def _record_error(
    poller: Poller,
    feed: FeedState,
    settings: FeedSettings,
    reason: str,
    exc: Exception,
    offline: bool,
) -> None:
    """Record a failed poll: backoff, or the server's Retry-After, or 410's stop; while
    the machine is offline, a connection failure is not counted and retried as usual."""
    now = poller.clock()
    fetch = exc if isinstance(exc, FetchError) else None
    if offline:
        retry = policy.next_poll_at(now, settings.interval, poller.rng)
        with poller.db.transaction() as s:
            feeds.mark_error(s, feed.id, now, retry, reason, count=False)
        return
    retry = policy.next_poll_after_error(
        now, settings.interval, feed.consecutive_errors + 1, poller.rng
    )
    wait = policy.retry_after(fetch.retry_after, now) if fetch else None
    until = now + wait if wait is not None else None
    if until is not None:
        retry = max(retry, until)
    gone = fetch is not None and fetch.status == 410
    if gone:
        log.warning(
            "feed %s answered 410 Gone: polling it stops; remove it from the config", feed.url
        )
    with poller.db.transaction() as s:
        feeds.mark_error(s, feed.id, now, retry, reason, retry_after_until=until, gone=gone)
        if until is not None:
            feeds.hold_host(s, policy.host_of(feed.source), until)
