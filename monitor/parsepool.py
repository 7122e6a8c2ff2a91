"""Feed parsing (and matching) in worker processes.

Parsing is most of a poll's CPU (feedparser above all), matching the next largest part.
In the event loop's process they would hold the GIL against fetching and storing and
leave the other cores idle, so bodies go to a pool of worker processes: bytes in, a
:class:`~monitor.records.ParsedFeed` out with each entry's rule matches, as
:func:`monitor.parse.parse_feed` and the compiled matcher are pure. Every entry of a
changed feed is matched there, known ones too, which costs the workers a little and
spares the daemon's own process, the one that fetches and stores.

The pool uses the ``forkserver`` start method: workers are forked from a small server
process that has imported only the parsing modules, never from the daemon itself, so a
worker starts in milliseconds, holds no copy of the daemon's threads, sockets or
database connections, and can be replaced at any time.

Workers cost memory (about 30 MiB each) and a start (a fresh interpreter importing the
parser: about half a second of CPU), which only a steady flow of bodies pays back. So
with ``parse_workers = "auto"`` bodies are parsed in a thread of this process until
parsing has taken ``START_AFTER`` seconds within ``LOAD_WINDOW`` (about what starting
the workers costs), and the workers are stopped again after ``IDLE_AFTER`` without a
body: a pass of mostly unchanged feeds, or a daemon whose feeds change now and then,
never starts them, while a first pass over many new feeds starts them within its first
few dozen feeds. A number of workers set in the config starts them at the first body.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from monitor.errors import ParseError
from monitor.match import Matcher, RuleQueries
from monitor.match.compiler import CompiledMatcher
from monitor.parse import parse_feed
from monitor.records import ParsedFeed

log = logging.getLogger(__name__)

# The workers are replaced after this many bodies each, which bounds what a long-lived
# worker's heap can grow to (feedparser's allocations fragment it) at the cost of a
# fork. The whole pool is replaced, not one worker at a time with the executor's
# max_tasks_per_child, which can stop replacing workers and leave queued bodies
# waiting forever (CPython issue 115634, in 3.11 up to 3.15).
TASKS_PER_WORKER = 500
# "auto": parse in a thread until parsing took this many seconds within the window, then
# start the workers; stop them after this long without a body.
START_AFTER = 0.5
LOAD_WINDOW = 30.0
IDLE_AFTER = 600.0


_matcher: Matcher | None = None  # in a worker: the rules, compiled at its start


def _worker_start(queries: RuleQueries) -> None:
    """In each worker: the rules compiled; stop signals are the daemon's to handle (it
    closes the pool in its own time; Ctrl-C at a terminal reaches the whole process
    group), and a worker whose daemon died (SIGKILL, a crash) exits instead of waiting
    for work forever."""
    global _matcher
    _matcher = CompiledMatcher(queries)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    daemon = multiprocessing.parent_process()  # the daemon, not the fork server
    if daemon is None:
        return

    def watch() -> None:
        daemon.join()  # returns when the daemon's end of a pipe closes: it is gone
        os._exit(0)

    threading.Thread(target=watch, name="daemon-watch", daemon=True).start()


def parse_and_match(
    body: bytes, url: str, content_type: str | None, known: frozenset[str] = frozenset()
) -> ParsedFeed:
    """In a worker: :func:`monitor.parse.parse_feed`, with every entry's matches."""
    parsed = parse_feed(body, url, content_type, known)
    if _matcher is None:
        return parsed
    return dataclasses.replace(
        parsed, matches=tuple(tuple(_matcher.match(e)) for e in parsed.entries)
    )


def _timed_parse(
    body: bytes, url: str, content_type: str | None, known: frozenset[str]
) -> tuple[ParsedFeed | ParseError, float]:
    """In a thread: ``parse_feed`` (or its error) and the CPU seconds it took the thread."""
    start = time.thread_time()
    try:
        result: ParsedFeed | ParseError = parse_feed(body, url, content_type, known)
    except ParseError as exc:
        result = exc
    return result, time.thread_time() - start


