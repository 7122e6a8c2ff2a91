"""Parsing in worker processes: the same result as parsing here, errors that come back
whole, a worker that dies replaced, no process left behind by a daemon that dies, and
under "auto" workers only while parsing is a heavy load."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from monitor import parsepool
from monitor.config import RuleConfig
from monitor.errors import ParseError
from monitor.match import compile_rules, rule_queries
from monitor.parse import parse_feed
from monitor.parsepool import ParsePool
from monitor.records import ParsedFeed
from tests.helpers import start_daemon, write_config
from tests.servers import FEEDS, HTTPServer, wait_for

URL = "http://127.0.0.1/feed"
BODIES = sorted(p for p in FEEDS.iterdir() if p.suffix in (".rss", ".atom", ".json", ".xml"))


RULES = (
    RuleConfig(name="ceasefire", keywords=("ceasefire",)),
    RuleConfig(name="kyiv", query="Kyiv OR Київ OR Киев"),
    RuleConfig(name="bank", keywords=('"central bank"',)),
)


def test_workers_parse_and_match_exactly_as_this_process_does() -> None:
    assert len(BODIES) >= 5
    pool = ParsePool(2, rule_queries(RULES))

    async def run() -> list[object]:
        return await asyncio.gather(
            *(pool.parse(p.read_bytes(), URL, None) for p in BODIES), return_exceptions=True
        )

    try:
        got = asyncio.run(run())
    finally:
        pool.close()
    for path, result in zip(BODIES, got, strict=True):
        assert _comparable(result) == _comparable(_here(path.read_bytes())), path.name


def _here(body: bytes) -> object:
    try:
        parsed = parse_feed(body, URL, None)
    except ParseError as exc:
        return exc
    matcher = compile_rules(RULES)
    return dataclasses.replace(
        parsed, matches=tuple(tuple(matcher.match(e)) for e in parsed.entries)
    )


def _comparable(outcome: object) -> object:
    if isinstance(outcome, ParseError):
        return ("error", outcome.url, outcome.reason)
    return outcome


@pytest.mark.parametrize("adaptive", [False, True], ids=["in-a-worker", "in-a-thread"])
def test_a_parse_error_comes_back_with_its_url_and_sentence(adaptive: bool) -> None:
    pool = ParsePool(1, adaptive=adaptive)
    page = b"<!doctype html><html><head><title>x</title></head><body>hi</body></html>"
    try:
        with pytest.raises(ParseError) as caught:
            asyncio.run(pool.parse(page, URL, "text/html"))
    finally:
        pool.close()
    assert caught.value.url == URL
    assert str(caught.value) == "this is a web page, not a feed, and it advertises no feeds"
    if adaptive:  # a light load, parsed in a thread: its time still counts
        assert pool._pool is None and pool._load.total > 0


def test_a_killed_worker_is_replaced_and_parsing_goes_on() -> None:
    pool = ParsePool(1)
    body = (FEEDS / "world.rss").read_bytes()

    async def run() -> int:
        first = await pool.parse(body, URL, None)
        assert pool._pool is not None
        for pid in list(pool._pool._processes):  # the worker, killed as the OOM killer would
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        second = await pool.parse(body, URL, None)
        assert second == first
        return len(second.entries)

    try:
        assert asyncio.run(run()) > 0
    finally:
        pool.close()


def test_no_worker_outlives_a_killed_daemon(tmp_path: Path, db_url: str, http: HTTPServer) -> None:
    feed = http.feed("/world.rss", "world.rss")
    config = write_config(
        tmp_path,
        db_url=db_url,
        feeds=[{"url": feed, "interval": "1s"}],
        rules=[{"name": "ceasefire", "keywords": ["ceasefire"]}],
    )
    # A number of workers starts them at the first body ("auto" waits for a heavy load).
    config.write_text(config.read_text() + "[performance]\nparse_workers = 2\n")
    proc = start_daemon(config)
    wait_for(lambda: len(http.received("/world.rss", "GET")) >= 1, what="a poll")
    time.sleep(1)  # the body is parsed by now: the pool's processes run
    tree = _descendants(proc.pid)
    assert tree, "the daemon started no parser process"
    proc.kill()
    proc.communicate(timeout=10)  # every holder of its output pipe has exited too
    wait_for(lambda: not any(_alive(p) for p in tree), what="the parser processes to exit")


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in os.listdir(f"/proc/{parent}/task"):
            with open(f"/proc/{parent}/task/{task}/children") as f:
                children = [int(c) for c in f.read().split()]
            found += children
            todo += children
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_new_rules_take_new_workers() -> None:
    body = (FEEDS / "world.rss").read_bytes()
    pool = ParsePool(1, rule_queries(RULES[:1]))

    async def run() -> tuple[set[str], set[str]]:
        before = await pool.parse(body, URL, None)
        pool.use_rules(rule_queries(RULES[2:]))
        after = await pool.parse(body, URL, None)
        assert before.matches is not None and after.matches is not None
        return (
            {m.rule for found in before.matches for m in found},
            {m.rule for found in after.matches for m in found},
        )

    try:
        assert asyncio.run(run()) == ({"ceasefire"}, set())
    finally:
        pool.close()


def test_the_command_a_worker_reimports_is_light() -> None:
    # Parser processes re-run the program that started the daemon (the `newsmonitor`
    # script: `from monitor.__main__ import main`); it must not import the rest.
    code = (
        "import sys, monitor.__main__;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('monitor', 'sqlalchemy', 'pydantic', 'click', 'httpx')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['monitor', 'monitor.__main__']"


def test_workers_are_replaced_every_so_many_bodies_and_none_waits_forever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parsepool, "TASKS_PER_WORKER", 3)
    body = (FEEDS / "world.rss").read_bytes()
    pool = ParsePool(1, rule_queries(RULES))
    started = []
    start = pool._start

    def counted() -> ProcessPoolExecutor:
        started.append(True)
        return start()

    monkeypatch.setattr(pool, "_start", counted)

    async def run() -> list[ParsedFeed]:
        parses = asyncio.gather(*(pool.parse(body, URL, None) for _ in range(20)))
        return await asyncio.wait_for(parses, timeout=60)

    try:
        results = asyncio.run(run())
    finally:
        pool.close()
    assert len(started) == 7  # a new pool for every 3 bodies
    assert all(r == results[0] for r in results) and results[0].entries


def test_recent_load_counts_only_the_window() -> None:
    load = parsepool.RecentLoad(window=10.0)
    assert load.add(100.0, 0.2) == pytest.approx(0.2)
    assert load.add(105.0, 0.3) == pytest.approx(0.5)
    assert load.add(111.0, 0.1) == pytest.approx(0.4)  # the work done at 100 s is out
    assert load.at(115.5) == pytest.approx(0.1)  # the work done at 105 s is out too
    assert load.add(200.0, 0.0) == pytest.approx(0.0, abs=1e-9)


def test_auto_parses_here_until_the_load_calls_for_workers_and_stops_them_when_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = (FEEDS / "world.rss").read_bytes()
    pool = ParsePool(1, rule_queries(RULES), adaptive=True)
    monkeypatch.setattr(parsepool, "START_AFTER", 1e-9)  # one parse is load enough

    async def run() -> list[ParsedFeed]:
        here = await pool.parse(body, URL, None)  # in a thread: matched later, by the daemon
        assert pool._pool is None and here.matches is None
        there = await pool.parse(body, URL, None)  # the load called for the workers
        assert pool._pool is not None and there.matches is not None
        workers = list(pool._pool._processes)
        monkeypatch.setattr(parsepool, "IDLE_AFTER", 0.0)
        again = await pool.parse(body, URL, None)  # idle long enough: stopped, parsed here
        assert pool._pool is None and again.matches is None
        wait_for(lambda: not any(_alive(p) for p in workers), what="the idle workers to stop")
        return [here, there, again]

    try:
        here, there, again = asyncio.run(run())
    finally:
        pool.close()
    assert here == again == dataclasses.replace(there, matches=None)
    assert here.entries


def test_auto_keeps_a_light_load_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    body = (FEEDS / "world.rss").read_bytes()
    pool = ParsePool(2, adaptive=True)

    def refuse() -> ProcessPoolExecutor:
        raise AssertionError("parser processes started for a light load")

    monkeypatch.setattr(pool, "_start", refuse)

    async def run() -> list[ParsedFeed]:
        return await asyncio.gather(*(pool.parse(body, URL, None) for _ in range(10)))

    try:
        assert all(r.entries for r in asyncio.run(run()))
    finally:
        pool.close()
    assert 0 < pool._load.total < parsepool.START_AFTER
