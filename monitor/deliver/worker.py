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
# How long a taken alert is reserved for its sender; longer than any send can take
# (channel timeouts are 30 s by default), short enough that a crashed worker's alerts
# go out again soon.
LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class DrainReport:
    sent: int = 0
    failed: int = 0


async def drain(
    db: Database,
    channels: Mapping[str, Channel],
    clock: Callable[[], datetime],
    rng: random.Random,
    *,
    ignore_delay: bool = False,
) -> DrainReport:
    """Send the alerts that are due (all pending ones with ``ignore_delay``).

    Each outcome is committed as soon as it is known, so a crash repeats at most the
    sends that were under way, with the same alert id.
    """

    def take() -> list[Alert]:
        with db.transaction() as s:
            limit = 10_000 if ignore_delay else BATCH
            return outbox.claim(s, clock(), LEASE, limit=limit, ignore_delay=ignore_delay)

    alerts = await asyncio.to_thread(take)
    if not alerts:
        return DrainReport()
    gate = asyncio.Semaphore(PARALLEL_SENDS)
    results = await asyncio.gather(
        *(_deliver(db, channels, alert, clock, rng, gate) for alert in alerts)
    )
    report = DrainReport(sent=sum(results), failed=len(results) - sum(results))
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
    gate: asyncio.Semaphore,
) -> bool:
    channel = channels.get(alert.channel)
    async with gate:
        try:
            if channel is None:
                raise DeliveryError(
                    alert.channel, f"channel {alert.channel!r} is no longer configured"
                )
            await channel.send(alert)
        except Exception as exc:  # one alert's top level: whatever happened, retry it later
            reason = (
                exc.reason if isinstance(exc, DeliveryError) else f"unexpected failure: {exc!r}"
            )
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
