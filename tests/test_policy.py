"""Timing decisions: poll jitter, error backoff, alert retries, first-poll backlog."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from monitor.policy import next_poll_after_error, next_poll_at, retry_alert_at, should_alert

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SEEDS = range(200)


def delays(fn: Callable[..., datetime], *args: object) -> list[timedelta]:
    return [fn(NOW, *args, random.Random(seed)) - NOW for seed in SEEDS]


# -- next poll after success ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "max_jitter"),
    [
        (timedelta(seconds=60), timedelta(seconds=6)),  # 10% of the interval
        (timedelta(minutes=5), timedelta(seconds=30)),  # 10% is exactly 30 s
        (timedelta(minutes=15), timedelta(seconds=30)),  # 10% would be 90 s: capped
        (timedelta(hours=6), timedelta(seconds=30)),
    ],
)
def test_next_poll_is_interval_plus_bounded_jitter(
    interval: timedelta, max_jitter: timedelta
) -> None:
    got = delays(next_poll_at, interval)
    assert all(interval <= d <= interval + max_jitter for d in got)
    # The jitter really spreads feeds: not all the same, and it uses most of its range.
    assert len(set(got)) > 100
    assert max(got) - interval > max_jitter * 0.8
    assert min(got) - interval < max_jitter * 0.2


def test_next_poll_is_reproducible_with_a_seed() -> None:
    interval = timedelta(minutes=15)
    a = next_poll_at(NOW, interval, random.Random(42))
    b = next_poll_at(NOW, interval, random.Random(42))
    assert a == b
    assert a.tzinfo is not None


# -- backoff after errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errors", "factor"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16)],
)
def test_error_backoff_doubles(errors: int, factor: int) -> None:
    interval = timedelta(minutes=15)
    expected = interval * factor
    got = delays(next_poll_after_error, interval, errors)
    assert all(expected * 0.9 <= d <= expected * 1.1 for d in got)
    assert len(set(got)) > 100


def test_error_backoff_grows_monotonically_until_the_cap() -> None:
    interval = timedelta(minutes=15)
    centres = [next_poll_after_error(NOW, interval, n, _Half()) - NOW for n in range(1, 12)]
    assert centres[:7] == [interval * 2**k for k in range(7)]
    assert all(a <= b for a, b in itertools.pairwise(centres))
    assert centres[-1] == timedelta(hours=24) * 0.95  # the middle of the spread below the cap


@pytest.mark.parametrize("errors", [8, 20, 50, 1000])
def test_error_backoff_reaches_the_cap(errors: int) -> None:
    got = delays(next_poll_after_error, timedelta(minutes=15), errors)
    assert all(timedelta(hours=24) * 0.9 <= d <= timedelta(hours=24) * 1.1 for d in got)


def test_error_backoff_never_exceeds_24_hours() -> None:
    # MAX_FEED_BACKOFF is the documented ceiling: jitter may spread below it, not above.
    longest = max(
        max(delays(next_poll_after_error, timedelta(minutes=15), errors))
        for errors in (8, 20, 1000)
    )
    assert longest <= timedelta(hours=24), longest


def test_error_backoff_with_huge_error_counts_does_not_overflow() -> None:
    got = next_poll_after_error(NOW, timedelta(days=2), 10**6, random.Random(1)) - NOW
    assert timedelta(hours=20) <= got <= timedelta(hours=27)


# -- alert retries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        (0, timedelta(seconds=30)),
        (1, timedelta(seconds=30)),
        (2, timedelta(minutes=1)),
        (3, timedelta(minutes=2)),
        (4, timedelta(minutes=4)),
        (5, timedelta(minutes=8)),
        (7, timedelta(minutes=32)),
        (8, timedelta(hours=1)),  # 64 min, capped
        (9, timedelta(hours=1)),
        (100, timedelta(hours=1)),
    ],
)
def test_alert_retry_grows_and_caps_with_ten_percent_jitter(
    attempts: int, expected: timedelta
) -> None:
    got = delays(retry_alert_at, attempts)
    if expected == timedelta(hours=1):
        # At the cap, spread over the 10% below it, never above.
        assert all(expected * 0.9 <= d <= expected for d in got)
        assert min(got) < expected * 0.95 < max(got)
        return
    assert all(expected * 0.9 <= d <= expected * 1.1 for d in got)
    # Jitter both ways.
    assert min(got) < expected < max(got)
    assert min(got) < expected * 0.95 and max(got) > expected * 1.05


def test_alert_retry_centre_values() -> None:
    centres = [retry_alert_at(NOW, n, _Half()) - NOW for n in range(1, 10)]
    assert centres == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(minutes=16),
        timedelta(minutes=32),
        timedelta(minutes=57),  # capped: the middle of 54-60 min
        timedelta(minutes=57),
    ]


class _Half(random.Random):
    """A random source that always gives the middle of its range (no jitter)."""

    def random(self) -> float:
        return 0.5


# -- first poll and backlog -------------------------------------------------------------------

BACKLOG = timedelta(hours=24)


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (NOW - timedelta(hours=1), True),
        (NOW - timedelta(hours=24), True),  # exactly at the edge
        (NOW - timedelta(hours=24, seconds=1), False),
        (NOW - timedelta(days=365), False),
        (NOW + timedelta(hours=2), True),  # dated in the future
        (None, False),  # undated: not on the first poll
    ],
)
def test_first_poll_alerts_only_within_backlog(published: datetime | None, expected: bool) -> None:
    assert should_alert(True, published, NOW, BACKLOG) is expected


@pytest.mark.parametrize(
    "published", [NOW - timedelta(hours=1), NOW - timedelta(days=3650), None, NOW]
)
def test_after_first_poll_everything_new_is_alerted(published: datetime | None) -> None:
    assert should_alert(False, published, NOW, BACKLOG) is True


def test_zero_backlog_alerts_nothing_old_on_first_poll() -> None:
    assert should_alert(True, NOW - timedelta(seconds=1), NOW, timedelta(0)) is False
    assert should_alert(True, NOW, NOW, timedelta(0)) is True
