"""The long-running service: APScheduler jobs are the clock, the database holds the schedule.

Jobs (all ``max_instances=1``, ``coalesce=True``, in-memory job store):

* ``tick`` every second: start polling the feeds that are due and not already in flight;
* ``drain`` every second: send the alerts that are due;
* ``status`` every 10 s: heartbeat row, systemd ``STATUS=``, metrics gauges;
* ``watchdog`` at half of systemd's ``WatchdogSec`` (when set): ``WATCHDOG=1``;
* ``check_health`` every minute: judge each feed's health, queue health alerts;
* ``upkeep`` hourly: SQLite checkpoint and ``PRAGMA optimize``;
* ``prune`` daily: ``[retention]``.

Each job only starts background work and returns, so one slow feed never delays the
next tick. SIGHUP reloads the config; SIGINT and SIGTERM stop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from monitor import __version__, config, fetch, health, policy
from monitor.claimers import claimer, pid_alive
from monitor.connections import Connections
from monitor.connectivity import Connectivity
from monitor.cycle import CycleReport
from monitor.deliver import build_channels
from monitor.deliver.worker import DrainReport, drain, release_orphans
from monitor.errors import MonitorError
from monitor.match import compile_rules, rule_queries
from monitor.metrics import Metrics
from monitor.netguard import AddressPolicy
from monitor.notify import Notifier
from monitor.parsepool import ParsePool, auto_workers
from monitor.pipeline import FeedSettings, Poller, PollOutcome, poll_feed
from monitor.records import FeedState, FetchOptions
from monitor.store import daemons, feeds, retention
from monitor.store import health as feed_health
from monitor.store.batch import GroupCommit
from monitor.store.db import Database
from monitor.store.summary import Snapshot, snapshot
from monitor.text import one_line, plural

if TYPE_CHECKING:
    from monitor.api.server import HttpServer

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

TICK_SECONDS = 1.0
DRAIN_SECONDS = 1.0
STATUS_SECONDS = 10.0
UPKEEP_SECONDS = 3600.0
PRUNE_SECONDS = 86400.0
PRUNE_FIRST_AFTER = 60.0
HEALTH_SECONDS = 60.0
HEALTH_FIRST_AFTER = 15.0
# SIGTERM: work under way gets this long to finish; systemd's TimeoutStopSec is larger.
SHUTDOWN_GRACE = 8.0
# A feed claimed for a poll (store.feeds.claim_due) is free again after its fetch
# deadline and this long.
CLAIM_MARGIN = timedelta(seconds=60)
# /healthz: the scheduler is alive if its tick ran this recently.
TICK_STALE_AFTER = 10.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def fetch_options(feed: config.FeedConfig) -> FetchOptions:
    """A feed's ``[[feeds]]`` fetch settings as the fetcher takes them."""
    return FetchOptions(
        headers=tuple(feed.headers.items()),
        username=feed.username,
        password=feed.password.get_secret_value() if feed.password else None,
        user_agent=feed.user_agent,
        proxy=feed.proxy,
        verify_tls=feed.verify_tls,
        timeout=feed.timeout.total_seconds() if feed.timeout else None,
    )


class Pacer:
    """At most ``rate`` fetches start per second, spread evenly (so a thousand feeds due
    at once do not open a thousand connections in the same instant)."""

    def __init__(self, rate: float) -> None:
        self._gap = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self._gap
        if start > now:
            await asyncio.sleep(start - now)


