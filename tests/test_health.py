"""Feed health: unhealthy after failures or silence, one alert per change and channel,
a reminder every `remind`, one when it recovers; nothing for an offline machine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from monitor import config, health
from monitor.daemon import Daemon
from monitor.deliver.chat import discord, slack, telegram
from monitor.deliver.render import email_message, webhook_payload
from monitor.health import FeedHealth
from monitor.records import Alert, Outbound
from monitor.store import outbox, retention
from monitor.store.db import Database, open_database
from monitor.store.tables import Feed, Outbox
from tests.servers import HTTPServer, Reply, free_port

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SHAPE = {"id", "type", "status", "feed", "reason", "since"}


class Clock:
    """The daemon's clock, moved by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rss(*published: datetime, title: str = "Feed") -> bytes:
    items = "".join(
        f"<item><guid isPermaLink='false'>e-{p.isoformat()}</guid><title>Item {i}</title>"
        f"<pubDate>{p.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for i, p in enumerate(published)
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{title}</title>"
        f"<link>http://127.0.0.1/</link>{items}</channel></rss>"
    ).encode()


def feed_reply(body: bytes) -> Reply:
    return Reply(body=body, headers={"Content-Type": "application/rss+xml"})


def make_config(
    tmp_path: Path,
    db_url: str,
    feeds: list[dict[str, Any]],
    hook: str | None,
    **health_keys: Any,
) -> config.Config:
    data: dict[str, Any] = {
        "database": {"url": db_url},
        "network": {"allow": ["127.0.0.1"]},
        "feeds": feeds,
        "rules": [{"name": "c", "keywords": ["ceasefire"]}],
    }
    if hook is not None:
        data["channels"] = {"hook": {"type": "webhook", "url": hook}}
        data["health"] = {"channels": ["hook"], **health_keys}
    elif health_keys:
        data["health"] = health_keys
    return config.validate(data, source=tmp_path / "config.toml")


async def cycle(daemon: Daemon) -> int:
    """One poll of every feed, a health check and a drain, as the daemon's jobs do."""
    await daemon.poll_all()
    queued = await daemon.check_health(send=False)
    await daemon.drain(ignore_delay=True)
    return queued


def health_rows(db: Database) -> dict[str, Feed]:
    with db.transaction() as s:
        return {f.url: f for f in s.scalars(select(Feed))}


# -- pure ------------------------------------------------------------------------------


def state(**changes: Any) -> FeedHealth:
    base: dict[str, Any] = {
        "id": 1,
        "url": "http://a.example/feed",
        "name": "A",
        "consecutive_errors": 0,
        "last_error": None,
        "first_success_at": NOW - 30 * DAY,
        "last_success_at": NOW,
        "last_new_at": NOW,
        "entry_times": (),
    }
    return FeedHealth(**{**base, **changes})


def test_auto_silence_threshold_needs_history_and_has_a_floor() -> None:
    daily = [NOW - i * DAY for i in range(10)]
    hourly = [NOW - i * timedelta(hours=1) for i in range(10)]
    assert health.silence_threshold("auto", daily[:4]) is None  # too little history
    assert health.silence_threshold("auto", daily) == 4 * DAY  # several median gaps
    assert health.silence_threshold("auto", hourly) == DAY  # never below a day
    assert health.silence_threshold(timedelta(hours=5), []) == timedelta(hours=5)


_moments = st.integers(min_value=-40 * 86400, max_value=0).map(lambda s: NOW + timedelta(seconds=s))


@given(
    first=_moments,
    last=_moments,
    new=st.none() | _moments,
    times=st.lists(_moments, max_size=12),
    silence=st.just("auto") | st.integers(1, 20 * 86400).map(lambda s: timedelta(seconds=s)),
)
def test_entry_times_left_out_never_change_a_verdict(
    first: datetime,
    last: datetime,
    new: datetime | None,
    times: list[datetime],
    silence: timedelta | Literal["auto"],
) -> None:
    # The check reads a feed's entry times only where needs_history says they can matter.
    feed = state(
        first_success_at=first, last_success_at=last, last_new_at=new, entry_times=tuple(times)
    )
    if not health.needs_history(feed, silence):
        bare = state(first_success_at=first, last_success_at=last, last_new_at=new)
        assert health.problem(bare, 3, silence) == health.problem(feed, 3, silence)


