"""Profile one `newsmonitor poll` in-process, worker-thread work included.

    .venv/bin/python bench/profile_poll.py --config config.toml --out poll.prof

cProfile sees only the thread that started it, and the pipeline parses, matches and
stores in worker threads (``asyncio.to_thread``). Here ``asyncio.to_thread`` runs its
function inline instead, so that all of the work is on the profiled thread: the
figures are CPU seconds of this process (the profiler's clock is process time), not
the wall time of the real, concurrent pass. Imports are included. Prints the own time
by package and the cumulative time of the pipeline's stages, then the top functions by
own time; writes the raw profile to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# (label, file name ending, function name): cumulative time of each pipeline stage.
STAGES = [
    ("imports (all modules)", "<frozen importlib._bootstrap>", "_find_and_load"),
    ("config load and validation", "monitor/config.py", "load"),
    ("rules compiled", "monitor/match/__init__.py", "compile_rules"),
    ("feed rows synced", "monitor/daemon.py", "_sync_feeds"),
    ("fetch (per feed, awaited)", "monitor/fetch.py", "fetch"),
    ("parse_feed", "monitor/parse.py", "parse_feed"),
    ("  feedparser.parse", "feedparser/api.py", "parse"),
    ("  charset.decode", "monitor/charset.py", "decode"),
    ("  entries to records (_entry)", "monitor/parse.py", "_entry"),
    ("matching (CompiledMatcher.match)", "monitor/match/compiler.py", "match"),
    ("store: known entries", "monitor/store/entries.py", "known"),
    ("store: entries.add", "monitor/store/entries.py", "add"),
    ("store: entries.touch", "monitor/store/entries.py", "touch"),
    ("store: hits.add", "monitor/store/hits.py", "add"),
    ("store: outbox.add", "monitor/store/outbox.py", "add"),
    ("store: feeds.mark_success", "monitor/store/feeds.py", "mark_success"),
    ("store: commit", "sqlalchemy/orm/session.py", "commit"),
    ("drain (after the pass)", "monitor/deliver/worker.py", "drain"),
]


async def _inline(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    return func(*args, **kwargs)


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/monitor/" in filename:
        rest = filename.rsplit("/monitor/", 1)[1]
        return "monitor/" + rest.split("/", 1)[0].removesuffix(".py")
    if filename.startswith("<frozen"):
        return "importlib (imports)"
    if filename == "~":
        return "C built-ins (called from anywhere)"
    return "stdlib/" + Path(filename).stem


def summarise(stats: pstats.Stats, total: float, top: int) -> None:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    by_package: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in raw.items():
        by_package[_package(filename)] += tottime
    print(f"\nown time by package (of {total:.2f} s profiled):")
    for name, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {seconds:7.2f} s  {100 * seconds / total:5.1f}%  {name}")
    print("\ncumulative time of the stages:")
    for label, ending, function in STAGES:
        cum = sum(
            ct
            for (filename, _, name), (_, _, _, ct, _) in raw.items()
            if name == function and filename.endswith(ending)
        )
        print(f"  {cum:7.2f} s  {100 * cum / total:5.1f}%  {label}")
    print()
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    asyncio.to_thread = _inline
    # CPU time, not wall time: waiting for the network or the farm is not work.
    profiler = cProfile.Profile(time.process_time)
    start = time.process_time()
    profiler.enable()
    from monitor.cli import cli

    try:
        cli(["-q", "poll", "--config", args.config], standalone_mode=False)
    finally:
        profiler.disable()
    total = time.process_time() - start
    profiler.dump_stats(args.out)
    sys.stdout.flush()
    summarise(pstats.Stats(str(args.out)), total, args.top)


if __name__ == "__main__":
    main()
