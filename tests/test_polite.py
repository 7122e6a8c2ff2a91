"""Polite polling: publisher hints, Retry-After, 410 Gone, backoff, per-host limits,
pacing, and an offline machine not mistaken for broken feeds."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from monitor import config, policy
from monitor.cli import cli
from monitor.connectivity import Connectivity
from monitor.daemon import Daemon
from monitor.store import entries as feeds_entries
from monitor.store import feeds
from monitor.store.db import Database, open_database
from monitor.store.tables import Entry, Feed
from tests.helpers import write_config
from tests.servers import FEEDS, HTTPServer, Reply, Request, free_port

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
RSS = (FEEDS / "world.rss").read_bytes()


def poll(config: Path) -> Result:
    result = CliRunner().invoke(cli, ["poll", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result


def feed_rows(db_url: str) -> dict[str, Feed]:
    db = Database(db_url)
    try:
        with db.transaction() as s:
            return {f.url: f for f in s.scalars(select(Feed))}
    finally:
        db.close()


def config_for(tmp_path: Path, urls: list[str], **extra: Any) -> tuple[Path, str]:
    db_url = f"sqlite:///{tmp_path / 'nm.db'}"
    path = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": u} for u in urls],
        rules=[{"name": "c", "keywords": ["ceasefire"]}],
        **extra,
    )
    return path, db_url


# -- pure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "feed", "expected"),
    [
        ({"cache_control": "public, max-age=3600"}, {}, timedelta(hours=1)),
        ({"cache_control": "no-cache"}, {}, None),
        (
            {"expires": "Thu, 26 Nov 2026 14:00:00 GMT", "date": "Thu, 26 Nov 2026 12:00:00 GMT"},
            {},
            timedelta(hours=2),
        ),
        ({"expires": "Thu, 26 Nov 2026 11:00:00 GMT"}, {}, None),  # already expired
        ({}, {"ttl_minutes": 90}, timedelta(minutes=90)),
        ({}, {"update_period": "daily", "update_frequency": 4}, timedelta(hours=6)),
        ({"cache_control": "max-age=60"}, {"ttl_minutes": 30}, timedelta(minutes=30)),
        ({}, {}, None),
    ],
)
def test_publisher_hints(
    headers: dict[str, str], feed: dict[str, Any], expected: timedelta | None
) -> None:
    args = {
        "cache_control": None,
        "expires": None,
        "date": None,
        "ttl_minutes": None,
        "update_period": None,
        "update_frequency": None,
        **headers,
        **feed,
    }
    assert policy.publisher_hint(now=NOW, **args) == expected


def test_hints_lengthen_never_shorten_and_are_capped() -> None:
    fifteen, day = timedelta(minutes=15), timedelta(days=1)
    assert policy.polite_interval(fifteen, timedelta(minutes=5), day) == fifteen
    assert policy.polite_interval(fifteen, timedelta(hours=2), day) == timedelta(hours=2)
    assert policy.polite_interval(fifteen, timedelta(days=9), day) == day
    assert policy.polite_interval(fifteen, None, day) == fifteen


def test_retry_after_forms() -> None:
    assert policy.retry_after("120", NOW) == timedelta(seconds=120)
    assert policy.retry_after(format_datetime(NOW + timedelta(minutes=5)), NOW) == timedelta(
        minutes=5
    )
    assert policy.retry_after("soon", NOW) is None
    assert policy.retry_after("99999999", NOW) == timedelta(days=1)  # capped


def test_offline_needs_failures_on_several_hosts_and_ends_with_any_answer() -> None:
    c = Connectivity()
    assert [c.observe("a", False), c.observe("a", False), c.observe("a", False)] == [None] * 3
    assert not c.offline  # one dead host is that host's problem
    assert c.observe("b", False) == "offline"
    assert c.observe("c", False) is None
    assert c.observe("a", True) == "online"
    assert not c.offline


# -- through the pipeline --------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("form", ["seconds", "date"])
def test_retry_after_slows_that_host_and_poll_honours_it(
    tmp_path: Path, http: HTTPServer, receiver: HTTPServer, status: int, form: str
) -> None:
    wait = (
        "600" if form == "seconds" else format_datetime(datetime.now(UTC) + timedelta(minutes=10))
    )
    busy = http.route("/busy.rss", Reply(status=status, headers={"Retry-After": wait}))
    sibling = http.route("/sibling.rss", Reply(body=RSS))  # same host, polled first
    elsewhere = receiver.route("/fine.rss", Reply(body=RSS))  # another host
    config, db_url = config_for(tmp_path, [sibling, busy, elsewhere])
    before = datetime.now(UTC)
    out = poll(config).output
    assert f"failed: {busy}: the server answered HTTP {status}" in out
    rows = feed_rows(db_url)
    row = rows[busy]
    assert row.retry_after_until is not None
    assert row.retry_after_until >= before + timedelta(seconds=590)
    assert row.next_poll_at >= row.retry_after_until
    # The host asked to wait: its other feed waits too; another host's does not.
    assert rows[sibling].retry_after_until == row.retry_after_until
    assert rows[elsewhere].retry_after_until is None

    out = poll(config).output
    assert f"skipped: {busy}: the server asked to wait until" in out
    assert f"skipped: {sibling}: the server asked to wait until" in out
    assert len(http.received("/busy.rss", "GET")) == 1
    assert len(http.received("/sibling.rss", "GET")) == 1
    assert len(receiver.received("/fine.rss", "GET")) == 2


def test_gone_stops_polling_until_removed_and_added_back(tmp_path: Path, http: HTTPServer) -> None:
    gone = http.route("/gone.rss", Reply(status=410))
    config, db_url = config_for(tmp_path, [gone])
    assert "failed: " in poll(config).output
    assert feed_rows(db_url)[gone].gone_at is not None
    out = poll(config).output
    assert f"skipped: {gone}: the server answered 410 Gone; remove it from the config" in out
    assert len(http.received("/gone.rss", "GET")) == 1
    # Removed, then added back: polled again.
    config_for(tmp_path, [])
    poll(config)
    config_for(tmp_path, [gone])
    poll(config)
    assert len(http.received("/gone.rss", "GET")) == 2


def test_errors_back_off_then_recovery_resets(tmp_path: Path, http: HTTPServer) -> None:
    url = http.route("/flaky.rss", Reply(status=500))
    config, db_url = config_for(tmp_path, [url], defaults={"interval": "10m"})
    for n, expected in ((1, 10), (2, 20), (3, 40), (4, 80)):
        before = datetime.now(UTC)
        poll(config)
        row = feed_rows(db_url)[url]
        assert row.consecutive_errors == n
        delay = (row.next_poll_at - before).total_seconds() / 60
        assert expected * 0.9 - 0.1 <= delay <= expected * 1.1 + 0.1, (n, delay)
    http.route("/flaky.rss", Reply(body=RSS))
    poll(config)
    row = feed_rows(db_url)[url]
    assert (row.consecutive_errors, row.last_error) == (0, None)


@pytest.mark.parametrize("honour", [True, False])
def test_cache_hints_lengthen_the_interval(tmp_path: Path, http: HTTPServer, honour: bool) -> None:
    url = http.route("/cached.rss", Reply(body=RSS, headers={"Cache-Control": "max-age=7200"}))
    config, db_url = config_for(
        tmp_path, [url], defaults={"interval": "5m", "max_interval": "1h", "hints": honour}
    )
    before = datetime.now(UTC)
    poll(config)
    minutes = (feed_rows(db_url)[url].next_poll_at - before).total_seconds() / 60
    if honour:
        assert 60 <= minutes <= 61  # 2 h asked, capped at max_interval
    else:
        assert 5 <= minutes <= 6


def test_one_host_gets_at_most_per_host_fetches_at_once(tmp_path: Path, http: HTTPServer) -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def slow(_request: Request) -> Reply:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.4)
        with lock:
            state["now"] -= 1
        return Reply(body=RSS)

    urls = [http.route(f"/f{i}.rss", slow) for i in range(5)]
    config, _ = config_for(tmp_path, urls, network={"allow": ["127.0.0.1"], "per_host": 2})
    poll(config)
    assert state["max"] == 2


def test_fetches_start_no_faster_than_the_pace(tmp_path: Path, http: HTTPServer) -> None:
    urls = [http.feed(f"/p{i}.rss", "world.rss") for i in range(6)]
    config, _ = config_for(
        tmp_path, urls, network={"allow": ["127.0.0.1"], "per_host": 8, "starts_per_second": 5}
    )
    poll(config)
    times = sorted(r.received_at for r in http.requests)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.15  # 5 per second: 0.2 s apart, less scheduling slack


def test_an_offline_machine_does_not_mark_feeds_unhealthy(tmp_path: Path, http: HTTPServer) -> None:
    dead = [f"http://127.0.0.1:{free_port()}/feed{i}.rss" for i in range(6)]
    config, db_url = config_for(tmp_path, dead, defaults={"interval": "1m"})
    first = poll(config).output
    assert "polled 6 feeds" in first
    second = CliRunner().invoke(cli, ["poll", "--config", str(config)])
    rows = feed_rows(db_url)
    counted = sum(r.consecutive_errors for r in rows.values())
    # Only the failures before the outage was recognised count (at most two per poll:
    # the third failure on a second host is what recognises it).
    assert counted <= 4, counted
    assert all(r.last_error and "could not connect" in r.last_error for r in rows.values())
    assert second.exit_code == 0


def test_a_feed_that_moved_for_good_is_fetched_at_its_new_place(
    tmp_path: Path, http: HTTPServer
) -> None:
    old = http.route("/old.rss", Reply(status=301, headers={"Location": "/new.rss"}))
    new = http.route("/new.rss", Reply(body=RSS))
    config, db_url = config_for(tmp_path, [old])
    for _ in range(policy.MOVED_AFTER):
        poll(config)
    assert len(http.received("/old.rss", "GET")) == policy.MOVED_AFTER
    row = feed_rows(db_url)[old]
    assert (row.moved_to, row.moved_count) == (new, policy.MOVED_AFTER)
    # From now on the new address is fetched directly, and the feed list says so.
    poll(config)
    assert len(http.received("/old.rss", "GET")) == policy.MOVED_AFTER
    assert len(http.received("/new.rss", "GET")) == policy.MOVED_AFTER + 1
    listing = CliRunner().invoke(cli, ["feeds", "--config", str(config), "--format", "json"])
    (feed,) = __import__("json").loads(listing.output)
    assert (feed["url"], feed["moved_to"]) == (old, new)
    table = CliRunner().invoke(cli, ["feeds", "--config", str(config)]).output
    assert f"moved for good to {new}: put it in the config" in table


def test_a_temporary_or_changing_redirect_is_not_a_move() -> None:
    assert policy.track_move(None, 0, "http://a/new") == ("http://a/new", 1)
    assert policy.track_move("http://a/new", 1, None) == (None, 0)  # not in a row
    assert policy.track_move("http://a/new", 2, "http://a/other") == ("http://a/other", 1)
    assert policy.track_move("http://a/new", 3, None) == ("http://a/new", 3)  # confirmed


def test_a_host_is_its_name_and_port() -> None:
    assert policy.host_of("https://News.Example.org/rss") == "news.example.org:443"
    assert policy.host_of("http://user:pw@news.example.org/rss") == "news.example.org:80"
    assert policy.host_of("http://news.example.org:8080/a") != policy.host_of(
        "http://news.example.org/a"
    )


# -- several processes on one database --------------------------------------------------


def _shared(tmp_path: Path, db_url: str, urls: list[str]) -> config.Config:
    path = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": u} for u in urls],
        rules=[{"name": "c", "keywords": ["ceasefire"]}],
        defaults={"interval": "1h"},
    )
    return config.load(path)


async def _settled(*daemons: Daemon) -> None:
    await asyncio.gather(*(t for d in daemons for t in list(d._tasks)))


def test_processes_sharing_a_database_poll_each_due_feed_once(
    tmp_path: Path, db_url: str, http: HTTPServer
) -> None:
    paths = [f"/f{i}.rss" for i in range(6)]
    cfg = _shared(tmp_path, db_url, [http.feed(p, "world.rss") for p in paths])
    first, second = open_database(db_url), Database(db_url)  # a connection pool each

    async def run() -> None:
        async with Daemon(cfg, first) as a, Daemon(cfg, second) as b:
            # Both look for due feeds at the same moment, as two workers would.
            await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
            await _settled(a, b)

    try:
        asyncio.run(run())
    finally:
        first.close()
        second.close()
    assert [len(http.received(p, "GET")) for p in paths] == [1] * len(paths)


def test_a_claim_left_by_a_process_on_another_host_runs_out(
    tmp_path: Path, db_url: str, http: HTTPServer
) -> None:
    cfg = _shared(tmp_path, db_url, [http.feed("/f.rss", "world.rss")])
    now = [NOW]
    db = open_database(db_url)

    async def run() -> None:
        async with Daemon(cfg, db, clock=lambda: now[0]) as daemon:
            with db.transaction() as s:  # claimed by a process of another machine
                until = NOW + timedelta(minutes=2)
                assert len(feeds.claim_due(s, NOW, until, "elsewhere:1")) == 1
            await daemon.tick()
            await _settled(daemon)
            assert http.received("/f.rss", "GET") == []
            now[0] = NOW + timedelta(minutes=2, seconds=1)
            await daemon.tick()
            await _settled(daemon)

    try:
        asyncio.run(run())
    finally:
        db.close()
    assert len(http.received("/f.rss", "GET")) == 1
    with Database(db_url) as check, check.transaction() as s:
        # Polled: the next poll comes from the feed's interval, not from the claim.
        assert feeds.next_due_at(s) > NOW + timedelta(minutes=50)


def test_two_processes_storing_one_feed_at_once_store_its_entries_once(
    tmp_path: Path, db_url: str, http: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `poll` run beside the daemon ignores claims: both may read the same new body.
    url = http.route("/world.rss", Reply(body=RSS))
    cfg = _shared(tmp_path, db_url, [url])
    first, second = open_database(db_url), Database(db_url)
    add = feeds_entries.add

    def slow_add(*args: Any) -> dict[str, int]:
        time.sleep(0.3)  # both are about to insert before either has, unless one waits
        return add(*args)

    monkeypatch.setattr(feeds_entries, "add", slow_add)

    try:
        with first.transaction() as s:
            feeds.sync(s, [(url, None)], datetime.now(UTC))
            (state,) = feeds.active(s)

        async def both() -> list[Any]:
            async with Daemon(cfg, first) as a, Daemon(cfg, second) as b:
                reports = await asyncio.gather(a.poll([state]), b.poll([state]))
            return [o for r in reports for o in r.outcomes]

        outcomes = asyncio.run(both())
        with first.transaction() as s:
            stored = s.scalar(select(func.count()).select_from(Entry))
    finally:
        first.close()
        second.close()
    assert [o.error for o in outcomes] == [None, None]
    assert sorted(o.new_entries for o in outcomes) == [0, 3]
    assert stored == 3


def test_the_claims_of_a_dead_process_of_this_host_are_freed_at_the_next_start(
    tmp_path: Path, db_url: str, http: HTTPServer
) -> None:
    paths = ["/dead.rss", "/alive.rss", "/remote.rss"]
    cfg = _shared(tmp_path, db_url, [http.feed(p, "world.rss") for p in paths])
    # The id of a process that has ended.
    dead_pid = int(subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True).stdout)
    host = socket.gethostname()
    claimers = [f"{host}:{dead_pid}", f"{host}:{os.getpid()}", f"elsewhere:{dead_pid}"]
    later = datetime.now(UTC) + timedelta(minutes=5)
    db = open_database(db_url)
    try:
        with db.transaction() as s:
            feeds.sync(s, [(http.url(p), None) for p in paths], datetime.now(UTC))
            for url, who in zip(paths, claimers, strict=True):
                (row,) = s.scalars(select(Feed).where(Feed.url == http.url(url)))
                row.next_poll_at, row.claimed_by = later, who

        async def run() -> None:
            async with Daemon(cfg, db) as daemon:
                await daemon.tick()
                await _settled(daemon)

        asyncio.run(run())
    finally:
        db.close()
    # Only the dead local process's claim was freed: the live one and the other
    # machine's hold until they run out.
    assert [len(http.received(p, "GET")) for p in paths] == [1, 0, 0]


def test_poll_leaves_a_feed_another_process_is_polling_and_says_so(
    tmp_path: Path, db_url: str, http: HTTPServer
) -> None:
    paths = ["/busy.rss", "/free.rss", "/stale.rss"]
    urls = [http.feed(p, "world.rss") for p in paths]
    path = write_config(tmp_path, db_url=db_url, feeds=[{"url": u} for u in urls], rules=[])
    now = datetime.now(UTC)
    with open_database(db_url) as db, db.transaction() as s:
        feeds.sync(s, [(u, None) for u in urls], now)
        rows = {r.url: r for r in s.scalars(select(Feed))}
        # A daemon elsewhere is polling busy.rss; its claim of stale.rss ran out.
        rows[urls[0]].next_poll_at = now + timedelta(minutes=5)
        rows[urls[0]].claimed_by = "elsewhere:41"
        rows[urls[2]].next_poll_at = now - timedelta(minutes=1)
        rows[urls[2]].claimed_by = "elsewhere:41"
    result = poll(path)
    assert result.exit_code == 0, result.output
    assert [len(http.received(p, "GET")) for p in paths] == [0, 1, 1]
    assert "polled 2 feeds" in result.output
    assert (
        f"  skipped: {urls[0]}: another newsmonitor process (elsewhere:41) is polling it now\n"
        in result.output
    )


def test_a_daemon_leaves_the_feeds_poll_is_polling_and_an_interrupted_poll_frees_them(
    tmp_path: Path, db_url: str, http: HTTPServer
) -> None:
    slow = http.route("/slow.rss", Reply(body=RSS, delay=3.0))
    fast = http.feed("/fast.rss", "world.rss")
    cfg = _shared(tmp_path, db_url, [slow, fast])
    first, second = open_database(db_url), Database(db_url)
    states: dict[str, tuple[datetime, str | None]] = {}

    async def run() -> None:
        async with Daemon(cfg, first) as polling:
            task = asyncio.create_task(polling.poll_all())
            async with Daemon(cfg, second) as daemon:
                await asyncio.sleep(0.5)  # poll has claimed both, and is waiting on slow.rss
                await daemon.tick()
                await _settled(daemon)
            task.cancel()  # Ctrl-C: slow.rss was not polled
            with pytest.raises(asyncio.CancelledError):
                await task
        with first.transaction() as s:
            states.update((f.url, (f.next_poll_at, f.claimed_by)) for f in s.scalars(select(Feed)))

    started = datetime.now(UTC)
    try:
        asyncio.run(run())
    finally:
        first.close()
        second.close()
    # Each fetched once, by poll: the daemon left both alone, as poll had claimed them.
    assert [len(http.received(p, "GET")) for p in ("/slow.rss", "/fast.rss")] == [1, 1]
    # The interrupted poll gave slow.rss back, due at once; fast.rss has its next poll.
    slow_next, slow_claim = states[slow]
    assert slow_claim is None and started <= slow_next <= datetime.now(UTC)
    assert states[fast][0] > started + timedelta(minutes=30)
    assert states[fast][1] is None
