"""The long-running service: APScheduler jobs are the clock, the database holds the schedule.

Jobs (all ``max_instances=1``, ``coalesce=True``, in-memory job store):

* ``tick`` every second: start polling the feeds that are due and not already in flight;
* ``drain`` every second: send the alerts that are due;
* ``upkeep`` hourly: SQLite checkpoint and ``PRAGMA optimize``.

Each job only starts background work and returns, so one slow feed never delays the
next tick.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.orm import Session

from monitor import fetch
from monitor.config import Config
from monitor.deliver import build_channels
from monitor.deliver.worker import DrainReport, drain
from monitor.errors import MonitorError
from monitor.match import compile_rules
from monitor.pipeline import FeedSettings, Poller, PollOutcome, poll_feed
from monitor.records import FeedState
from monitor.store import feeds
from monitor.store.db import Database
from monitor.text import one_line, plural

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

TICK_SECONDS = 1.0
DRAIN_SECONDS = 1.0
UPKEEP_SECONDS = 3600.0
SHUTDOWN_GRACE = 20.0


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CycleReport:
    """The outcome of polling a batch of feeds."""

    outcomes: tuple[PollOutcome, ...]

    @property
    def failed(self) -> int:
        return sum(o.error is not None for o in self.outcomes)

    @property
    def alerts(self) -> int:
        return sum(o.alerts for o in self.outcomes)

    def summary(self) -> str:
        o = self.outcomes
        return (
            f"polled {plural(len(o), 'feed')} ({sum(x.new_entries > 0 for x in o)} with new"
            f" entries, {sum(x.unchanged for x in o)} unchanged, {self.failed} failed):"
            f" {plural(sum(x.new_entries for x in o), 'new entry', 'new entries')},"
            f" {plural(sum(x.hits for x in o), 'hit')}, {plural(self.alerts, 'alert')} queued"
        )


class Daemon:
    """Owns the clients, the matcher and the background work of one process."""

    def __init__(
        self,
        config: Config,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.rng = rng or random.Random()
        net = config.network
        self._fetch_client = fetch.make_client(net.concurrency, net.user_agent)
        self._send_client = httpx.AsyncClient(
            trust_env=False, headers={"User-Agent": net.user_agent or fetch.USER_AGENT}
        )
        self.channels = build_channels(config.channels, self._send_client)
        self.poller = Poller(
            db=db,
            fetcher=fetch.Fetcher(
                self._fetch_client,
                fetch.FetchLimits(deadline=net.timeout.total_seconds(), max_body=net.max_body),
            ),
            matcher=compile_rules(config.rules),
            rule_channels={r.name: r.channels for r in config.rules},
            settings={
                f.url: FeedSettings(config.feed_interval(f), config.feed_backlog(f))
                for f in config.feeds
            },
            default=FeedSettings(config.defaults.interval, config.defaults.backlog_alerts),
            clock=clock,
            rng=self.rng,
        )
        self._gate = asyncio.Semaphore(net.concurrency)
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[object]] = set()
        self._draining: asyncio.Task[DrainReport] | None = None
        self._wake: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> Daemon:
        await asyncio.to_thread(self._sync_feeds)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._fetch_client.aclose()
        await self._send_client.aclose()

    def _sync_feeds(self) -> None:
        with self.db.transaction() as s:
            feeds.sync(s, [(f.url, f.name) for f in self.config.feeds], self.clock())

    async def poll(self, batch: list[FeedState]) -> CycleReport:
        """Poll these feeds concurrently (within the global limit) and log one line."""
        self._in_flight.update(f.id for f in batch)

        async def one(feed: FeedState) -> PollOutcome:
            try:
                async with self._gate:
                    return await poll_feed(self.poller, feed)
            finally:
                self._in_flight.discard(feed.id)

        report = CycleReport(tuple(await asyncio.gather(*(one(f) for f in batch))))
        log.info("%s", report.summary())
        return report

    async def poll_and_send(self, batch: list[FeedState]) -> None:
        """A tick's work: poll, then start sending at once rather than at the next drain."""
        if (await self.poll(batch)).alerts:
            await self.drain_job()

    async def poll_all(self) -> CycleReport:
        """Poll every configured feed once, due or not."""
        batch = await asyncio.to_thread(self._read, feeds.active)
        return await self.poll(batch)

    async def drain(self, *, ignore_delay: bool = False) -> DrainReport:
        """Send due alerts (every pending one with ``ignore_delay``)."""
        return await drain(self.db, self.channels, self.clock, self.rng, ignore_delay=ignore_delay)

    def _read(self, query: Callable[[Session], R]) -> R:
        with self.db.transaction() as s:
            return query(s)

    async def tick(self) -> None:
        """Start polling the feeds that are due and not already being polled.

        If another feed falls due before the next tick, a timer wakes the tick for it,
        so intervals shorter than the tick period are honoured.
        """
        skip = set(self._in_flight)
        now = self.clock()

        def read(s: Session) -> tuple[list[FeedState], datetime | None]:
            due = feeds.due(s, now, skip)
            return due, feeds.next_due_at(s, skip | {f.id for f in due})

        due, soonest = await asyncio.to_thread(self._read, read)
        if due:
            self._in_flight.update(f.id for f in due)  # before the next tick can see them
            self._spawn(self.poll_and_send(due))
        if soonest is not None and self._wake is None:
            wait = max((soonest - now).total_seconds(), 0.0)
            if wait < TICK_SECONDS:
                self._wake = asyncio.get_running_loop().call_later(wait, self._woken)

    def _woken(self) -> None:
        self._wake = None
        self._spawn(self._job(self.tick)())

    async def drain_job(self) -> None:
        """Start a drain unless one is still running."""
        if self._draining is None or self._draining.done():
            self._draining = self._spawn(self.drain())

    async def upkeep(self) -> None:
        """Keep SQLite's WAL file small and its statistics fresh."""
        if self.db.engine.dialect.name != "sqlite":
            return

        def work() -> None:
            with self.db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.exec_driver_sql("PRAGMA optimize")
                conn.execute(text("SELECT 1"))

        await asyncio.to_thread(work)

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background work failed: %s", one_line(str(exc) or type(exc).__name__))

    @staticmethod
    def _job(work: Callable[[], Awaitable[None]]) -> Callable[[], Coroutine[Any, Any, None]]:
        """A job's top level: any error is one log line, and the job runs again next time."""

        async def job() -> None:
            try:
                await work()
            except MonitorError as exc:
                log.error("%s: %s", work.__name__, exc)
            except Exception as exc:  # the one place a broad catch belongs
                log.error("%s failed unexpectedly: %s", work.__name__, one_line(repr(exc)))

        job.__name__ = work.__name__
        return job

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then finish in-flight work within a grace period."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        jobs = (
            (self.tick, TICK_SECONDS, now),
            (self.drain_job, DRAIN_SECONDS, now),
            (self.upkeep, UPKEEP_SECONDS, None),
        )
        for work, seconds, first in jobs:
            scheduler.add_job(
                self._job(work),
                "interval",
                seconds=seconds,
                id=work.__name__,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                **({"next_run_time": first} if first else {}),
            )
        scheduler.start()
        c = self.config
        log.info(
            "newsmonitor running: %s, %s, %s, database %s",
            plural(len(c.feeds), "feed"),
            plural(len(c.rules), "rule"),
            plural(len(c.channels), "channel"),
            self.db.describe(),
        )
        try:
            await stop.wait()
        finally:
            log.info("stopping: finishing the work under way")
            scheduler.shutdown(wait=False)
            if self._wake is not None:
                self._wake.cancel()
            await self.finish()

    async def finish(self) -> None:
        """Wait for background work (up to the grace period), then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("stopped %d tasks still running after %g s", len(pending), SHUTDOWN_GRACE)
            await asyncio.wait(pending)


async def serve(cfg: Config, db: Database, stop: asyncio.Event | None = None) -> None:
    """Run the daemon until ``stop`` is set or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Daemon(cfg, db) as daemon:
            await daemon.run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