def test_history_is_needed_only_after_a_quiet_day_under_auto() -> None:
    quiet = state(last_new_at=NOW - DAY - timedelta(minutes=1))
    assert health.needs_history(quiet, "auto")
    assert not health.needs_history(quiet, timedelta(hours=5))
    assert not health.needs_history(state(last_new_at=NOW - timedelta(hours=23)), "auto")
    assert not health.needs_history(state(last_success_at=None), "auto")


def test_judge_alerts_once_reminds_and_recovers() -> None:
    keys: dict[str, Any] = {"failures": 3, "silence": "auto", "remind": DAY}
    failing = state(consecutive_errors=2, last_error="the server answered HTTP 500")
    assert health.judge(failing, NOW, **keys).action == "none"
    failing = state(consecutive_errors=3, last_error="the server answered HTTP 500")
    verdict = health.judge(failing, NOW, **keys)
    assert (verdict.action, verdict.health, verdict.since) == ("unhealthy", "unhealthy", NOW)
    assert verdict.reason == "The last 3 polls failed: the server answered HTTP 500."
    still = state(
        consecutive_errors=9,
        last_error="x",
        health="unhealthy",
        unhealthy_since=NOW,
        notified_at=NOW,
    )
    assert health.judge(still, NOW + timedelta(hours=23), **keys).action == "none"
    later = health.judge(still, NOW + DAY, **keys)
    assert (later.action, later.since, later.notified_at) == ("remind", NOW, NOW + DAY)
    back = state(health="unhealthy", unhealthy_since=NOW, notified_at=NOW)
    assert health.judge(back, NOW + DAY, **keys).action == "recovered"


def test_silence_counts_only_while_the_feed_answers() -> None:
    keys: dict[str, Any] = {"failures": 3, "silence": timedelta(days=2), "remind": DAY}
    quiet = state(last_new_at=NOW - 3 * DAY, last_success_at=NOW)
    verdict = health.judge(quiet, NOW, **keys)
    assert verdict.action == "unhealthy"
    assert verdict.reason == (
        "The feed has answered without a new entry for 3 days (more than 2 days)."
    )
    # Not polled successfully since (offline, or failing below the threshold): not silent.
    unseen = state(last_new_at=NOW - 3 * DAY, last_success_at=NOW - 3 * DAY + timedelta(hours=1))
    assert health.judge(unseen, NOW, **keys).action == "none"


def health_alert(name: str = "World <b>news</b> @here *x*", status: str = "unhealthy") -> Alert:
    return Alert(
        alert_id="a1",
        outbox_id=1,
        channel="c",
        entry_id="",
        title=f"{name}: {status}",
        link="http://a.example/feed",
        published=None,
        author=None,
        feed_url="http://a.example/feed",
        feed_name=name,
        matches=(),
        detected_at=NOW,
        attempts=0,
        kind="health",
        status=status,
        reason="The last 3 polls failed: could not connect.",
        since=NOW,
    )


def test_the_webhook_json_shape() -> None:
    payload = webhook_payload(Outbound("c", "a1", (health_alert("World"),)))
    assert payload == {
        "id": "a1",
        "type": "feed_health",
        "status": "unhealthy",
        "feed": {"url": "http://a.example/feed", "name": "World"},
        "reason": "The last 3 polls failed: could not connect.",
        "since": "2026-11-26T12:00:00+00:00",
    }


def test_chat_and_email_render_health_with_their_own_templates_and_escaping() -> None:
    message = Outbound("c", "a1", (health_alert(),))
    text = telegram.payload(1, message)["text"]
    assert text.startswith("<b>Feed unhealthy: World &lt;b&gt;news&lt;/b&gt; @\u200bhere")
    assert "The last 3 polls failed" in text
    embed = discord.payload(message)["embeds"][0]
    assert embed["title"] == "Feed unhealthy: World \\<b\\>news\\</b\\> @\u200bhere \\*x\\*"
    blocks = slack.payload(message)["blocks"][0]["text"]["text"]
    assert "World &lt;b&gt;news&lt;/b&gt;" in blocks and "Unhealthy since: 2026-11-26" in blocks
    recovered = Outbound("c", "a2", (health_alert("World", "recovered"),))
    mail = email_message(recovered, "nm@example.org", ("me@example.org",), NOW)
    assert mail["Subject"] == "[feed health] World has recovered"
    plain = mail.get_body(("plain",))
    assert plain is not None and "Feed recovered: World" in plain.get_content()


