"""The plain reference loop the scale benchmark measures newsmonitor against.

    .venv/bin/python bench/reference_poll.py --urls urls.txt --db ref.db --pattern REGEX

One process, one thread, one event loop: one ``httpx.AsyncClient`` fetches every URL
(at most ``--concurrency`` at once) with a conditional GET on the stored ETag; each 200
body goes through ``feedparser.parse`` (its defaults), one regular expression is run
over each new entry's title and summary, and one SQLite transaction per feed stores the
new entries by guid (with whether they matched) and the feed's new ETag. It prints one
summary line. It is what a small script would do, without newsmonitor's guarantees
(address checks, caps, backoff, identity rules, outbox).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
from pathlib import Path

import feedparser
import httpx

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, etag TEXT);
CREATE TABLE IF NOT EXISTS entries (
    feed TEXT NOT NULL, guid TEXT NOT NULL, title TEXT, summary TEXT, hit INTEGER,
    PRIMARY KEY (feed, guid)
);
"""


def store(
    db: sqlite3.Connection, url: str, etag: str | None, parsed: object, pattern: re.Pattern[str]
) -> tuple[int, int]:
    """One transaction: the new entries of one feed and its ETag; (new, hits)."""
    entries = getattr(parsed, "entries", [])
    new = hits = 0
    with db:
        known = {row[0] for row in db.execute("SELECT guid FROM entries WHERE feed = ?", (url,))}
        for entry in entries:
            guid = entry.get("id") or entry.get("link") or entry.get("title", "")
            if guid in known:
                continue
            known.add(guid)
            title, summary = entry.get("title", ""), entry.get("summary", "")
            hit = pattern.search(f"{title}\n{summary}") is not None
            db.execute(
                "INSERT INTO entries (feed, guid, title, summary, hit) VALUES (?, ?, ?, ?, ?)",
                (url, guid, title, summary, hit),
            )
            new += 1
            hits += hit
        db.execute(
            "INSERT INTO feeds (url, etag) VALUES (?, ?)"
            " ON CONFLICT (url) DO UPDATE SET etag = excluded.etag",
            (url, etag),
        )
    return new, hits


async def run(
    urls: list[str], db: sqlite3.Connection, pattern: re.Pattern[str], concurrency: int
) -> str:
    etags = dict(db.execute("SELECT url, etag FROM feeds").fetchall())
    gate = asyncio.Semaphore(concurrency)
    counts = {"changed": 0, "not_modified": 0, "errors": 0, "new": 0, "hits": 0}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def one(url: str) -> None:
            headers = {"If-None-Match": etags[url]} if etags.get(url) else {}
            try:
                async with gate:
                    response = await client.get(url, headers=headers)
                if response.status_code == 304:
                    counts["not_modified"] += 1
                    return
                response.raise_for_status()
                parsed = feedparser.parse(response.content)
                new, hits = store(db, url, response.headers.get("etag"), parsed, pattern)
            except (httpx.HTTPError, sqlite3.Error) as exc:
                counts["errors"] += 1
                print(f"failed: {url}: {exc}")
                return
            counts["changed"] += 1
            counts["new"] += new
            counts["hits"] += hits

        await asyncio.gather(*(one(u) for u in urls))
    return (
        f"{len(urls)} feeds: {counts['changed']} changed, {counts['not_modified']} not"
        f" modified, {counts['errors']} failed; {counts['new']} new entries,"
        f" {counts['hits']} matched"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--urls", type=Path, required=True, help="one feed URL a line")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--pattern", required=True, help="regex, matched case-insensitively")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    urls = args.urls.read_text().split()
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    db.isolation_level = ""  # `with db:` opens and commits one transaction
    pattern = re.compile(args.pattern, re.IGNORECASE)
    print(asyncio.run(run(urls, db, pattern, args.concurrency)))
    db.close()


if __name__ == "__main__":
    main()
