"""A reproducible feed farm on 127.0.0.1, for the scale benchmark.

    .venv/bin/python bench/farm.py --feeds 1000 --hosts 50

Serves N generated feeds (a seeded random mix of RSS 2.0 and Atom, 20 to 50 entries
each, titles and HTML summaries of news-like text, a third of the feeds with full
`content:encoded` articles) from ``--hosts`` listening ports on 127.0.0.1, each port a
separate "host" (feed f is on port number f modulo hosts), at
``http://127.0.0.1:PORT/F.xml``. The same seed gives the same feeds, dated back from
the minute the farm starts. Every feed has a strong ETag and answers 304 to a
matching ``If-None-Match``; bodies are gzip-compressed when the client accepts it.

Bodies are rendered and compressed once, before the farm says it is ready, and the
server is a bare asyncio protocol with keep-alive, so that answering costs a few
microseconds of CPU and the farm is not what a benchmark measures.

It prints one JSON line when ready, ``{"ports": [...], "feeds": N, "bytes": ...}``, then
reads commands on standard input, one per line, answering each with one JSON line:

* ``bump SHARE``: that share of the feeds (chosen by the seeded generator) gets one to
  five new entries at the top, the oldest as many dropped; answers ``{"changed": K}``;
* ``stats``: requests served so far by status;
* ``quit`` (or end of input): stop.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import random
import sys
import threading
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

COMMON = (
    "the of and to in a on for with after said officials government minister region city "
    "forces attack talks report week market energy grid winter aid convoy border river "
    "front power station school hospital court parliament vote budget prices residents "
    "police agency statement spokesman plans new first year month day local national "
    "public service workers strike union company shares investors bank rates inflation "
    "growth economy trade exports imports deal agreement meeting leaders summit president "
    "prime opposition party election campaign voters poll results law bill reform health "
    "water supply roads rail airport flights weather storm floods heat rain season crops "
    "farmers food fuel gas oil pipeline tanker port ships navy army troops missile drone "
    "defence air shelter damage repairs engineers rescue emergency fire injured killed "
    "families children students teachers university research scientists study data "
    "technology internet phone network outage cyber software users platform rules ban "
    "court judge trial case charges sentence prison appeal rights protest march crowd"
).split()
PLACES = (
    "Kyiv Kharkiv Odesa Lviv Dnipro Zaporizhzhia Kherson Mykolaiv Poltava Sumy Chernihiv "
    "Vinnytsia Warsaw Berlin Paris London Brussels Vienna Prague Budapest Bucharest Riga "
    "Vilnius Tallinn Helsinki Oslo Stockholm Copenhagen Madrid Rome Athens Ankara Geneva"
).split()
PEOPLE = (
    "Kovalenko Petrenko Shevchenko Bondarenko Tkachenko Kravchenko Oliynyk Melnyk Marchenko "
    "Savchenko Rudenko Moroz Lysenko Hrytsenko Pavlenko Kuzmenko Zinchenko Boyko Sydorenko"
).split()
# Each rule of the benchmark's config watches one of these; about one entry in a
# hundred mentions each, so about a tenth of the entries match a rule.
TOPICS = (
    "ceasefire",
    "wildfire",
    "earthquake",
    "central bank",
    "grain corridor",
    "power outage",
    "cyberattack",
    "referendum",
    "evacuation",
    "sanctions",
)
TOPIC_RATE = 0.01


def _sentence(rng: random.Random, words: int) -> str:
    picked = rng.choices(COMMON, k=words)
    for _ in range(rng.randint(0, 2)):
        picked[rng.randrange(words)] = rng.choice(PLACES + PEOPLE)
    return " ".join(picked).capitalize() + "."


def _text(rng: random.Random, sentences: int) -> str:
    text = " ".join(_sentence(rng, rng.randint(8, 20)) for _ in range(sentences))
    for topic in TOPICS:
        if rng.random() < TOPIC_RATE:
            text = f"{text} The {topic} was discussed."
    return text


@dataclass
class Feed:
    """One feed: its fixed header, its items (rendered), and the served forms."""

    number: int
    atom: bool
    articles: bool
    items: list[str] = field(default_factory=list)
    made: int = 0  # entries ever made, for unique ids
    gz: bytes = b""
    etag: bytes = b""


class Farm:
    """The feeds and their pre-rendered answers."""

    def __init__(self, feeds: int, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        # Dated from the real time, so that a poll's backlog window sees the same entries.
        self.now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.feeds: list[Feed] = []
        for n in range(feeds):
            feed = Feed(n, atom=self.rng.random() < 0.2, articles=self.rng.random() < 1 / 3)
            count = self.rng.randint(20, 50)
            # The newest first, one every 20 to 90 minutes back from now.
            when = self.now
            items = []
            for _ in range(count):
                items.append(self._item(feed, when))
                when -= timedelta(minutes=self.rng.randint(20, 90))
            feed.items = items
            self._render(feed)
            self.feeds.append(feed)

    def _item(self, feed: Feed, when: datetime) -> str:
        rng = self.rng
        feed.made += 1
        guid = f"urn:farm:{feed.number}:{feed.made}"
        link = f"https://news{feed.number % 97}.example/{feed.number}/story-{feed.made}"
        title = escape(_sentence(rng, rng.randint(6, 12)).rstrip("."))
        summary = f"<p>{_text(rng, rng.randint(2, 4))}</p>"
        if rng.random() < 0.3:
            summary += f'<p>Read more at <a href="{link}">{escape(link)}</a>.</p>'
        article = ""
        if feed.articles:
            article = "".join(f"<p>{_text(rng, rng.randint(3, 6))}</p>" for _ in range(5))
        if feed.atom:
            content = f'<content type="html">{escape(article)}</content>' if article else ""
            return (
                f"<entry><id>{guid}</id><title>{title}</title>"
                f'<link rel="alternate" href="{link}"/>'
                f"<published>{when.isoformat()}</published><updated>{when.isoformat()}</updated>"
                f"<author><name>{rng.choice(PEOPLE)}</name></author>"
                f'<summary type="html">{escape(summary)}</summary>{content}</entry>'
            )
        content = f"<content:encoded><![CDATA[{article}]]></content:encoded>" if article else ""
        return (
            f'<item><guid isPermaLink="false">{guid}</guid><title>{title}</title>'
            f"<link>{link}</link><pubDate>{format_datetime(when)}</pubDate>"
            f"<category>{rng.choice(COMMON)}</category>"
            f"<description><![CDATA[{summary}]]></description>{content}</item>"
        )

    def _render(self, feed: Feed) -> None:
        n = feed.number
        if feed.atom:
            body = (
                '<?xml version="1.0" encoding="utf-8"?>'
                '<feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>Farm feed {n}</title><id>urn:farm:{n}</id>"
                f'<link rel="alternate" href="https://news{n % 97}.example/{n}/"/>'
                f"<updated>{self.now.isoformat()}</updated>{''.join(feed.items)}</feed>"
            )
        else:
            body = (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
                f"<title>Farm feed {n}</title><link>https://news{n % 97}.example/{n}/</link>"
                f"<description>News from farm feed {n}</description><language>en</language>"
                f"{''.join(feed.items)}</channel></rss>"
            )
        raw = body.encode()
        feed.gz = gzip.compress(raw, compresslevel=6, mtime=0)
        feed.etag = b'"' + hashlib.sha256(raw).hexdigest()[:32].encode() + b'"'

    def bump(self, share: float) -> int:
        """Give that share of the feeds one to five new entries; returns how many."""
        chosen = self.rng.sample(self.feeds, round(len(self.feeds) * share))
        self.now += timedelta(minutes=30)
        for feed in chosen:
            new = self.rng.randint(1, 5)
            fresh = [self._item(feed, self.now - timedelta(minutes=i)) for i in range(new)]
            feed.items = fresh + feed.items[: len(feed.items) - new]
            self._render(feed)
        return len(chosen)

    def total_bytes(self) -> int:
        """Uncompressed size of all bodies."""
        return sum(len(zlib.decompress(f.gz, 31)) for f in self.feeds)


class Stats:
    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    def add(self, status: int) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1


def answer(farm: Farm, head: bytes, stats: Stats) -> bytes:
    """The whole HTTP/1.1 response to one request head."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    etag = b""
    gz = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"if-none-match":
            etag = value.strip()
        elif name == b"accept-encoding":
            gz = b"gzip" in value
    path = parts[1] if len(parts) > 1 else b""
    number = path[1:].removesuffix(b".xml")
    if not number.isdigit() or int(number) >= len(farm.feeds):
        stats.add(404)
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    feed = farm.feeds[int(number)]
    if etag == feed.etag:
        stats.add(304)
        return b"HTTP/1.1 304 Not Modified\r\nETag: " + feed.etag + b"\r\n\r\n"
    stats.add(200)
    body = feed.gz if gz else zlib.decompress(feed.gz, 31)
    head_out = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/"
        + (b"atom" if feed.atom else b"rss")
        + b"+xml; charset=utf-8\r\nETag: "
        + feed.etag
        + (b"\r\nContent-Encoding: gzip" if gz else b"")
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    return head_out + body