def test_health_channels_must_be_defined(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError) as info:
        config.validate({"health": {"channels": ["chat"]}}, source=tmp_path / "c.toml")
    assert "health.channels: channel 'chat' is not defined in [channels]" in str(info.value)
    with pytest.raises(config.ConfigError):
        config.validate(
            {"feeds": [{"url": "http://a.example/", "silence": "soon"}]}, source=tmp_path
        )


# -- through the daemon, on a loopback webhook -------------------------------------------


def test_failing_feed_alerts_once_reminds_recovers_and_survives_a_restart(
    tmp_path: Path, db_url: str, http: HTTPServer, receiver: HTTPServer
) -> None:
    url = http.route("/feed.rss", Reply(status=500))
    # The first health alert meets a busy receiver: its retry carries the same id.
    receiver.route("/hook", Reply(status=503), Reply(status=204))
    cfg = make_config(tmp_path, db_url, [{"url": url, "name": "World"}], receiver.url("/hook"))
    clock = Clock()
    db = open_database(db_url)

    def received() -> list[dict[str, Any]]:
        return [r.json() for r in receiver.received("/hook")]

    async def first_run() -> None:
        async with Daemon(cfg, db, clock=clock) as daemon:
            assert await cycle(daemon) == 0
            clock.now += timedelta(minutes=10)
            assert await cycle(daemon) == 0
            clock.now += timedelta(minutes=10)
            await daemon.poll_all()
            assert await daemon.check_health(send=False) == 1
            with db.transaction() as s:
                [waiting] = outbox.waiting(s)
            assert waiting.title == "feed World unhealthy"
            await daemon.drain(ignore_delay=True)  # 503: kept for a retry
            await daemon.drain(ignore_delay=True)
            # More failures: no more alerts until `remind` has passed.
            for _ in range(5):
                clock.now += timedelta(hours=1)
                assert await cycle(daemon) == 0

    asyncio.run(first_run())
    unhealthy_at = NOW + timedelta(minutes=20)
    bodies = received()
    assert len(bodies) == 2 and bodies[0] == bodies[1]  # one alert, sent twice (a retry)
    alert = bodies[0]
    assert set(alert) == SHAPE
    assert alert["type"] == "feed_health" and alert["status"] == "unhealthy"
    assert alert["feed"] == {"url": url, "name": "World"}
    assert alert["reason"] == (
        "The last 3 polls failed: the server answered HTTP 500 Internal Server Error."
    )
    assert alert["since"] == unhealthy_at.isoformat()
    row = health_rows(db)[url]
    assert (row.health, row.unhealthy_since) == ("unhealthy", unhealthy_at)

    async def after_restart() -> None:
        async with Daemon(cfg, db, clock=clock) as daemon:
            assert await cycle(daemon) == 0  # a restart does not repeat the alert
            clock.now = unhealthy_at + timedelta(hours=24)
            assert await cycle(daemon) == 1  # the reminder
            assert await cycle(daemon) == 0
            http.route("/feed.rss", feed_reply(rss(clock.now - DAY)))
            clock.now += timedelta(minutes=5)
            assert await cycle(daemon) == 1  # recovered
            clock.now += DAY
            assert await cycle(daemon) == 0

    asyncio.run(after_restart())
    db.close()
    reminder, recovered = received()[2:]
    assert reminder["status"] == "unhealthy" and reminder["id"] != alert["id"]
    assert reminder["since"] == alert["since"]
    assert set(recovered) == SHAPE
    assert recovered["status"] == "recovered"
    assert recovered["reason"] == "The feed answers again after failed polls."
    assert recovered["since"] == (unhealthy_at + timedelta(hours=24, minutes=5)).isoformat()
    assert len(received()) == 4


def test_an_offline_episode_raises_no_health_alert(
    tmp_path: Path, db_url: str, receiver: HTTPServer
) -> None:
    dead = [{"url": f"http://127.0.0.1:{free_port()}/feed{i}.rss"} for i in range(6)]
    receiver.route("/hook", Reply(status=204))
    cfg = make_config(tmp_path, db_url, dead, receiver.url("/hook"), failures=3)
    clock = Clock()
    db = open_database(db_url)

    async def run() -> None:
        async with Daemon(cfg, db, clock=clock) as daemon:
            for _ in range(6):
                assert await cycle(daemon) == 0
                clock.now += timedelta(hours=1)

    asyncio.run(run())
    rows = health_rows(db)
    db.close()
    assert receiver.received("/hook") == []
    assert all(r.health == "ok" and r.consecutive_errors < 3 for r in rows.values())


