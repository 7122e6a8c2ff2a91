"""Delivery modes and failures, through the real worker, outbox and a loopback receiver,
on SQLite and PostgreSQL: digests, quiet hours, rate limits, Retry-After, giving up."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor import config, policy
from monitor.cli import cli
from monitor.deliver import build_channels
from monitor.deliver.routing import digest_id
from monitor.deliver.worker import DrainReport, drain
from monitor.records import ParsedEntry, RuleMatch
from monitor.store import entries, feeds, hits, outbox
from monitor.store.db import Database, open_database
from monitor.store.tables import Outbox
from tests.helpers import write_config
from tests.servers import HTTPServer, Reply

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


def channel_config(receiver: HTTPServer, **options: Any) -> config.Config:
    hook = {"type": "webhook", "url": receiver.url("/hook"), **options}
    return config.validate({"channels": {"hook": hook}}, source=Path("test.toml"))


def queue(
    db: Database, cfg: config.Config, n: int, now: datetime, urgent: bool = False
) -> list[str]:
    """n new alerts for channel hook, held as the channel's plan says."""
    plan = policy.delivery_plan(cfg.channels["hook"])
    ids = []
    with db.transaction() as s:
        feeds.sync(s, [("http://127.0.0.1/f", "F")], now)
        (feed,) = feeds.active(s)
        known = len(entries.known(s, feed.id, [f"e{i}" for i in range(1000)]))
        for i in range(known, known + n):
            (row_id,) = entries.add(
                s, feed.id, [ParsedEntry(f"e{i}", f"ceasefire {i}", None, None, now, "", "")], now
            ).values()
            match = RuleMatch("c", ("ceasefire",), "title", f"ceasefire {i}")
            hits.add(s, [(row_id, [match])], now)
            due, reason = policy.hold(now, plan, urgent)
            outbox.add(s, row_id, "hook", ["c"], f"alert-{i}", now, due=due, hold_reason=reason)
            ids.append(f"alert-{i}")
    return ids


def run_drain(
    db: Database, cfg: config.Config, clock: Clock, ignore_delay: bool = False
) -> DrainReport:
    async def go() -> DrainReport:
        async with httpx.AsyncClient() as client:
            channels = build_channels(cfg.channels, client)
            plans = {n: policy.delivery_plan(c) for n, c in cfg.channels.items()}
            return await drain(
                db, channels, plans, clock, random.Random(1), ignore_delay=ignore_delay
            )

    return asyncio.run(go())


def rows(db: Database) -> list[Outbox]:
    with db.transaction() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def test_digest_every_interval_sends_one_message_grouped(
    db: Database, receiver: HTTPServer
) -> None:
    receiver.route("/hook", Reply(status=204))
    cfg = channel_config(receiver, mode="digest", digest_every="30m")
    clock = Clock(T0 + timedelta(minutes=5))
    ids = queue(db, cfg, 3, clock.now)
    assert run_drain(db, cfg, clock, ignore_delay=True).outcomes == ()  # held until 12:30
    assert receiver.received("/hook") == []
    clock.now = T0 + timedelta(minutes=30)
    report = run_drain(db, cfg, clock)
    assert (report.sent, report.messages) == (3, 1)
    (post,) = receiver.received("/hook")
    body = post.json()
    assert body["type"] == "digest"
    assert body["reason"] == "digest"
    assert body["id"] == digest_id(ids) == post.headers["idempotency-key"]
    assert [a["id"] for a in body["alerts"]] == ids
    assert {r.message_id for r in rows(db)} == {body["id"]}


def test_digest_at_a_time_of_day_in_a_time_zone() -> None:
    plan = policy.DeliveryPlan(digest_at=config.parse_clock("08:00"), timezone="Europe/Kyiv")
    # 12:00 UTC is 14:00 in Kyiv (UTC+2 in November): next 08:00 Kyiv is 06:00 UTC tomorrow.
    due, reason = policy.hold(T0, plan, urgent=False)
    assert (due, reason) == (datetime(2026, 11, 27, 6, 0, tzinfo=UTC), "digest")
    assert policy.hold(T0, plan, urgent=True) == (T0, None)


