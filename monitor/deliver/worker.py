"""The delivery worker: take due alerts from the outbox, compose messages, send them,
record the outcome."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from monitor import policy
from monitor.claimers import claimer, pid_alive
from monitor.deliver import Channel
from monitor.deliver.routing import compose
from monitor.errors import DeliveryError
from monitor.policy import DeliveryPlan
from monitor.records import Outbound
from monitor.store import outbox
from monitor.store.db import Database
from monitor.text import one_line, plural

log = logging.getLogger(__name__)

BATCH = 100
PARALLEL_SENDS = 8
HELD_MAX = 500  # alerts folded into one digest at most; more go in the next one
# How long a claimed alert is reserved for its sender: longer than any send can take
# (channel timeouts are at most 2 minutes), short enough that a crashed worker's
# alerts go out again soon.
LEASE = timedelta(minutes=5)
NO_PLAN = DeliveryPlan()


@dataclass(frozen=True, slots=True)
class DrainReport:
    """Each alert tried: its channel and whether it was delivered."""

    outcomes: tuple[tuple[str, bool], ...] = ()
    messages: int = 0

    @property
    def sent(self) -> int:
        return sum(ok for _, ok in self.outcomes)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.sent


async def drain(
    db: Database,
    channels: Mapping[str, Channel],
    plans: Mapping[str, DeliveryPlan],
    clock: Callable[[], datetime],
    rng: random.Random,
    *,
    ignore_delay: bool = False,
) -> DrainReport:
    """Send the alerts that are due (with ``ignore_delay``, also those waiting to retry).

    Alerts are claimed a few messages at a time, just before they are sent, so a claim
    never outlives its send (each send is bounded by its channel's timeout, at most two
    minutes, well inside the lease). Each outcome is committed as soon as it is known,
    so a crash repeats at most the sends that were under way, with the same ids.
    """
    tried: set[int] = set()

    def take() -> list[Outbound]:
        with db.transaction() as s:
            return _take(s, plans, clock(), tried, ignore_delay)

    outcomes: list[tuple[str, bool]] = []
    messages = 0
    while ignore_delay or len(outcomes) < BATCH:
        batch = await asyncio.to_thread(take)
        if not batch:
            break
        tried.update(a.outbox_id for m in batch for a in m.alerts)
        sent = await asyncio.gather(*(_deliver(db, channels, plans, m, clock, rng) for m in batch))
        messages += len(batch)
        outcomes += [(m.channel, ok) for m, ok in zip(batch, sent, strict=True) for _ in m.alerts]
    report = DrainReport(tuple(outcomes), messages)
    if outcomes:
        log.info(
            "delivery: %s sent in %s, %d failed (kept for retry unless refused for good)",
            plural(report.sent, "alert"),
            plural(messages, "message"),
            report.failed,
        )
    return report


def release_orphans(db: Database, now: datetime) -> int:
    """At start: free the claims of this host's processes that died mid-send."""
    with db.transaction() as s:
        return outbox.release_orphans(s, now, socket.gethostname(), pid_alive)


def _take(
    s: Session,
    plans: Mapping[str, DeliveryPlan],
    now: datetime,
    tried: set[int],
    ignore_delay: bool,
) -> list[Outbound]:
    """Claim due alerts and compose them into messages, channel by channel; alerts over a
    channel's rate limit are held for its next window (health alerts never are)."""
    me = claimer()
    singles = outbox.claim(
        s,
        now,
        LEASE,
        held=False,
        claimer=me,
        limit=PARALLEL_SENDS,
        ignore_delay=ignore_delay,
        skip=tried,
    )
    held = outbox.claim(s, now, LEASE, held=True, claimer=me, limit=HELD_MAX, skip=tried)
    # Feed health alerts go out on their own at once: digests, quiet hours and rate
    # limits are for hits.
    messages = [Outbound(a.channel, a.alert_id, (a,)) for a in singles if a.health]
    singles = [a for a in singles if not a.health]
    for channel in dict.fromkeys(a.channel for a in (*held, *singles)):
        plan = plans.get(channel, NO_PLAN)
        since = now - plan.rate[1] if plan.rate else now
        remaining, frees_at = policy.rate_allowance(
            outbox.sent_times(s, channel, since), now, plan.rate
        )
        ready, wait = compose(
            channel,
            [a for a in singles if a.channel == channel],
            [a for a in held if a.channel == channel],
            remaining,
        )
        messages += ready
        if wait:
            until = frees_at or now + (plan.rate[1] if plan.rate else timedelta(minutes=1))
            outbox.defer(s, [a.outbox_id for a in wait], until, "rate limit")
    return messages


async def _deliver(
    db: Database,
    channels: Mapping[str, Channel],
    plans: Mapping[str, DeliveryPlan],
    message: Outbound,
    clock: Callable[[], datetime],
    rng: random.Random,
) -> bool:
    ids = [a.outbox_id for a in message.alerts]
    channel = channels.get(message.channel)
    try:
        if channel is None:
            reason = f"channel {message.channel!r} is no longer configured"
            raise DeliveryError(message.channel, reason, permanent=True)
        await channel.send(message)
    except asyncio.CancelledError:
        # Stopping mid-send: free the claim so the next start sends it at once (maybe a
        # second time, with the same id) instead of after the lease. Synchronous: this
        # task is being cancelled and may not await any more.
        _record(db, outbox.release, ids)
        raise
    except Exception as exc:  # one message's top level: whatever happened, decide and go on
        await asyncio.to_thread(_failed, db, plans, message, exc, clock(), rng)
        return False
    await asyncio.to_thread(_record, db, outbox.mark_sent, ids, clock(), message.delivery_id)
    return True


def _failed(
    db: Database,
    plans: Mapping[str, DeliveryPlan],
    message: Outbound,
    exc: Exception,
    now: datetime,
    rng: random.Random,
) -> None:
    delivery = exc if isinstance(exc, DeliveryError) else None
    reason = one_line(delivery.reason if delivery else f"unexpected failure: {exc!r}", 300)
    permanent = delivery is not None and delivery.permanent
    ids = [a.outbox_id for a in message.alerts]
    oldest = min(a.detected_at for a in message.alerts)
    plan = plans.get(message.channel, NO_PLAN)
    what = f"{'digest' if message.digest else 'alert'} {message.delivery_id} to {message.channel}"
    if policy.gives_up(permanent, oldest, now, plan):
        log.warning(
            "%s failed for good (newsmonitor alerts retry sends it again): %s", what, reason
        )
        _record(db, outbox.mark_failed, ids, reason)
        return
    attempts = max(a.attempts for a in message.alerts) + 1
    retry_at = policy.retry_alert_at(now, attempts, rng)
    if delivery is not None and delivery.retry_after:
        retry_at = max(retry_at, now + timedelta(seconds=delivery.retry_after))
    log.warning("%s failed: %s", what, reason)
    _record(db, outbox.mark_retry, ids, reason, retry_at)


def _record(db: Database, action: Callable[..., None], *args: object) -> None:
    with db.transaction() as s:
        action(s, *args)
