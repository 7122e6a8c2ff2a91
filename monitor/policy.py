"""Pure timing decisions: when a feed is next polled, when a failed alert is retried.

Every function takes ``now`` and a random source so that callers (and tests) decide
the clock and the jitter.
"""

from __future__ import annotations

import email.utils
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from monitor.config import ChannelConfig, parse_clock

MAX_JITTER = timedelta(seconds=30)
MAX_FEED_BACKOFF = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)


def next_poll_at(now: datetime, interval: timedelta, rng: random.Random) -> datetime:
    """After a successful poll: the interval plus up to 10% (at most 30 s) of jitter.

    The jitter spreads feeds that share an interval instead of firing them together.
    """
    jitter: timedelta = min(interval * 0.1, MAX_JITTER) * rng.random()
    return now + interval + jitter


def next_poll_after_error(
    now: datetime, interval: timedelta, consecutive_errors: int, rng: random.Random
) -> datetime:
    """After a failed poll: the interval doubled per consecutive error, ±10%, at most 24 h."""
    factor = 2 ** min(max(consecutive_errors - 1, 0), 20)
    return now + _spread(interval * factor, MAX_FEED_BACKOFF, rng)


def retry_alert_at(now: datetime, attempts: int, rng: random.Random) -> datetime:
    """After a failed send (``attempts`` so far): 30 s, 1 min, 2 min ... ±10%, at most 1 h."""
    factor = 2 ** min(max(attempts - 1, 0), 20)
    return now + _spread(FIRST_RETRY * factor, MAX_RETRY, rng)


def _spread(base: timedelta, cap: timedelta, rng: random.Random) -> timedelta:
    """``base`` ±10%, never above ``cap``; at the cap, spread over the 10% below it so
    that capped retries do not all fire together."""
    low = min(base, cap) * 0.9
    high = min(base * 1.1, cap)
    spread: timedelta = low + (high - low) * rng.random()
    return spread


def should_alert(
    first_poll: bool, published: datetime | None, now: datetime, backlog: timedelta
) -> bool:
    """Whether a new entry is alerted: always after the first poll; on the first poll only
    if it is dated within ``backlog`` (undated entries are not), so a channel is not
    flooded with a feed's whole history."""
    if not first_poll:
        return True
    return published is not None and now - published <= backlog


# -- delivery modes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """A channel's delivery settings as the pure functions below need them."""

    digest_every: timedelta | None = None
    digest_at: time | None = None
    timezone: str = "UTC"
    quiet: tuple[time, time] | None = None
    rate: tuple[int, timedelta] | None = None
    give_up_after: timedelta = timedelta(days=1)

    @property
    def digest(self) -> bool:
        return self.digest_every is not None or self.digest_at is not None


def delivery_plan(cfg: ChannelConfig) -> DeliveryPlan:
    """The plan of a configured channel."""
    quiet = None
    if cfg.quiet_hours:
        start, _, end = cfg.quiet_hours.partition("-")
        quiet = (parse_clock(start), parse_clock(end))
    return DeliveryPlan(
        digest_every=cfg.digest_every if cfg.mode == "digest" else None,
        digest_at=parse_clock(cfg.digest_at) if cfg.mode == "digest" and cfg.digest_at else None,
        timezone=cfg.timezone,
        quiet=quiet,
        rate=cfg.rate(),
        give_up_after=cfg.give_up_after,
    )


def hold(now: datetime, plan: DeliveryPlan, urgent: bool) -> tuple[datetime, str | None]:
    """When a new alert may go out, and why it waits (None: at once, on its own).

    An urgent rule's alert goes out at once, whatever the channel's digest or quiet hours.
    """
    if urgent:
        return now, None
    if plan.digest:
        return next_digest_at(now, plan), "digest"
    end = quiet_end(now, plan)
    if end is not None:
        return end, "quiet hours"
    return now, None