def test_quiet_hours_across_midnight() -> None:
    plan = policy.DeliveryPlan(quiet=(config.parse_clock("22:00"), config.parse_clock("07:00")))
    assert policy.hold(T0, plan, urgent=False) == (T0, None)  # 12:00: not quiet
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    early = datetime(2026, 11, 27, 6, 59, tzinfo=UTC)
    morning = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert policy.hold(late, plan, urgent=False) == (morning, "quiet hours")
    assert policy.hold(early, plan, urgent=False) == (morning, "quiet hours")
    assert policy.hold(morning, plan, urgent=False) == (morning, None)
    assert policy.hold(late, plan, urgent=True) == (late, None)


def test_quiet_hours_hold_then_come_as_one_digest(db: Database, receiver: HTTPServer) -> None:
    receiver.route("/hook", Reply(status=204))
    cfg = channel_config(receiver, quiet_hours="22:00-07:00")
    clock = Clock(datetime(2026, 11, 26, 23, 0, tzinfo=UTC))
    queue(db, cfg, 2, clock.now)
    queue(db, cfg, 1, clock.now, urgent=True)
    run_drain(db, cfg, clock)
    (urgent,) = receiver.received("/hook")
    assert urgent.json()["type"] == "hit"
    clock.now = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    run_drain(db, cfg, clock)
    later = receiver.received("/hook")[1].json()
    assert later["type"] == "digest"
    assert later["reason"] == "quiet hours"
    assert len(later["alerts"]) == 2


def test_rate_limit_folds_the_excess_and_drops_nothing(db: Database, receiver: HTTPServer) -> None:
    receiver.route("/hook", Reply(status=204))
    cfg = channel_config(receiver, rate_limit="2/1h")
    clock = Clock(T0)
    queue(db, cfg, 5, clock.now)
    report = run_drain(db, cfg, clock)
    assert (report.sent, report.messages) == (5, 2)
    # (Sent side by side: they may arrive in either order.)
    bodies = {r.json()["type"]: r.json() for r in receiver.received("/hook")}
    first, summary = bodies["hit"], bodies["digest"]
    assert first["type"] == "hit"
    assert summary["type"] == "digest"
    assert summary["reason"] == "rate limit"
    assert len(summary["alerts"]) == 4

    # The window is full: a new alert waits for it to free up, then goes out as a summary.
    clock.now = T0 + timedelta(minutes=10)
    queue(db, cfg, 1, clock.now)
    assert run_drain(db, cfg, clock).outcomes == ()
    (held,) = [r for r in rows(db) if r.status == "pending"]
    assert held.hold_reason == "rate limit"
    assert held.next_attempt_at == T0 + timedelta(hours=1)
    clock.now = T0 + timedelta(hours=1, seconds=1)
    assert run_drain(db, cfg, clock).sent == 1
    assert receiver.received("/hook")[-1].json()["reason"] == "rate limit"
    assert all(r.status == "sent" for r in rows(db))


def test_retry_after_is_respected(db: Database, receiver: HTTPServer) -> None:
    receiver.route("/hook", Reply(status=429, headers={"Retry-After": "600"}))
    cfg = channel_config(receiver)
    clock = Clock(T0)
    queue(db, cfg, 1, clock.now)
    assert run_drain(db, cfg, clock).failed == 1
    (row,) = rows(db)
    assert row.status == "pending"
    assert row.next_attempt_at >= T0 + timedelta(seconds=600)  # not the 30 s backoff
    assert "HTTP 429" in (row.last_error or "")