class RecentLoad:
    """Seconds of work done within the last ``window`` seconds (pure: the caller says
    when)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.total = 0.0
        self._done: deque[tuple[float, float]] = deque()

    def add(self, now: float, seconds: float) -> float:
        """Count ``seconds`` of work finished at ``now``; the total within the window."""
        self._done.append((now, seconds))
        self.total += seconds
        return self.at(now)

    def at(self, now: float) -> float:
        """The total within the window that ends at ``now``."""
        while self._done and self._done[0][0] < now - self.window:
            self.total -= self._done.popleft()[1]
        return self.total

    def clear(self) -> None:
        self._done.clear()
        self.total = 0.0


def auto_workers() -> int:
    """``parse_workers = "auto"``: one per core; none (parse in a thread) on one core."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


class ParsePool:
    """Parses feed bodies in ``workers`` processes and matches their entries against the
    rules; or only parses, in a thread, when ``workers`` is 0.

    With ``adaptive``, bodies are parsed in a thread until the parsing load calls for
    the workers, which stop again when idle (see the module's docstring).
    """

    def __init__(self, workers: int, queries: RuleQueries = (), *, adaptive: bool = False) -> None:
        self.workers = workers
        self._queries = queries
        self._pool: ProcessPoolExecutor | None = None
        self._handed = 0  # bodies given to the current pool
        self._adaptive = adaptive
        self._load = RecentLoad(LOAD_WINDOW)
        self._last_handed = 0.0  # time.monotonic() of the last body given to a pool

    def use_rules(self, queries: RuleQueries) -> None:
        """Match against these rules from now on (a reload): new workers for new rules;
        bodies already handed to the old ones are read under the old rules."""
        if queries == self._queries:
            return
        self._queries = queries
        self._retire()

    def _retire(self) -> None:
        """New bodies go to a new pool; the old one reads what it was given, then ends."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    async def parse(
        self,
        body: bytes,
        url: str,
        content_type: str | None,
        known: frozenset[str] = frozenset(),
    ) -> ParsedFeed:
        """:func:`monitor.parse.parse_feed` of this body, in a worker, with its entries'
        matches (``ParsedFeed.matches``; None when parsed in a thread).

        Raises:
            ParseError: as ``parse_feed``; also when a worker died twice while reading
                this body (killed for its memory, say).
        """
        if self.workers == 0:
            return await asyncio.to_thread(parse_feed, body, url, content_type, known)
        if self._adaptive and not self._busy():
            return await self._in_thread(body, url, content_type, known)
        self._last_handed = time.monotonic()
        for _ in range(2):
            pool = self._pool or self._start()
            try:
                future = pool.submit(parse_and_match, body, url, content_type, known)
                self._handed += 1
                if self._handed >= TASKS_PER_WORKER * self.workers:
                    self._retire()
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                # Every body in flight fails with the pool: each is tried once more in
                # a new pool, so only a body that kills a worker again is refused.
                if self._pool is pool:
                    log.warning("a feed parser process stopped unexpectedly; starting anew")
                    self._retire()
        raise ParseError(url, "the parser process stopped while reading this feed, twice")

    def _busy(self) -> bool:
        """Adaptive: whether the workers run (and are still wanted), or are now due."""
        now = time.monotonic()
        if self._pool is not None:
            if now - self._last_handed < IDLE_AFTER:
                return True
            log.debug("feed parser processes idle for %.0f s: stopping them", IDLE_AFTER)
            self._retire()
            self._load.clear()
        return self._load.at(now) >= START_AFTER

    async def _in_thread(
        self, body: bytes, url: str, content_type: str | None, known: frozenset[str]
    ) -> ParsedFeed:
        result, took = await asyncio.to_thread(_timed_parse, body, url, content_type, known)
        self._load.add(time.monotonic(), took)
        if isinstance(result, ParseError):
            raise result
        return result

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["monitor.parse", "monitor.match.compiler"])
        log.debug("starting %d feed parser processes", self.workers)
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_worker_start,
            initargs=(self._queries,),
        )
        self._handed = 0
        return self._pool

    def close(self) -> None:
        """Stop the workers (waiting for those busy to finish their body)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
