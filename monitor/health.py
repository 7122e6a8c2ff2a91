"""Pure feed health: whether a feed is unhealthy, and which alert (if any) that calls for.

A feed is unhealthy after ``failures`` consecutive failed polls (the pipeline does not
count failures while the machine is offline), or when it has answered for longer than
its silence threshold without producing a new entry. Everything here is a function of
the feed's stored counters, its recent entry times and ``now``: no database, no clock.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from monitor.deliver.routing import health_alert_id
from monitor.text import one_line

OK = "ok"
UNHEALTHY = "unhealthy"
RECOVERED = "recovered"

# "auto": the threshold is several times the feed's median gap between new entries
# over the last weeks, never below a day, and only once there is enough history.
AUTO_WINDOW = timedelta(days=28)
AUTO_FACTOR = 4
AUTO_MIN = timedelta(days=1)
AUTO_MIN_ENTRIES = 5

Action = Literal["none", "unhealthy", "remind", "recovered"]


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """What the health check knows of one feed.

    ``entry_times`` are when its entries appeared within :data:`AUTO_WINDOW` (their
    published date when plausible, else when first seen); ``last_new_at`` is when the
    newest entry was first seen.
    """

    id: int
    url: str
    name: str
    consecutive_errors: int
    last_error: str | None
    first_success_at: datetime | None
    last_success_at: datetime | None
    last_new_at: datetime | None
    entry_times: tuple[datetime, ...]
    health: str = OK
    unhealthy_since: datetime | None = None
    health_reason: str | None = None
    notified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The feed's new health state and the alert it calls for (``action``)."""

    action: Action
    health: str
    since: datetime | None
    reason: str | None
    notified_at: datetime | None

    def changes(self, feed: FeedHealth) -> bool:
        """Whether the feed's stored health must be written (or an alert sent)."""
        stored = (feed.health, feed.unhealthy_since, feed.health_reason, feed.notified_at)
        mine = (self.health, self.since, self.reason, self.notified_at)
        return self.action != "none" or stored != mine


@dataclass(frozen=True, slots=True)
class HealthAlert:
    """One health alert to queue for one channel."""

    channel: str
    alert_id: str
    status: str
    reason: str
    since: datetime


def silence_threshold(
    silence: timedelta | Literal["auto"], entry_times: Sequence[datetime]
) -> timedelta | None:
    """How long the feed may go without a new entry; ``None``: no silence alarm (auto,
    too little history)."""
    if silence != "auto":
        return silence
    if len(entry_times) < AUTO_MIN_ENTRIES:
        return None
    times = sorted(entry_times)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    median = timedelta(seconds=statistics.median(gaps))
    return max(AUTO_MIN, median * AUTO_FACTOR)


def needs_history(feed: FeedHealth, silence: timedelta | Literal["auto"]) -> bool:
    """Whether the feed's entry times can change its verdict: only under "auto", and only
    once it has answered for longer than the least threshold "auto" gives (``AUTO_MIN``)
    without a new entry. Reading them for every feed at every check would cost more
    than the rest of the check; a feed with news today needs none."""
    start = feed.last_new_at or feed.first_success_at
    if silence != "auto" or start is None or feed.last_success_at is None:
        return False
    return feed.last_success_at - start > AUTO_MIN


def _span(value: timedelta) -> str:
    hours = value.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    if hours >= 1:
        return f"{hours:.0f} hours"
    return f"{max(value.total_seconds() / 60, 1):.0f} minutes"


def problem(feed: FeedHealth, failures: int, silence: timedelta | Literal["auto"]) -> str | None:
    """Why the feed is unhealthy (one sentence), or ``None`` when it is not."""
    if feed.consecutive_errors >= failures:
        last = one_line(feed.last_error or "no reason recorded", 200).rstrip(".")
        polls = "poll" if feed.consecutive_errors == 1 else f"{feed.consecutive_errors} polls"
        return f"The last {polls} failed: {last}."
    threshold = silence_threshold(silence, feed.entry_times)
    start = feed.last_new_at or feed.first_success_at
    if threshold is None or start is None or feed.last_success_at is None:
        return None
    # Silence counts only while the feed answers: an offline machine or a failing
    # feed is not a silent one.
    if feed.last_success_at - start > threshold:
        what = "a new entry" if feed.last_new_at else "any entry"
        return (
            f"The feed has answered without {what} for "
            f"{_span(feed.last_success_at - start)} (more than {_span(threshold)})."
        )
    return None


def judge(
    feed: FeedHealth,
    now: datetime,
    *,
    failures: int,
    silence: timedelta | Literal["auto"],
    remind: timedelta,
) -> Verdict:
    """The feed's health at ``now``: one alert when it turns unhealthy, a reminder every
    ``remind`` while it stays so, one when it recovers; otherwise none."""
    reason = problem(feed, failures, silence)
    if feed.health != UNHEALTHY:
        if reason is None:
            return Verdict("none", OK, None, None, None)
        return Verdict("unhealthy", UNHEALTHY, now, reason, now)
    if reason is None:
        return Verdict("recovered", OK, None, None, None)
    since = feed.unhealthy_since or now
    if feed.notified_at is None or now - feed.notified_at >= remind:
        return Verdict("remind", UNHEALTHY, since, reason, now)
    return Verdict("none", UNHEALTHY, since, reason, feed.notified_at)


def recovery_reason(feed: FeedHealth) -> str:
    """One sentence for the recovered alert."""
    if feed.health_reason and feed.health_reason.startswith("The last"):
        return "The feed answers again after failed polls."
    return "The feed has a new entry again."


def alerts(
    feed: FeedHealth, verdict: Verdict, channels: Sequence[str], now: datetime
) -> list[HealthAlert]:
    """The alerts a verdict calls for, one per channel; each id is stable for its feed,
    status, decision time and channel, so a retry reuses it and a reminder has its own."""
    if verdict.action == "none":
        return []
    if verdict.action == "recovered":
        status, reason, since, at = RECOVERED, recovery_reason(feed), now, now
    else:
        status, reason = UNHEALTHY, verdict.reason or ""
        since, at = verdict.since or now, verdict.notified_at or now
    return [
        HealthAlert(c, health_alert_id(feed.url, status, at, c), status, reason, since)
        for c in channels
    ]