def next_digest_at(now: datetime, plan: DeliveryPlan) -> datetime:
    """The next digest time after ``now``: daily at ``digest_at``, or every
    ``digest_every`` counted from midnight, both in the plan's time zone."""
    tz = ZoneInfo(plan.timezone)
    local = now.astimezone(tz)
    if plan.digest_at is not None:
        for days in (0, 1, 2):  # (2: a DST jump can skip the time on the next day)
            day = local.date() + timedelta(days=days)
            candidate = datetime.combine(day, plan.digest_at, tzinfo=tz)
            if candidate > local:
                return candidate.astimezone(UTC)
    assert plan.digest_every is not None
    every = plan.digest_every.total_seconds()
    midnight = datetime.combine(local.date(), time(0), tzinfo=tz)
    since = (local - midnight).total_seconds()
    if every >= 86400:
        since = now.timestamp()
        return datetime.fromtimestamp((since // every + 1) * every, UTC)
    step = (since // every + 1) * every
    return (midnight + timedelta(seconds=step)).astimezone(UTC)


def quiet_end(now: datetime, plan: DeliveryPlan) -> datetime | None:
    """If ``now`` is within the plan's quiet hours, when they end; else None."""
    if plan.quiet is None:
        return None
    start, end = plan.quiet
    tz = ZoneInfo(plan.timezone)
    local = now.astimezone(tz)
    t = local.time()
    if start < end:
        inside, end_day = start <= t < end, local.date()
    else:  # across midnight, e.g. 22:00-07:00
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1 if t >= start else 0)
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(UTC)


def rate_allowance(
    sent: Sequence[datetime], now: datetime, rate: tuple[int, timedelta] | None
) -> tuple[int | None, datetime | None]:
    """How many more messages the channel may send now (None: no limit), and, when none,
    the moment the oldest message in the window leaves it."""
    if rate is None:
        return None, None
    limit, period = rate
    recent = sorted(t for t in sent if t > now - period)
    remaining = max(limit - len(recent), 0)
    frees_at = recent[len(recent) - limit] + period if remaining == 0 and recent else None
    return remaining, frees_at


def gives_up(permanent: bool, queued_at: datetime, now: datetime, plan: DeliveryPlan) -> bool:
    """A permanent refusal (a 4xx) of an alert queued longer ago than ``give_up_after``
    marks it failed; anything else is retried."""
    return permanent and now - queued_at >= plan.give_up_after


# -- publisher hints (issue: polite polling) --------------------------------------------

_SY_PERIOD = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
MAX_RETRY_AFTER = timedelta(days=1)


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (RFC 9110 5.6.7) as an aware datetime, or None."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds, or an HTTP date; RFC 9110 10.2.3) as a delay from
    ``now``, at most a day; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(timedelta(seconds=int(value)), MAX_RETRY_AFTER)
    when = http_date(value)
    if when is None:
        return None
    return min(max(when - now, timedelta(0)), MAX_RETRY_AFTER)


def publisher_hint(
    cache_control: str | None,
    expires: str | None,
    date: str | None,
    ttl_minutes: int | None,
    update_period: str | None,
    update_frequency: int | None,
    now: datetime,
) -> timedelta | None:
    """The longest polling interval the publisher asks for, or None.

    Cache-Control ``max-age`` (else ``Expires`` minus ``Date``; RFC 9111 4.2.1), RSS
    ``<ttl>`` (minutes) and ``sy:updatePeriod`` / ``sy:updateFrequency`` (the RSS 1.0
    syndication module). ``no-cache``/``no-store`` ask nothing of a poller's interval.
    """
    hints: list[timedelta] = []
    max_age = _MAX_AGE.search(cache_control or "")
    if max_age:
        hints.append(timedelta(seconds=int(max_age.group(1))))
    else:
        expires_at = http_date(expires)
        if expires_at is not None:
            hints.append(expires_at - (http_date(date) or now))
    if ttl_minutes:
        hints.append(timedelta(minutes=ttl_minutes))
    if update_period in _SY_PERIOD:
        hints.append(timedelta(seconds=_SY_PERIOD[update_period] / max(update_frequency or 1, 1)))
    hints = [h for h in hints if h > timedelta(0)]
    return max(hints) if hints else None


def polite_interval(interval: timedelta, hint: timedelta | None, cap: timedelta) -> timedelta:
    """The interval, lengthened by the publisher's hint up to ``cap``; never shortened."""
    if hint is None:
        return interval
    return max(interval, min(hint, cap))


# -- permanent redirects --------------------------------------------------------------

# A 301/308 to the same place on this many polls in a row, and the feed has moved.
MOVED_AFTER = 3


def track_move(target: str | None, count: int, seen: str | None) -> tuple[str | None, int]:
    """The feed's permanent-redirect state after a successful poll that was (``seen``)
    or was not permanently redirected: the same target counts up; a confirmed move
    (``MOVED_AFTER`` polls) stays, since its new address is then fetched directly."""
    if count >= MOVED_AFTER and seen is None:
        return target, count
    if seen is None:
        return None, 0
    return seen, count + 1 if seen == target else 1


def host_of(url: str) -> str:
    """A URL's host as limits and Retry-After count it: name and port (default port
    made explicit, no credentials, no case)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"
