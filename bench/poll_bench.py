"""Measure one `newsmonitor poll` over a farm of feeds served on 127.0.0.1.

    .venv/bin/python bench/poll_bench.py --feeds 300 --entries 30 --rules 10

Runs the real command as a child process (imports included) three times against the
same database: all feeds new, nothing changed (every feed answers 304), and 10% of the
feeds with one new entry. Prints wall time, feeds per second, CPU seconds and peak RSS
of the child for each pass.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORDS = (
    "government minister region city attack talks peace report officials said week market "
    "energy grid winter aid convoy border river front drone power station school hospital "
    "Dnipropetrovsk Kharkiv Odesa Kyiv ceasefire election budget court parliament vote"
).split()


# Rules past the tenth watch one person each, as a large real rule set does: names that
# most entries do not mention (an entry names one of them at most, a third of the time).
NAMES = [
    (a + b + c).capitalize()
    for a in ("ko", "pe", "ma", "sa", "ty", "ho", "ba", "vo", "zi", "ry")
    for b in ("va", "tre", "len", "lo", "ni", "ro", "shy", "du", "me", "ka")
    for c in ("nko", "chuk", "vych", "shyn", "yak", "ets", "ski", "ruk", "enko", "ov")
]


class Farm:
    """N feeds of ``entries`` items each; ``bump`` adds one new item to a share of them."""

    def __init__(self, feeds: int, entries: int, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.items: list[list[tuple[str, str, str, datetime]]] = []
        now = datetime.now(UTC)
        for f in range(feeds):
            self.items.append(
                [self._item(f, i, now - timedelta(minutes=i)) for i in range(entries)]
            )
        self.bodies: list[bytes] = [self._render(f) for f in range(feeds)]

    def _item(self, feed: int, n: int, when: datetime) -> tuple[str, str, str, datetime]:
        title = " ".join(self.rng.choice(WORDS) for _ in range(8)).capitalize()
        words = [self.rng.choice(WORDS) for _ in range(60)]
        if self.rng.random() < 0.3:
            words[self.rng.randrange(60)] = self.rng.choice(NAMES)
        summary = " ".join(words)
        return (f"f{feed}-i{n}", title, f"<p>{summary}.</p>", when)

    def _render(self, f: int) -> bytes:
        items = "".join(
            f'<item><guid isPermaLink="false">{g}</guid><title>{t}</title>'
            f"<link>http://127.0.0.1/{g}</link><pubDate>{format_datetime(w)}</pubDate>"
            f"<description><![CDATA[{s}]]></description></item>"
            for g, t, s, w in self.items[f]
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {f}</title><link>http://127.0.0.1/{f}</link>{items}</channel></rss>"
        ).encode()

    def bump(self, share: float) -> None:
        now = datetime.now(UTC)
        for f in self.rng.sample(range(len(self.items)), int(len(self.items) * share)):
            n = len(self.items[f])
            self.items[f].insert(0, self._item(f, n, now))
            self.items[f].pop()
            self.bodies[f] = self._render(f)

    def serve(self) -> ThreadingHTTPServer:
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = farm.bodies[int(self.path.strip("/").removesuffix(".rss"))]
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.request_queue_size = 256
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def write_config(folder: Path, port: int, feeds: int, rules: int) -> Path:
    lines = [
        "[database]",
        f'url = "sqlite:///{folder / "bench.db"}"',
        "[network]",
        'allow = ["127.0.0.1"]',
        "concurrency = 32",
        "[defaults]",
        'interval = "1h"',
        'backlog_alerts = "1h"',
    ]
    for f in range(feeds):
        lines += ["[[feeds]]", f'url = "http://127.0.0.1:{port}/{f}.rss"']
    for r in range(rules):
        word = WORDS[r % len(WORDS)]
        if r < 10:
            keywords = f'["{word}", "\\"{word} talks\\""]'
        else:
            keywords = f'["{NAMES[(r - 10) % len(NAMES)]}"]'
        lines += ["[[rules]]", f'name = "rule{r}"', f"keywords = {keywords}"]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(config: Path) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "-q", "poll", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss, proc.stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--rules", type=int, default=10)
    args = parser.parse_args()
    farm = Farm(args.feeds, args.entries)
    server = farm.serve()
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), server.server_address[1], args.feeds, args.rules)
        print(f"{args.feeds} feeds x {args.entries} entries, {args.rules} rules")
        for shape in ("all new", "all 304", "10% changed"):
            if shape == "10% changed":
                farm.bump(0.10)
            wall, cpu, rss, summary = measure(config)
            print(
                f"{shape:12} {wall:6.2f} s wall  {args.feeds / wall:7.1f} feeds/s  "
                f"{cpu:6.2f} s CPU  peak RSS (largest child so far) {rss / 1024:6.1f} MiB"
            )
            print(f"{'':12} {summary}")
    server.shutdown()


if __name__ == "__main__":
    main()