class Daemon:
    """Owns the clients, the matcher and the background work of one process."""

    def __init__(
        self,
        cfg: config.Config,
        db: Database,
        *,
        config_path: Path | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.db = db
        self.config_path = config_path
        self.clock = clock
        self.rng = rng or random.Random()
        self.notifier = notifier or Notifier()
        self.metrics = Metrics()
        net = cfg.network
        self._connections = Connections(net.concurrency, per_host=net.per_host)
        self._writes = GroupCommit(db)
        workers = cfg.performance.parse_workers
        self._parser = (
            ParsePool(auto_workers(), adaptive=True) if workers == "auto" else ParsePool(workers)
        )
        self._send_client = httpx.AsyncClient(
            trust_env=False, headers={"User-Agent": net.user_agent or fetch.USER_AGENT}
        )
        self._gate = asyncio.Semaphore(net.concurrency)
        self._per_host = net.per_host
        self._host_gates: dict[str, asyncio.Semaphore] = {}
        self._pace = Pacer(net.starts_per_second)
        self.connectivity = Connectivity()  # kept across reloads
        self._in_flight: set[int] = set()
        self._claims: dict[int, datetime] = {}  # feed id: end of its claim, until polled
        self._tasks: set[asyncio.Task[Any]] = set()
        self._draining: asyncio.Task[DrainReport] | None = None
        self._wake: asyncio.TimerHandle | None = None
        self._daemon_id: int | None = None
        self.last_tick: float | None = None  # time.monotonic()
        self.last_cycle_at: datetime | None = None
        self._configure(cfg)

    def _configure(self, cfg: config.Config) -> None:
        """Build everything that follows from the config (at start and on reload); all is
        built before anything is replaced, so a failure leaves the running set intact.

        Raises:
            ConfigError: a channel cannot be built (an Apprise URL it does not know).
        """
        net = cfg.network
        channels = build_channels(cfg.channels, self._send_client)
        plans = {name: policy.delivery_plan(c) for name, c in cfg.channels.items()}
        poller = Poller(
            db=self.db,
            fetcher=fetch.Fetcher(
                self._connections,
                fetch.FetchLimits(deadline=net.timeout.total_seconds(), max_body=net.max_body),
                AddressPolicy.allowing(net.allow),
                net.user_agent,
            ),
            matcher=compile_rules(cfg.rules),  # when parse_workers = 0
            rule_channels={r.name: r.channels for r in cfg.rules},
            urgent_rules=frozenset(r.name for r in cfg.rules if r.urgent),
            plans=plans,
            settings={
                f.url: FeedSettings(
                    cfg.feed_interval(f),
                    cfg.feed_backlog(f),
                    fetch_options(f),
                    cfg.feed_max_interval(f),
                    cfg.feed_hints(f),
                )
                for f in cfg.feeds
            },
            default=FeedSettings(
                cfg.defaults.interval,
                cfg.defaults.backlog_alerts,
                max_interval=cfg.defaults.max_interval,
                hints=cfg.defaults.hints,
            ),
            clock=self.clock,
            rng=self.rng,
            writes=self._writes,
            connectivity=self.connectivity,
            parse=self._parser.parse,
        )
        # A claimed feed is another process's again after the longest a poll may take
        # (its fetch deadline) and a margin for parsing and storing.
        longest = max([net.timeout, *(f.timeout for f in cfg.feeds if f.timeout)])
        self._claim = longest + CLAIM_MARGIN
        self.config, self.channels, self.plans, self.poller = cfg, channels, plans, poller
        self._parser.use_rules(rule_queries(cfg.rules))

        for feed in cfg.feeds:
            if not feed.verify_tls:
                log.warning(
                    "feed %s: its TLS certificate is not verified (verify_tls = false)", feed.url
                )

    async def __aenter__(self) -> Daemon:
        await asyncio.to_thread(self._sync_feeds)
        freed = await asyncio.to_thread(release_orphans, self.db, self.clock())
        if freed:
            log.info("%s claimed by a stopped process will be sent again", plural(freed, "alert"))
        polls = await asyncio.to_thread(self._read, self._free_dead_claims)
        if polls:
            log.info("%s a stopped process was polling will be polled now", plural(polls, "feed"))
        return self

    def _free_dead_claims(self, s: Session) -> int:
        return feeds.release_orphan_claims(s, self.clock(), socket.gethostname(), pid_alive)

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self._release_claims)  # `poll` interrupted (Ctrl-C)
        await self._connections.aclose()
        await self._send_client.aclose()
        await asyncio.to_thread(self._parser.close)

    def _sync_feeds(self) -> None:
        with self.db.transaction() as s:
            feeds.sync(s, [(f.url, f.name) for f in self.config.feeds], self.clock())

    def _read(self, query: Callable[[Session], R]) -> R:
        with self.db.transaction() as s:
            return query(s)

    # -- polling and sending ------------------------------------------------------------

    async def poll(self, batch: list[FeedState]) -> CycleReport:
        """Poll these feeds concurrently (within the global limit) and log one line."""
        self._in_flight.update(f.id for f in batch)

        async def one(feed: FeedState) -> PollOutcome:
            host = policy.host_of(feed.source)
            gate = self._host_gates.setdefault(host, asyncio.Semaphore(self._per_host))
            try:
                # The host's gate first: feeds queued behind a slow host hold no global slot.
                async with gate, self._gate:
                    await self._pace.wait()
                    outcome = await poll_feed(self.poller, feed)
                self._claims.pop(feed.id, None)  # the outcome set its next poll time
            finally:
                self._in_flight.discard(feed.id)
            self._observe(outcome)
            return outcome

        report = CycleReport(tuple(await asyncio.gather(*(one(f) for f in batch))))
        self.last_cycle_at = self.clock()
        log.info("%s", report.summary())
        return report

    def _observe(self, outcome: PollOutcome) -> None:
        m = self.metrics
        m.observe_fetch(outcome.outcome, outcome.fetch_seconds)
        m.entries.inc(outcome.parsed)
        m.new_entries.inc(outcome.new_entries)
        for rule in outcome.hit_rules:
            m.hits.labels(rule).inc()

    async def poll_and_send(self, batch: list[FeedState]) -> None:
        """A tick's work: poll, then start sending at once rather than at the next drain."""
        if (await self.poll(batch)).alerts:
            await self.drain_job()

    async def poll_all(self) -> tuple[CycleReport, list[tuple[str, str]]]:
        """Poll every configured feed once, due or not, whatever its interval, hints and
        backoff; except those gone (410), under a Retry-After still in force or being
        polled by another process (a daemon on the same database), returned with why.
        The feeds are claimed as a tick claims them, so a daemon leaves them alone
        meanwhile."""
        now = self.clock()
        until = now + self._claim

        def claim(s: Session) -> tuple[list[FeedState], list[tuple[str, str]]]:
            batch = feeds.claim_due(s, now, until, claimer(), limit=None, every=True)
            return batch, feeds.skipped(s, now, {f.id for f in batch})

        batch, skipped = await asyncio.to_thread(self._read, claim)
        self._claims.update((f.id, until) for f in batch)
        return await self.poll(batch), skipped

    async def drain(self, *, ignore_delay: bool = False) -> DrainReport:
        """Send due alerts (every pending one with ``ignore_delay``)."""
        report = await drain(
            self.db, self.channels, self.plans, self.clock, self.rng, ignore_delay=ignore_delay
        )
        for channel, ok in report.outcomes:
            (self.metrics.alerts_sent if ok else self.metrics.alerts_failed).labels(channel).inc()
        return report

    # -- jobs ---------------------------------------------------------------------------

    async def tick(self) -> None:
        """Start polling the feeds that are due and not already being polled.

        If another feed falls due before the next tick, a timer wakes the tick for it,
        so intervals shorter than the tick period are honoured.
        """
        self.last_tick = time.monotonic()
        skip = set(self._in_flight)
        now = self.clock()

        until = now + self._claim

        def claim(s: Session) -> tuple[list[FeedState], datetime | None]:
            due = feeds.claim_due(s, now, until, claimer(), skip)
            return due, feeds.next_due_at(s, skip | {f.id for f in due})

        due, soonest = await asyncio.to_thread(self._read, claim)
        if due:
            self._in_flight.update(f.id for f in due)  # before the next tick can see them
            self._claims.update((f.id, until) for f in due)
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

    async def status(self) -> None:
        """Heartbeat, ``STATUS=`` for systemd, and the metrics gauges."""
        now = self.clock()

        def work(s: Session) -> Snapshot:
            snap = snapshot(s, now)
            if self._daemon_id is not None:
                daemons.beat(s, self._daemon_id, now, snap.line())
            return snap

        snap = await asyncio.to_thread(self._read, work)
        self.metrics.set_snapshot(snap)
        self.notifier.status(snap.line())

    async def watchdog(self) -> None:
        """Runs on the scheduler's own loop: if the loop hangs, systemd restarts us."""
        self.notifier.watchdog()

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

    async def prune(self) -> None:
        """Apply ``[retention]``."""
        keep = self.config.retention
        now = self.clock()
        done = await asyncio.to_thread(
            self._read, lambda s: retention.prune(s, now, keep.hits, keep.entries)
        )
        log.info(
            "retention: removed %s and %s",
            plural(done.hits, "hit"),
            plural(done.entries, "old entry", "old entries"),
        )

    async def check_health(self, *, send: bool = True) -> int:
        """Judge each feed's health; queue one alert per health channel when a feed turns
        unhealthy, a reminder every ``remind`` while it stays so, one when it recovers.
        Returns how many alerts were queued; with ``send``, starts sending them."""
        now = self.clock()
        cfg = self.config.health
        silences = {f.url: self.config.feed_silence(f) for f in self.config.feeds}

        def work(s: Session) -> int:
            queued = 0

            def silence(feed: health.FeedHealth) -> timedelta | Literal["auto"]:
                return silences.get(feed.url, cfg.silence)

            for feed in feed_health.feeds(s, now, lambda f: health.needs_history(f, silence(f))):
                verdict = health.judge(
                    feed, now, failures=cfg.failures, silence=silence(feed), remind=cfg.remind
                )
                if not verdict.changes(feed):
                    continue
                alerts = health.alerts(feed, verdict, cfg.channels, now)
                if not feed_health.record(s, feed, verdict, alerts, now):
                    continue  # another process sharing the database recorded it first
                if verdict.action == "unhealthy":
                    log.warning("feed %s is unhealthy: %s", feed.url, verdict.reason)
                elif verdict.action == "recovered":
                    log.info("feed %s recovered: %s", feed.url, health.recovery_reason(feed))
                queued += len(alerts)
            return queued

        queued = await asyncio.to_thread(self._read, work)
        if queued and send:
            await self.drain_job()
        return queued

    # -- reload -------------------------------------------------------------------------

    async def reload(self) -> bool:
        """Re-read the config file and apply it; a bad file leaves the old config running."""
        if self.config_path is None:
            log.warning("reload: no config file to re-read")
            return False
        self.notifier.reloading()
        try:
            new = await asyncio.to_thread(config.load, self.config_path)
        except MonitorError as exc:
            return self._refuse(exc)
        old = self.config
        for what, before, after in (
            ("database.url", old.database.url, new.database.url),
            ("network.concurrency", old.network.concurrency, new.network.concurrency),
            ("network.user_agent", old.network.user_agent, new.network.user_agent),
            ("network.per_host", old.network.per_host, new.network.per_host),
            (
                "network.starts_per_second",
                old.network.starts_per_second,
                new.network.starts_per_second,
            ),
            ("http", old.http, new.http),
            ("performance.parse_workers", old.performance, new.performance),
        ):
            if before != after:
                log.warning("reload: %s changed; it takes effect at the next restart", what)
        # What lives in clients, sockets and the engine stays as it was started.
        network = new.network.model_copy(
            update={"concurrency": old.network.concurrency, "user_agent": old.network.user_agent}
        )
        new = new.model_copy(
            update={"database": old.database, "network": network, "http": old.http}
        )
        try:
            self._configure(new)
        except MonitorError as exc:
            return self._refuse(exc)
        await asyncio.to_thread(self._sync_feeds)
        log.info(
            "reloaded %s: %s, %s, %s",
            self.config_path,
            plural(len(new.feeds), "feed"),
            plural(len(new.rules), "rule"),
            plural(len(new.channels), "channel"),
        )
        self.notifier.ready("configuration reloaded")
        return True

    def _refuse(self, exc: MonitorError) -> bool:
        first = str(exc).splitlines()[0]
        log.error("reload refused, the running configuration stays: %s", first)
        self.notifier.ready("reload refused; running the previous configuration")
        return False

    # -- health ---------------------------------------------------------------------------

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Scheduler alive, database reachable, and how long ago the last poll ended."""
        tick_age = time.monotonic() - self.last_tick if self.last_tick is not None else None
        alive = tick_age is not None and tick_age < TICK_STALE_AFTER
        try:
            await asyncio.wait_for(asyncio.to_thread(self._ping), timeout=5)
            reachable, db_error = True, None
        except (MonitorError, TimeoutError) as exc:
            reachable, db_error = False, one_line(str(exc) or "no answer within 5 s", 200)
        now = self.clock()
        poll_age = (now - self.last_cycle_at).total_seconds() if self.last_cycle_at else None
        detail: dict[str, Any] = {
            "scheduler": {"alive": alive, "last_tick_age": _round(tick_age)},
            "database": {"reachable": reachable, **({"error": db_error} if db_error else {})},
            "last_poll_age": _round(poll_age),
        }
        return alive and reachable, detail

    def _ping(self) -> None:
        with self.db.transaction() as s:
            s.execute(text("SELECT 1"))

    async def metrics_text(self) -> bytes:
        """The Prometheus text, gauges refreshed from the database first."""
        now = self.clock()
        snap = await asyncio.to_thread(self._read, lambda s: snapshot(s, now))
        self.metrics.set_snapshot(snap)
        return self.metrics.render()

    # -- running --------------------------------------------------------------------------

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
    def _job(work: Callable[[], Awaitable[Any]]) -> Callable[[], Coroutine[Any, Any, None]]:
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

    def request_reload(self) -> None:
        """From the SIGHUP handler: reload in the background."""
        self._spawn(self._job(self.reload)())

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then finish in-flight work within a grace period."""
        # Imported here: ``poll`` runs no scheduler and serves no HTTP.
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        http = self._http_server()
        now = datetime.now(UTC)
        scheduler = AsyncIOScheduler(timezone=UTC)
        jobs: list[tuple[Callable[[], Awaitable[Any]], float, datetime | None]] = [
            (self.tick, TICK_SECONDS, now),
            (self.drain_job, DRAIN_SECONDS, now),
            (self.status, STATUS_SECONDS, now),
            (self.check_health, HEALTH_SECONDS, now + timedelta(seconds=HEALTH_FIRST_AFTER)),
            (self.upkeep, UPKEEP_SECONDS, None),
            (self.prune, PRUNE_SECONDS, now + timedelta(seconds=PRUNE_FIRST_AFTER)),
        ]
        if self.notifier.watchdog_interval:
            jobs.append((self.watchdog, self.notifier.watchdog_interval, now))
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
        self._daemon_id = await asyncio.to_thread(
            self._read,
            lambda s: daemons.register(
                s, socket.gethostname(), os.getpid(), __version__, self.clock()
            ),
        )
        if http is not None:
            self._spawn(http.serve())
        scheduler.start()
        c = self.config
        log.info(
            "newsmonitor running: %s, %s, %s, database %s%s",
            plural(len(c.feeds), "feed"),
            plural(len(c.rules), "rule"),
            plural(len(c.channels), "channel"),
            self.db.describe(),
            f", http on {c.http.listen}" if http else "",
        )
        self.notifier.ready(f"running: {plural(len(c.feeds), 'feed')}")
        try:
            await stop.wait()
        finally:
            log.info("stopping: finishing the work under way")
            self.notifier.stopping()
            scheduler.shutdown(wait=False)
            if self._wake is not None:
                self._wake.cancel()
            if http is not None:
                http.stop()
            await self.finish()
            await asyncio.to_thread(self._release_claims)
            await asyncio.to_thread(self._mark_stopped)

    def _release_claims(self) -> None:
        """Feeds whose poll the stop cancelled are due again at once, for the next start
        or another process, instead of when their claims run out."""
        if not self._claims:
            return
        now, claims = self.clock(), list(self._claims.items())
        self._claims.clear()
        try:
            with self.db.transaction() as s:
                feeds.release_claims(s, claims, now)
        except MonitorError as exc:
            log.warning("the feeds being polled stay claimed until their claims run out: %s", exc)

    def _http_server(self) -> HttpServer | None:
        listen = self.config.http.listen
        if not listen:
            return None
        from monitor.api.app import make_app
        from monitor.api.server import HttpServer

        host, port = config.split_listen(listen)
        token = self.config.http.token
        app = make_app(self.health, self.metrics_text, token.get_secret_value() if token else None)
        return HttpServer(app, host, port)

    def _mark_stopped(self) -> None:
        if self._daemon_id is not None:
            with self.db.transaction() as s:
                daemons.stopped(s, self._daemon_id, self.clock())

    async def finish(self) -> None:
        """Wait for background work (up to the grace period), then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "cancelled %s still running after %g s",
                plural(len(pending), "task"),
                SHUTDOWN_GRACE,
            )
            await asyncio.wait(pending)


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


async def serve(
    cfg: config.Config,
    db: Database,
    stop: asyncio.Event | None = None,
    config_path: Path | None = None,
) -> None:
    """Run the daemon until ``stop`` is set or SIGINT/SIGTERM arrives; SIGHUP reloads."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    async with Daemon(cfg, db, config_path=config_path) as daemon:
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGHUP, daemon.request_reload)
        try:
            await daemon.run(stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
