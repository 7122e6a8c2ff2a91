"""The offline demo: sample feeds and a webhook receiver on 127.0.0.1, and the real daemon.

Entries are dated when they appear, and a new one appears every few seconds, so the
first-poll backlog rule lets them through and alerts are seen arriving.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from monitor import config
from monitor.daemon import serve
from monitor.errors import ConfigError
from monitor.store.db import Database, migrations_folder, open_database
from monitor.text import one_line

INITIAL_ITEMS = 2
DEMO_INTERVAL = "2s"


def example_config_path() -> Path:
    """The shipped config.toml: packaged inside ``monitor`` when installed, else the checkout's."""
    packaged = migrations_folder().parent / "_example_config.toml"
    return packaged if packaged.is_file() else migrations_folder().parent / "config.toml"


class SampleFeeds:
    """Bundled sample feeds whose items are revealed over time, dated when revealed."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        data = json.loads(
            resources.files("monitor").joinpath("demo_data/samples.json").read_text("utf-8")
        )
        self.feeds: list[dict[str, Any]] = data["feeds"]
        self.clock = clock
        self._lock = threading.Lock()
        self.revealed: dict[str, list[datetime]] = {}
        now = clock()
        for feed in self.feeds:
            self.revealed[feed["slug"]] = [now] * min(INITIAL_ITEMS, len(feed["items"]))

    def reveal_next(self) -> bool:
        """Show one more item (feeds in turn); False once every item is shown."""
        with self._lock:
            for feed in sorted(self.feeds, key=lambda f: len(self.revealed[f["slug"]])):
                shown = self.revealed[feed["slug"]]
                if len(shown) < len(feed["items"]):
                    shown.append(self.clock())
                    return True
        return False

    def rss(self, slug: str, base: str) -> bytes | None:
        feed = next((f for f in self.feeds if f["slug"] == slug), None)
        if feed is None:
            return None
        with self._lock:
            shown = list(self.revealed[slug])
        items = []
        for i, when in reversed(list(enumerate(shown))):
            item = feed["items"][i]
            items.append(
                "<item>"
                f'<guid isPermaLink="false">{slug}-{i}</guid>'
                f"<title>{escape(item['title'])}</title>"
                f"<link>{base}/{slug}/{i}</link>"
                f"<pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{escape(item['summary'])}</description>"
                "</item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(feed['title'])}</title><link>{base}/{slug}</link>"
            f"{''.join(items)}</channel></rss>"
        ).encode()


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def feed_server(samples: SampleFeeds) -> ThreadingHTTPServer:
    """Serves ``/<slug>.rss`` for each sample feed."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            address: Any = self.server.server_address
            base = f"http://127.0.0.1:{address[1]}"
            body = samples.rss(self.path.strip("/").removesuffix(".rss"), base)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    return _serve(Handler)


def alert_line(payload: dict[str, Any]) -> str:
    """``alert: [rules] title (feed)`` for one webhook payload; feed text made one safe line."""
    rules = ", ".join(str(m.get("rule")) for m in payload.get("matches", []))
    title = str(payload.get("entry", {}).get("title") or "(untitled)")
    feed = str(payload.get("feed", {}).get("name") or "")
    return one_line(f"alert: [{rules}] {title} ({feed})", 400)


def receiver_server(output: Callable[[str], None]) -> ThreadingHTTPServer:
    """A webhook receiver that prints one ``alert:`` line per alert."""
    lock = threading.Lock()  # requests arrive on several threads; lines must not mix

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                line = alert_line(json.loads(self.rfile.read(length)))
                with lock:
                    output(line)
                status = 204
            except (ValueError, AttributeError):
                status = 400
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return _serve(Handler)


def demo_config(
    feed_port: int, receiver_port: int, samples: SampleFeeds, db_path: Path
) -> config.Config:
    """The shipped rules, the sample feeds, and one webhook channel to the demo receiver."""
    # Only the rules are taken from the shipped file: the rest of it (feeds, channels,
    # ${VARIABLES} a user may have added) plays no part in the demo.
    source = example_config_path()
    try:
        shipped = tomllib.loads(source.read_text("utf-8")).get("rules", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read the rules for the demo ({exc}).") from None
    rules = [{**r, "channels": ["demo"]} for r in shipped if isinstance(r, dict)]
    data = {
        "database": {"url": f"sqlite:///{db_path}"},
        "network": {"allow": ["127.0.0.1"]},
        "defaults": {"interval": DEMO_INTERVAL, "backlog_alerts": "1h"},
        "feeds": [
            {"url": f"http://127.0.0.1:{feed_port}/{f['slug']}.rss", "name": f["title"]}
            for f in samples.feeds
        ],
        "rules": rules,
        "channels": {
            "demo": {"type": "webhook", "url": f"http://127.0.0.1:{receiver_port}/alerts"}
        },
    }
    return config.validate(data, source=db_path.parent / "demo.toml")


async def _reveal(samples: SampleFeeds, every: float) -> None:
    while samples.reveal_next():
        await asyncio.sleep(every)


def run_demo(
    *,
    reveal_every: float = 4.0,
    seconds: float | None = None,
    output: Callable[[str], None] = print,
) -> None:
    """Run the demo until Ctrl-C (or for ``seconds``)."""

    samples = SampleFeeds(lambda: datetime.now(UTC))
    feeds, receiver = feed_server(samples), receiver_server(output)
    try:
        with tempfile.TemporaryDirectory(prefix="newsmonitor-demo-") as tmp:
            cfg = demo_config(
                feeds.server_address[1], receiver.server_address[1], samples, Path(tmp) / "demo.db"
            )
            with open_database(cfg.database.url) as db:
                output(
                    f"demo: {len(cfg.feeds)} sample feeds on"
                    f" http://127.0.0.1:{feeds.server_address[1]}/, rules"
                    f" {', '.join(r.name for r in cfg.rules)}; alerts print below. Ctrl-C stops."
                )
                asyncio.run(_main(cfg, db, samples, reveal_every, seconds))
    finally:
        for server in (feeds, receiver):
            server.shutdown()
            server.server_close()
    output("demo: stopped")


async def _main(
    cfg: config.Config, db: Database, samples: SampleFeeds, every: float, seconds: float | None
) -> None:
    stop = asyncio.Event()
    if seconds is not None:
        asyncio.get_running_loop().call_later(seconds, stop.set)
    reveal = asyncio.create_task(_reveal(samples, every))
    try:
        await serve(cfg, db, stop)
    finally:
        reveal.cancel()