def test_silence_from_history_and_a_fixed_override(
    tmp_path: Path, db_url: str, http: HTTPServer, receiver: HTTPServer
) -> None:
    daily = [NOW - i * DAY for i in range(1, 8)]  # a daily feed: auto threshold 4 days
    rhythm = http.route("/daily.rss", feed_reply(rss(*daily)))
    fixed = http.route("/fixed.rss", feed_reply(rss(NOW - DAY)))  # its own `silence`
    young = http.route("/young.rss", feed_reply(rss(NOW - DAY)))  # too little history
    receiver.route("/hook", Reply(status=204))
    feeds = [{"url": rhythm}, {"url": fixed, "silence": "2d"}, {"url": young}]
    cfg = make_config(tmp_path, db_url, feeds, receiver.url("/hook"), silence="auto", remind="30d")
    clock = Clock()
    db = open_database(db_url)

    def statuses() -> list[tuple[str, str]]:
        return [(r.json()["feed"]["url"], r.json()["status"]) for r in receiver.received("/hook")]

    async def run() -> None:
        async with Daemon(cfg, db, clock=clock) as daemon:
            await cycle(daemon)
            clock.now = NOW + 3 * DAY
            assert await cycle(daemon) == 1
            assert statuses() == [(fixed, "unhealthy")]
            clock.now = NOW + 5 * DAY
            assert await cycle(daemon) == 1
            assert statuses()[1:] == [(rhythm, "unhealthy")]
            http.route("/daily.rss", feed_reply(rss(clock.now, *daily)))
            clock.now += timedelta(hours=1)
            assert await cycle(daemon) == 1
            assert statuses()[2:] == [(rhythm, "recovered")]

    asyncio.run(run())
    rows = health_rows(db)
    db.close()
    assert rows[fixed].health == "unhealthy"
    assert rows[fixed].health_reason == (
        "The feed has answered without a new entry for 5 days (more than 2 days)."
    )
    assert rows[young].health == "ok"
    assert rows[rhythm].health == "ok"


def test_without_health_channels_nothing_is_sent_but_health_is_kept(
    tmp_path: Path, db_url: str, http: HTTPServer
) -> None:
    url = http.route("/feed.rss", Reply(status=404))
    cfg = make_config(tmp_path, db_url, [{"url": url}], None, failures=1)
    db = open_database(db_url)

    async def run() -> None:
        async with Daemon(cfg, db, clock=Clock()) as daemon:
            assert await cycle(daemon) == 0

    asyncio.run(run())
    row = health_rows(db)[url]
    with db.transaction() as s:
        assert outbox.waiting(s) == []
    db.close()
    assert row.health == "unhealthy"
    assert row.health_reason == "The last poll failed: the server answered HTTP 404 Not Found."


def test_health_alerts_skip_digests_and_are_pruned_once_sent(
    tmp_path: Path, db_url: str, http: HTTPServer, receiver: HTTPServer
) -> None:
    url = http.route("/feed.rss", Reply(status=404))
    receiver.route("/hook", Reply(status=204))
    data: dict[str, Any] = {
        "database": {"url": db_url},
        "network": {"allow": ["127.0.0.1"]},
        "feeds": [{"url": url}],
        "channels": {
            "hook": {
                "type": "webhook",
                "url": receiver.url("/hook"),
                "mode": "digest",
                "digest_every": "1d",
                "rate_limit": "1/1d",
            }
        },
        "health": {"channels": ["hook"], "failures": 1},
    }
    cfg = config.validate(data, source=tmp_path / "config.toml")
    clock = Clock()
    db = open_database(db_url)

    async def run() -> None:
        async with Daemon(cfg, db, clock=clock) as daemon:
            assert await cycle(daemon) == 1
            http.route("/feed.rss", feed_reply(rss(NOW)))
            clock.now += timedelta(minutes=1)
            assert await cycle(daemon) == 1

    asyncio.run(run())
    # Sent at once, one message each, whatever the channel's digest and rate limit.
    assert [r.json()["status"] for r in receiver.received("/hook")] == ["unhealthy", "recovered"]
    with db.transaction() as s:
        assert retention.prune(s, NOW + DAY, DAY * 2, DAY * 2).hits == 0
        assert s.scalar(select(func.count()).select_from(Outbox)) == 2
        retention.prune(s, NOW + 3 * DAY, DAY * 2, DAY * 2)
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0
    db.close()


