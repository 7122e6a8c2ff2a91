"""The daemon as operators run it: notify protocol, reload, graceful stop, health,
metrics, logs and status, all against a real `newsmonitor run` child process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from monitor.cli import cli
from monitor.errors import MonitorError
from monitor.store.db import Database
from monitor.store.tables import Feed, Outbox
from tests.helpers import start_daemon, stop_daemon, write_config
from tests.servers import HTTPServer, Reply, free_port, wait_for


class NotifySocket:
    """A Unix datagram socket standing in for systemd's notify socket."""

    def __init__(self, folder: Path) -> None:
        self.path = str(folder / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages: list[str] = []

    def collect(self) -> list[str]:
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except (TimeoutError, BlockingIOError):
                return self.messages

    def lines(self) -> list[str]:
        return [line for m in self.collect() for line in m.splitlines()]

    def wait(self, line: str, after: int = 0, timeout: float = 20) -> int:
        """Wait until ``line`` arrives as message number ``after`` or later; its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, m in enumerate(self.collect()[after:], start=after):
                if line in m.splitlines():
                    return i
        raise AssertionError(f"no {line!r} in {self.messages}")


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    s = NotifySocket(tmp_path)
    yield s
    s.sock.close()


RULE = {"name": "c", "keywords": ["ceasefire"], "channels": ["hook"]}


def hook(receiver: HTTPServer) -> dict[str, dict[str, object]]:
    return {"hook": {"type": "webhook", "url": receiver.url("/hook")}}


def test_ready_watchdog_status_reload_and_stop(
    tmp_path: Path, http: HTTPServer, receiver: HTTPServer, notify: NotifySocket
) -> None:
    a = http.feed("/a.rss", "world.rss")
    b = http.feed("/b.atom", "ukraine.atom")
    receiver.route("/hook", Reply(status=204))
    db = f"sqlite:///{tmp_path / 'nm.db'}"
    config = write_config(
        tmp_path,
        db_url=db,
        feeds=[{"url": a, "interval": "1s"}],
        rules=[RULE],
        channels=hook(receiver),
    )
    env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"}
    proc = start_daemon(config, env)
    try:
        ready = notify.wait("READY=1")
        notify.wait("WATCHDOG=1", after=ready)
        wait_for(
            lambda: any(line.startswith("STATUS=feeds: ") for line in notify.lines()), what="STATUS"
        )

        # A new feed in, the old one out, then SIGHUP: applied without a restart.
        write_config(
            tmp_path,
            db_url=db,
            feeds=[{"url": b, "interval": "1s"}],
            rules=[RULE],
            channels=hook(receiver),
        )
        proc.send_signal(signal.SIGHUP)
        reloading = notify.wait("RELOADING=1", after=ready + 1)
        notify.wait("READY=1", after=reloading)
        wait_for(lambda: len(http.received("/b.atom", "GET")) >= 2, what="the new feed polled")
        polls_of_a = len(http.received("/a.rss", "GET"))
        time.sleep(2.5)  # several 1 s intervals: the removed feed must not be polled again
        assert len(http.received("/a.rss", "GET")) == polls_of_a

        # A broken edit is refused; the running config goes on.
        config.write_text(config.read_text() + "\n[oops\n")
        proc.send_signal(signal.SIGHUP)
        seen = len(http.received("/b.atom", "GET"))
        wait_for(lambda: len(http.received("/b.atom", "GET")) >= seen + 2, what="polling goes on")
    finally:
        out = stop_daemon(proc)
    assert "STOPPING=1" in notify.lines()
    assert "reload refused, the running configuration stays:" in out
    assert "not valid TOML" in out
    assert "Traceback" not in out
    titles = {r.json()["entry"]["title"] for r in receiver.received("/hook")}
    assert "Ceasefire talks resume in Geneva" in titles  # from the first feed
    assert "Peace talks planned for next week" not in titles  # (no such rule)
    assert "Shelling reported in Dnipropetrovsk region" in titles  # from the added feed


def test_sigterm_mid_delivery_exits_promptly_and_loses_nothing(
    tmp_path: Path, db_url: str, http: HTTPServer, receiver: HTTPServer
) -> None:
    feed = http.feed("/a.rss", "world.rss")
    # The receiver holds the first request far longer than the shutdown grace.
    receiver.route("/hook", Reply(status=204, delay=30), Reply(status=204))
    config = write_config(
        tmp_path, db_url=db_url, feeds=[{"url": feed}], rules=[RULE], channels=hook(receiver)
    )
    proc = start_daemon(config)
    wait_for(lambda: len(receiver.received("/hook")) == 1, what="the delivery in flight")
    started = time.monotonic()
    out = stop_daemon(proc)
    assert time.monotonic() - started < 10
    assert "Traceback" not in out

    database = Database(db_url)
    try:
        with database.transaction() as s:
            (row,) = s.scalars(select(Outbox))
            assert row.status == "pending"
            assert row.claimed_until is None  # given back: the restart sends it at once
    finally:
        database.close()

    proc = start_daemon(config)
    try:
        wait_for(lambda: len(receiver.received("/hook")) == 2, what="the delivery after restart")
    finally:
        stop_daemon(proc)
    first, second = receiver.received("/hook")
    assert first.json()["id"] == second.json()["id"]  # the same alert, receivers can drop it


def _get(url: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url, headers=headers, timeout=5)


def test_health_and_metrics(tmp_path: Path, http: HTTPServer, receiver: HTTPServer) -> None:
    feed = http.feed("/a.rss", "world.rss")
    broken = http.url("/missing.rss")
    receiver.route("/hook", Reply(status=204))
    port = free_port()
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        feeds=[{"url": feed}, {"url": broken}],
        rules=[RULE],
        channels=hook(receiver),
    )
    config.write_text(
        config.read_text() + f'[http]\nlisten = "127.0.0.1:{port}"\ntoken = "t0ken"\n'
    )
    proc = start_daemon(config)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: len(receiver.received("/hook")) == 1, what="the alert")

        def scrape() -> dict[str, float]:
            text = _get(f"{base}/metrics", "t0ken").text
            return {
                f"{s.name}{sorted(s.labels.items())}": s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
            }

        wait_for(lambda: _reachable(base), what="the listener")
        assert _get(f"{base}/metrics").status_code == 401
        assert _get(f"{base}/healthz", "wrong").status_code == 401
        health = _get(f"{base}/healthz", "t0ken")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok"
        assert body["scheduler"]["alive"] is True
        assert body["database"]["reachable"] is True
        assert body["last_poll_age"] is not None

        wait_for(lambda: scrape().get("newsmonitor_alerts_sent_total[('channel', 'hook')]") == 1)
        m = scrape()
        assert m["newsmonitor_fetches_total[('outcome', 'ok')]"] >= 1
        assert m["newsmonitor_fetches_total[('outcome', 'error')]"] >= 1
        assert m["newsmonitor_entries_parsed_total[]"] >= 3
        assert m["newsmonitor_hits_total[('rule', 'c')]"] == 1
        assert m["newsmonitor_fetch_duration_seconds_count[]"] >= 2
        assert m["newsmonitor_feeds_failing[]"] == 1
        assert m["newsmonitor_alerts_pending[]"] == 0
        assert m["newsmonitor_oldest_pending_alert_age_seconds[]"] == 0
    finally:
        out = stop_daemon(proc)
    assert "t0ken" not in out


def _reachable(base: str) -> bool:
    try:
        httpx.get(f"{base}/healthz", timeout=1)
    except httpx.HTTPError:
        return False
    return True


def test_listening_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    config = write_config(tmp_path, db_url="sqlite:///nm.db", feeds=[], rules=[])
    config.write_text(config.read_text() + '[http]\nlisten = "0.0.0.0:8484"\n')
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    assert (
        "http.token: a token is required to listen on an address other than loopback"
        in result.output
    )


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(
            tmp_path, db_url=f"sqlite:///{tmp_path / 'nm.db'}", feeds=[], rules=[]
        )
        config.write_text(config.read_text() + f'[http]\nlisten = "127.0.0.1:{port}"\n')
        proc = start_daemon(config, {"NOTIFY_SOCKET": ""})  # it never gets ready
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port} (Address already in use)" in out
    assert "Traceback" not in out


def test_journal_and_json_log_formats_and_no_secrets(tmp_path: Path, http: HTTPServer) -> None:
    feed = http.feed("/a.rss", "world.rss")

    def config_in(folder: Path) -> Path:
        folder.mkdir()
        mail = {
            "type": "email",
            "host": "127.0.0.1",
            "port": free_port(),  # nobody listens: every send fails and is logged
            "security": "none",
            "from": "a@example.org",
            "to": ["b@example.org"],
            "username": "user",
            "password": "${NM_TEST_SECRET}",
        }
        return write_config(
            folder,
            db_url=f"sqlite:///{folder / 'nm.db'}",
            feeds=[{"url": feed}],
            rules=[{"name": "c", "keywords": ["ceasefire"], "channels": ["mail"]}],
            channels={"mail": mail},
        )

    env = {**os.environ, "NM_TEST_SECRET": "hunter2-secret"}

    # Under systemd, standard error is the stream JOURNAL_STREAM names: no timestamps,
    # a <priority> prefix on each line.
    log_file = tmp_path / "journal.log"
    with log_file.open("w") as handle:
        st = os.fstat(handle.fileno())
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config_in(tmp_path / "j"))],
            stdout=subprocess.DEVNULL,
            stderr=handle,
            env={**env, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"},
        )
        try:
            wait_for(lambda: "failed: could not send mail" in log_file.read_text(), what="failure")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
        assert code == 0
    journal = log_file.read_text()
    lines = journal.splitlines()
    assert all(line[:3] in ("<6>", "<4>", "<3>") for line in lines), lines
    assert any(line.startswith("<6>newsmonitor running") for line in lines)
    assert any(line.startswith("<4>alert ") for line in lines)

    # JSON lines for log shippers.
    proc = start_daemon(
        config_in(tmp_path / "k"), {"NM_TEST_SECRET": "hunter2-secret"}, ("--log-format", "json")
    )
    wait_for(lambda: len(http.received("/a.rss", "GET")) >= 2, what="a poll")
    time.sleep(1)  # let the failed send be logged
    out = stop_daemon(proc)
    records = [json.loads(line) for line in out.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"].startswith("newsmonitor running") for r in records)
    assert any(r["level"] == "warning" and "could not send mail" in r["message"] for r in records)
    for text in (out, journal):
        assert "hunter2-secret" not in text


def _attempts(db_url: str) -> int:
    database = Database(db_url)
    try:
        with database.transaction() as s:
            return sum(row.attempts for row in s.scalars(select(Outbox)))
    except MonitorError:
        return 0  # not created yet
    finally:
        database.close()


def test_status_and_feeds_commands(tmp_path: Path, http: HTTPServer) -> None:
    good = http.feed("/a.rss", "world.rss")
    bad = http.url("/missing.rss")
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        feeds=[{"url": good, "name": "World"}, {"url": bad}],
        rules=[{"name": "c", "keywords": ["ceasefire"]}],
    )

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, [*args, "--config", str(config)])
        assert result.exit_code == 0, result.output
        return result.output

    assert run("status").startswith("daemon: never started on this database")
    proc = start_daemon(config)
    try:
        wait_for(lambda: "daemon: running on" in run("status"), what="the heartbeat")
        wait_for(lambda: "1 failing" in run("status"), what="the failing feed")
        wait_for(lambda: "hits in the last 24 hours: 1" in run("status"), what="the hit")
        status = run("status")
        assert (
            f"failing: {bad}: the server answered HTTP 404 Not Found (1 error in a row)" in status
        )
        assert "hits in the last 24 hours: 1" in status
        assert "alerts: 0 pending, 0 failed" in status
    finally:
        stop_daemon(proc)
    assert run("status").startswith("daemon: stopped; last seen")

    listing = json.loads(run("feeds", "--format", "json"))
    by_url = {f["url"]: f for f in listing}
    assert by_url[bad]["status"] == "failing"
    assert by_url[bad]["last_error"] == "the server answered HTTP 404 Not Found"
    assert by_url[good]["status"] == "ok"
    assert by_url[good]["name"] == "World"
    assert by_url[good]["entries"] == 3
    assert listing[0]["url"] == bad  # failing feeds first
    table = run("feeds")
    assert "failing  " in table and "ok       World" in table


def test_sigterm_during_a_slow_poll_exits_within_10_seconds(
    tmp_path: Path, http: HTTPServer
) -> None:
    http.route("/slow.rss", Reply(body=b"<rss/>", delay=25))
    fast = http.feed("/fast.rss", "world.rss")
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        feeds=[{"url": http.url("/slow.rss")}, {"url": fast}],
        rules=[{"name": "c", "keywords": ["ceasefire"]}],
    )
    proc = start_daemon(config)
    wait_for(lambda: len(http.received("/slow.rss", "GET")) == 1, what="the slow fetch under way")
    wait_for(lambda: len(http.received("/fast.rss", "GET")) == 1, what="the other feed polled")
    started = time.monotonic()
    out = stop_daemon(proc)
    assert time.monotonic() - started < 10
    assert "cancelled 1 task still running after 8 s" in out
    assert "Traceback" not in out
    # The fast feed's result was committed despite the slow one.
    result = CliRunner().invoke(cli, ["hits", "--config", str(config), "--format", "json"])
    assert [h["title"] for h in json.loads(result.output)] == ["Ceasefire talks resume in Geneva"]
    # The slow feed's claim was given back: due at once for the next start; the fast
    # feed keeps the next poll time its outcome set.
    db = Database(f"sqlite:///{tmp_path / 'nm.db'}")
    try:
        with db.transaction() as s:
            next_poll = {f.url: f.next_poll_at for f in s.scalars(select(Feed))}
    finally:
        db.close()
    stopped = datetime.now(UTC)
    assert next_poll[http.url("/slow.rss")] <= stopped
    assert next_poll[fast] > stopped + timedelta(minutes=10)
