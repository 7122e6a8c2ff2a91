"""The delivery worker: take due alerts from the outbox, send them, record the outcome."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor import policy
from monitor.deliver import Channel
from monitor.errors import DeliveryError
from monitor.records import Alert
from monitor.store import outbox
from monitor.store.db import Database
from monitor.text import one_line, plural

log = logging.getLogger(__name__)

BATCH = 100
PARALLEL_SENDS = 8
# How long a claimed alert is reserved for its sender: longer than any send can take
# (channel timeouts are at most 2 minutes), short enough that a crashed worker's
# alerts go out again soon.
LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class DrainReport:
    """Each alert tried: its channel and whether it was delivered."""

    outcomes: tuple[tuple[str, bool], ...] = ()

    @property
    def sent(self) -> int:
        return sum(ok for _, ok in self.outcomes)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.sent


async def drain(
    db: Database,
    channels: Mapping[str, Channel],
    clock: Callable[[], datetime],
    rng: random.Random,
    *,
    ignore_delay: bool = False,
) -> DrainReport:
    """Send the alerts that are due (all pending ones with ``ignore_delay``).

    Alerts are claimed a few at a time, just before they are sent, so a claim never
    outlives its send (each send is bounded by its channel's timeout, at most two
    minutes, well inside the lease). Each outcome is committed as soon as it is known,
    so a crash repeats at most the sends that were under way, with the same alert id.
    At most ``BATCH`` alerts per call, except with ``ignore_delay``, which tries every
    pending alert once.
    """
    tried: set[int] = set()

    def take() -> list[Alert]:
        with db.transaction() as s:
            return outbox.claim(
                s, clock(), LEASE, limit=PARALLEL_SENDS, ignore_delay=ignore_delay, skip=tried
            )

    results: list[tuple[str, bool]] = []
    while ignore_delay or len(results) < BATCH:
        alerts = await asyncio.to_thread(take)
        if not alerts:
            break
        tried.update(a.outbox_id for a in alerts)
        sent = await asyncio.gather(*(_deliver(db, channels, a, clock, rng) for a in alerts))
        results += zip((a.channel for a in alerts), sent, strict=True)
    if not results:
        return DrainReport()
    report = DrainReport(tuple(results))
    log.info(
        "delivery: %s sent, %d failed (kept for retry)", plural(report.sent, "alert"), report.failed
    )
    return report


async def _deliver(
    db: Database,
    channels: Mapping[str, Channel],
    alert: Alert,
    clock: Callable[[], datetime],
    rng: random.Random,
) -> bool:
    channel = channels.get(alert.channel)
    try:
        if channel is None:
            raise DeliveryError(alert.channel, f"channel {alert.channel!r} is no longer configured")
        await channel.send(alert)
    except asyncio.CancelledError:
        # Stopping mid-send: free the claim so the next start sends it at once (maybe a
        # second time, with the same id) instead of after the lease. Synchronous: this
        # task is being cancelled and may not await any more.
        _release(db, alert.outbox_id)
        raise
    except Exception as exc:  # one alert's top level: whatever happened, retry it later
        reason = exc.reason if isinstance(exc, DeliveryError) else f"unexpected failure: {exc!r}"
        reason = one_line(reason, 300)
        retry_at = policy.retry_alert_at(clock(), alert.attempts + 1, rng)
        log.warning("alert %s to %s failed: %s", alert.alert_id, alert.channel, reason)
        await asyncio.to_thread(_record_retry, db, alert.outbox_id, reason, retry_at)
        return False
    await asyncio.to_thread(_record_sent, db, alert.outbox_id, clock())
    return True


def _record_sent(db: Database, outbox_id: int, now: datetime) -> None:
    with db.transaction() as s:
        outbox.mark_sent(s, outbox_id, now)


def _record_retry(db: Database, outbox_id: int, reason: str, retry_at: datetime) -> None:
    with db.transaction() as s:
        outbox.mark_retry(s, outbox_id, reason, retry_at)


def _release(db: Database, outbox_id: int) -> None:
    with db.transaction() as s:
        outbox.release(s, outbox_id)