def test_entry_times_are_read_in_utc_with_plausible_published_dates(db_url: str) -> None:
    from monitor.records import ParsedEntry
    from monitor.store import entries, feeds
    from monitor.store import health as store_health

    seen = NOW - 3 * DAY
    dated = [
        ("old-date", NOW - 40 * DAY),  # before the window: first seen counts
        ("plausible", NOW - 5 * DAY + timedelta(seconds=7)),  # published counts
        ("future", seen + 2 * DAY),  # after first seen (beyond the slack): first seen
        ("undated", None),
    ]
    with open_database(db_url) as db:
        with db.transaction() as s:
            feeds.sync(s, [("http://127.0.0.1/f", None)], seen)
            (feed,) = feeds.active(s)
            entries.add(
                s, feed.id, [ParsedEntry(i, i, None, None, p, "", "") for i, p in dated], seen
            )
        with db.transaction() as s:
            (found,) = store_health.feeds(s, NOW)
    assert sorted(found.entry_times) == sorted(
        [seen, NOW - 5 * DAY + timedelta(seconds=7), seen, seen]
    )
    assert all(t.tzinfo is not None for t in found.entry_times)
    with open_database(db_url) as db, db.transaction() as s:
        (without,) = store_health.feeds(s, NOW, history=lambda f: False)
    assert without.entry_times == ()
    assert without.last_new_at == seen  # what the verdict needs besides the times


def test_unhealthy_feeds_are_counted_in_the_metrics(db_url: str) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from monitor.metrics import Metrics
    from monitor.store import feeds
    from monitor.store.summary import snapshot

    urls = ["http://127.0.0.1/a", "http://127.0.0.1/b", "http://127.0.0.1/c"]
    with open_database(db_url) as db:
        with db.transaction() as s:
            feeds.sync(s, [(u, None) for u in urls], NOW)
        with db.transaction() as s:
            for row in s.scalars(select(Feed).where(Feed.url != urls[0])):
                row.health, row.unhealthy_since = "unhealthy", NOW
        with db.transaction() as s:
            s.scalars(select(Feed).where(Feed.url == urls[2])).one().gone_at = NOW  # not polled
            snap = snapshot(s, NOW)
    metrics = Metrics()
    metrics.set_snapshot(snap)
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
    }
    assert snap.feeds_unhealthy == 1
    assert values["newsmonitor_feeds_unhealthy"] == 1


def test_a_change_two_processes_judge_at_once_is_recorded_and_alerted_once(db_url: str) -> None:
    import dataclasses

    from monitor.store import feeds
    from monitor.store import health as store_health

    with open_database(db_url) as db:
        with db.transaction() as s:
            feeds.sync(s, [("http://127.0.0.1/f", "F")], NOW)
        with db.transaction() as s:
            (seen,) = store_health.feeds(s, NOW)  # both processes read the same state
        failing = dataclasses.replace(seen, consecutive_errors=3, last_error="HTTP 500")
        keys: dict[str, Any] = {"failures": 3, "silence": "auto", "remind": DAY}
        ours, theirs = NOW, NOW + timedelta(seconds=5)
        verdicts = [health.judge(failing, at, **keys) for at in (ours, theirs)]
        assert [v.action for v in verdicts] == ["unhealthy", "unhealthy"]
        alerts = [
            health.alerts(failing, v, ["hook"], at)
            for v, at in zip(verdicts, (ours, theirs), strict=True)
        ]
        with db.transaction() as s:
            assert store_health.record(s, failing, verdicts[0], alerts[0], ours)
        with db.transaction() as s:
            assert not store_health.record(s, failing, verdicts[1], alerts[1], theirs)
        with db.transaction() as s:
            assert [w.title for w in outbox.waiting(s)] == ["feed F unhealthy"]
            (row,) = s.scalars(select(Feed))
            assert (row.health, row.unhealthy_since) == ("unhealthy", ours)
