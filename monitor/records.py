"""Frozen records passed between the stages; no behaviour beyond simple derivations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """A feed's own fetch settings from its ``[[feeds]]`` table; the defaults change nothing.

    ``timeout`` (seconds) replaces the whole-fetch deadline of ``[network] timeout``.
    Headers, the password and the proxy URL are left out of ``repr``: they may hold
    secrets, which must never reach a log.
    """

    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    user_agent: str | None = None
    proxy: str | None = field(default=None, repr=False)  # may carry the proxy's password
    verify_tls: bool = True
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a fetch returned: a body (200) or "not modified" (304).

    ``body_hash`` is the SHA-256 (hex) of the decoded body. ``final_url`` is where the
    redirects led (``None`` without redirects; relative links in the body resolve against
    it); ``permanent_redirect`` says that every one of them was a 301 or 308, so the feed
    has moved for good.
    """

    url: str
    not_modified: bool
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    body_hash: str | None = None
    final_url: str | None = None
    permanent_redirect: bool = False
    # Caching hints (RFC 9111): they may lengthen the feed's interval.
    cache_control: str | None = None
    expires: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One feed entry as plain text; ``identity`` is stable across polls."""

    identity: str
    title: str
    link: str | None
    author: str | None
    published: datetime | None
    summary: str
    content: str
    categories: tuple[str, ...] = ()
    feed_title: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed; ``problem`` notes a body that was read although not well-formed."""

    title: str | None
    entries: tuple[ParsedEntry, ...]
    problem: str | None = None
    # Publisher hints: RSS <ttl> (minutes); sy:updatePeriod and sy:updateFrequency.
    ttl_minutes: int | None = None
    update_period: str | None = None
    update_frequency: int | None = None
    # Each entry's rule matches (in ``entries`` order), when a parser process matched
    # them (see monitor.parsepool); None when matching is left to the poller.
    matches: tuple[tuple[RuleMatch, ...], ...] | None = None
    # Identities of entries left unread because they were known (monitor.skim).
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One rule matching one entry: which of its terms were found, and where.

    ``snippet`` is plain text; ``marks`` are the ``[start, end)`` character ranges of the
    matched text in it, so each destination marks them in its own format.
    """

    rule: str
    terms: tuple[str, ...]
    field: str
    snippet: str
    marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed row as the poller needs it."""

    id: int
    url: str
    name: str | None
    etag: str | None
    last_modified: str | None
    consecutive_errors: int
    first_success_at: datetime | None
    body_hash: str | None = None
    fetch_url: str = ""  # where to fetch from: ``url``, or where it has moved for good

    @property
    def source(self) -> str:
        return self.fetch_url or self.url


@dataclass(frozen=True, slots=True)
class Alert:
    """Everything a channel needs to render one alert: for one entry (``kind`` "hit"), or
    for a feed's health (``kind`` "health": ``status`` "unhealthy" or "recovered", a
    one-sentence ``reason``, ``since`` when that state began; no entry, no matches).
    """

    alert_id: str
    outbox_id: int
    channel: str
    entry_id: str
    title: str
    link: str | None
    published: datetime | None
    author: str | None
    feed_url: str
    feed_name: str
    matches: tuple[RuleMatch, ...]
    detected_at: datetime
    attempts: int
    hold_reason: str | None = None
    kind: str = "hit"
    status: str | None = None
    reason: str | None = None
    since: datetime | None = None

    @property
    def health(self) -> bool:
        return self.kind == "health"


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to one channel: a single alert, or several folded into a digest.

    ``delivery_id`` is the idempotency key receivers see: the alert's id for a single
    alert, a UUIDv5 of the alert ids for a digest. ``reason`` says why alerts were
    folded together: ``digest`` (the channel's schedule), ``quiet hours`` or
    ``rate limit``.
    """

    channel: str
    delivery_id: str
    alerts: tuple[Alert, ...]
    reason: str | None = None

    @property
    def digest(self) -> bool:
        return self.reason is not None