class Connection(asyncio.Protocol):
    """Keep-alive HTTP/1.1 for GET requests (no request bodies)."""

    def __init__(self, farm: Farm, stats: Stats) -> None:
        self.farm = farm
        self.stats = stats
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head, found, rest = self.buffer.partition(b"\r\n\r\n")
            if not found:
                return
            self.buffer = rest
            assert self.transport is not None
            self.transport.write(answer(self.farm, head, self.stats))


async def serve(farm: Farm, hosts: int) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    servers = [
        await loop.create_server(
            lambda: Connection(farm, stats), "127.0.0.1", 0, backlog=1024, reuse_address=True
        )
        for _ in range(hosts)
    ]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print(json.dumps({"ports": ports, "feeds": len(farm.feeds), "bytes": farm.total_bytes()}))
    sys.stdout.flush()
    done = asyncio.Event()

    def command(line: str) -> None:
        words = line.split()
        if not words or words[0] == "quit":
            done.set()
            return
        if words[0] == "bump":
            reply: object = {"changed": farm.bump(float(words[1]))}
        elif words[0] == "stats":
            reply = {str(k): v for k, v in sorted(stats.counts.items())}
        else:
            reply = {"error": f"unknown command {words[0]!r}"}
        print(json.dumps(reply))
        sys.stdout.flush()

    def read_commands() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(command, line)
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=read_commands, daemon=True).start()
    await done.wait()
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50, help="listening ports (hosts)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    farm = Farm(args.feeds, args.seed)
    asyncio.run(serve(farm, min(args.hosts, args.feeds) or 1))


if __name__ == "__main__":
    main()
