"""Pure timing decisions: when a feed is next polled, when a failed alert is retried.

Every function takes ``now`` and a random source so that callers (and tests) decide
the clock and the jitter.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

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
