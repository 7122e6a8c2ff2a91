"""Crash safety: the daemon killed (SIGKILL) at random moments while it delivers a batch,
restarted, again and again. At the end every alert was delivered at least once, and no
alert was delivered again after its success had been recorded.

`make test` runs a few kills; `make soak` runs many (NEWSMONITOR_CRASH_KILLS).
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import select

from monitor.errors import StoreError
from monitor.store.db import Database
from monitor.store.tables import Outbox
from tests.helpers import start_daemon, stop_daemon, write_config
from tests.servers import HTTPServer, Reply, wait_for

KILLS = int(os.environ.get("NEWSMONITOR_CRASH_KILLS", "3"))
PER_ROUND = 15


def feed_body(n: int) -> bytes:
    now = format_datetime(datetime.now(UTC))
    items = "".join(
        f"<item><guid>g{i}</guid><title>ceasefire {i}</title><pubDate>{now}</pubDate></item>"
        for i in range(n)
    )
    return f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def sent_rows(db_url: str) -> dict[str, datetime]:
    db = Database(db_url)
    try:
        with db.transaction() as s:
            return {
                r.alert_id: r.sent_at
                for r in s.scalars(select(Outbox).where(Outbox.status == "sent"))
                if r.sent_at is not None
            }
    except StoreError:
        return {}  # not migrated yet
    finally:
        db.close()


def test_killed_mid_delivery_loses_nothing_and_repeats_nothing_recorded(
    tmp_path: Path, http: HTTPServer, receiver: HTTPServer
) -> None:
    # Slow enough that a batch is under way for a second or two.
    receiver.route("/hook", Reply(status=204, delay=0.15))
    db_url = f"sqlite:///{tmp_path / 'nm.db'}"
    feed = http.route("/f.rss", Reply(body=feed_body(PER_ROUND)))
    config = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": feed, "interval": "1s"}],
        rules=[{"name": "c", "keywords": ["ceasefire"], "channels": ["hook"]}],
        channels={"hook": {"type": "webhook", "url": receiver.url("/hook")}},
    )
    rng = random.Random(int(os.environ.get("NEWSMONITOR_CRASH_SEED", "7")))
    total = PER_ROUND
    for round_ in range(KILLS):
        # Each round the feed brings new entries, so there is always a batch to deliver.
        total = PER_ROUND * (round_ + 1)
        http.route("/f.rss", Reply(body=feed_body(total)))
        proc = start_daemon(config)
        before = len(receiver.received("/hook"))
        wait_for(
            lambda b=before, t=total: (
                len(receiver.received("/hook")) > b or len(sent_rows(db_url)) == t
            ),
            what="sending under way",
        )
        time.sleep(rng.uniform(0.0, 1.0))  # the kill lands at a random point of the batch
        proc.kill()
        proc.communicate(timeout=10)
    proc = start_daemon(config)
    try:
        wait_for(lambda: len(sent_rows(db_url)) == total, timeout=120, what="every alert sent")
    finally:
        stop_daemon(proc)

    sent = sent_rows(db_url)
    posts = receiver.received("/hook")
    delivered = {p.headers["idempotency-key"] for p in posts}
    assert len(sent) == total
    # (With -s: how hard the kills hit.)
    print(f"{KILLS} kills, {total} alerts, {len(posts) - len(delivered)} repeated sends")
    assert delivered == set(sent)  # every alert reached the receiver
    for post in posts:
        key = post.headers["idempotency-key"]
        # Nothing is sent again once its success is recorded (a repeat before that,
        # cut short by a kill, is allowed: same id, the receiver drops it).
        assert post.received_at <= sent[key].timestamp(), key