def test_permanent_refusal_fails_after_give_up_after_and_can_be_retried(
    db: Database, db_url: str, receiver: HTTPServer, tmp_path: Path
) -> None:
    receiver.route("/hook", Reply(status=404))
    cfg = channel_config(receiver, give_up_after="1h")
    clock = Clock(T0)
    (alert_id,) = queue(db, cfg, 1, clock.now)
    run_drain(db, cfg, clock)
    assert rows(db)[0].status == "pending"  # young: retried
    clock.now = T0 + timedelta(hours=2)
    run_drain(db, cfg, clock, ignore_delay=True)
    (row,) = rows(db)
    assert row.status == "failed"
    assert row.last_error == "the webhook answered HTTP 404 Not Found"
    assert run_drain(db, cfg, clock, ignore_delay=True).outcomes == ()  # failed: not retried

    path = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[],
        rules=[],
        channels={"hook": {"type": "webhook", "url": receiver.url("/hook")}},
    )
    listing = CliRunner().invoke(cli, ["alerts", "--config", str(path), "--format", "json"])
    (item,) = __import__("json").loads(listing.output)
    assert (item["id"], item["status"], item["attempts"]) == (alert_id, "failed", 2)
    table = CliRunner().invoke(cli, ["alerts", "--config", str(path)]).output
    assert f"failed   {alert_id}" in table and "last error: the webhook answered HTTP 404" in table
    missing = CliRunner().invoke(cli, ["alerts", "retry", "nope", "--config", str(path)])
    assert missing.exit_code == 1 and "no failed alert has the id nope" in missing.output
    done = CliRunner().invoke(cli, ["alerts", "retry", alert_id, "--config", str(path)])
    assert done.output == "1 failed alert will be sent again\n"
    receiver.route("/hook", Reply(status=204))
    clock.now = datetime.now(UTC)
    assert run_drain(db, cfg, clock).sent == 1
    assert rows(db)[0].status == "sent"


def test_signed_webhook_verifies(db: Database, receiver: HTTPServer) -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    receiver.route("/hook", Reply(status=204))
    cfg = channel_config(receiver, secret=secret)
    clock = Clock(T0)
    (alert_id,) = queue(db, cfg, 1, clock.now)
    run_drain(db, cfg, clock)
    (post,) = receiver.received("/hook")
    assert post.headers["webhook-id"] == alert_id
    signed = f"{alert_id}.{post.headers['webhook-timestamp']}.".encode() + post.body
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert post.headers["webhook-signature"] == f"v1,{expected}"


def test_alerts_test_reports_the_answer(tmp_path: Path, receiver: HTTPServer) -> None:
    receiver.route("/ok", Reply(status=204))
    receiver.route("/down", Reply(status=503))
    path = write_config(
        tmp_path,
        db_url="sqlite:///nm.db",
        feeds=[],
        rules=[],
        channels={
            "good": {"type": "webhook", "url": receiver.url("/ok")},
            "bad": {"type": "webhook", "url": receiver.url("/down")},
        },
    )
    ok = CliRunner().invoke(cli, ["alerts", "test", "good", "--config", str(path)])
    assert (ok.exit_code, ok.output) == (
        0,
        "good: delivered (the receiver accepted the test alert)\n",
    )
    assert (
        receiver.received("/ok")[0].json()["entry"]["title"]
        == "newsmonitor test alert: this channel works"
    )
    bad = CliRunner().invoke(cli, ["alerts", "test", "bad", "--config", str(path)])
    assert bad.exit_code == 1
    assert bad.output == "bad: not delivered: the webhook answered HTTP 503 Service Unavailable\n"
    unknown = CliRunner().invoke(cli, ["alerts", "test", "pager", "--config", str(path)])
    assert (
        unknown.exit_code == 2
        and "there is no channel 'pager' (channels: bad, good)" in unknown.output
    )


def test_a_broken_template_is_a_permanent_failure_told_plainly(
    tmp_path: Path, receiver: HTTPServer
) -> None:
    (tmp_path / "bad.j2").write_text("{{ alert.no_such_thing }}")
    receiver.route("/slack", Reply(status=200))
    path = write_config(
        tmp_path,
        db_url="sqlite:///nm.db",
        feeds=[],
        rules=[],
        channels={"chat": {"type": "slack", "url": receiver.url("/slack"), "template": "bad.j2"}},
    )
    result = CliRunner().invoke(cli, ["alerts", "test", "chat", "--config", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(
        f"chat: not delivered: the template {tmp_path.resolve() / 'bad.j2'} failed ("
    )
    assert "no_such_thing" in result.output
    assert receiver.received("/slack") == []
