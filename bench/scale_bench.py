"""Scale benchmark: `newsmonitor poll` against a plain reference loop, on one feed farm.

    .venv/bin/python bench/scale_bench.py                  # 1000 feeds, 3 runs a shape
    .venv/bin/python bench/scale_bench.py --feeds 10000 --repeat 1

Starts the feed farm (``bench/farm.py``) as its own process on 127.0.0.1, writes a
config for it in a temporary folder (SQLite there, ``[network] allow = ["127.0.0.1"]``,
ten keyword rules, one digest channel so that alerts are queued in the outbox but not
sent during the pass) and measures, each as a whole child process with its imports:

* ``newsmonitor poll`` (``python -m monitor poll``), and
* the reference loop (``bench/reference_poll.py``: one httpx.AsyncClient, feedparser,
  one regex, one SQLite transaction per feed),

for three shapes of the farm: every feed new (a fresh database), nothing changed (every
feed answers 304), and 10% of the feeds changed (one to five new entries each, from the
database as it was after the 304 pass); and a run over zero feeds, the start-up cost.
Each figure is the median of ``--repeat`` runs. For each it reports wall time, feeds
per second, CPU seconds (user + system of the child and of every process it started,
however deep: the benchmark is their sub-reaper and reaps what outlives the child),
and the peak RSS and PSS of the child's whole process tree (each the sum over the tree,
sampled from /proc every 10 ms; PSS counts a page shared by n processes 1/n in each,
so it is the memory a tree of forked processes really holds); then the ratios
newsmonitor / reference. ``--profile FILE`` also writes a cProfile of one newsmonitor
pass of each shape (FILE.new, FILE.304, FILE.changed; see bench/profile_poll.py) and
prints where the time goes.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import ctypes
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from farm import TOPICS  # noqa: E402


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss: int  # bytes, peak of the sum of RSS over the whole process tree
    pss: int  # bytes, peak of the sum of PSS over the tree (shared pages counted once)
    summary: str


@dataclass(frozen=True)
class Figures:
    wall: float
    cpu: float
    rss: int
    pss: int
    summary: str

    @staticmethod
    def median(runs: list[Run]) -> Figures:
        return Figures(
            statistics.median(r.wall for r in runs),
            statistics.median(r.cpu for r in runs),
            int(statistics.median(r.rss for r in runs)),
            int(statistics.median(r.pss for r in runs)),
            runs[-1].summary,
        )


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return pids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    # Proportional set size: a page shared by n processes counts 1/n in each, so the
    # sum over a tree of forked processes is the memory the tree really holds.
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


FARM_PIDS: set[int] = set()  # our children that are not measured


def _become_subreaper() -> None:
    # Descendants a measured child leaves behind (a fork server, its workers) are then
    # re-parented to us, and reaping them adds their CPU time to RUSAGE_CHILDREN.
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap_leftovers() -> None:
    deadline = time.monotonic() + 30
    while True:
        children = _own_children() - FARM_PIDS
        if not children:
            return
        for pid in children:
            if time.monotonic() > deadline:
                os.kill(pid, 9)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _own_children() -> set[int]:
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            found.update(int(c) for c in f.read().split())
    return found


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to its end; its wall time, CPU (of every process it started, reaped
    ones included), peak tree RSS and PSS, and its first output line."""
    out = cwd / "child.out"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = peak_pss = 0
    stop = threading.Event()
    with open(out, "w") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd, env=env)

        def sample() -> None:
            nonlocal peak, peak_pss
            while not stop.is_set():
                tree = _tree(proc.pid)
                peak = max(peak, sum(_rss(p) for p in tree))
                peak_pss = max(peak_pss, sum(_pss(p) for p in tree))
                stop.wait(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
        _reap_leftovers()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    text = out.read_text()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-3000:]}")
    peak = max(peak, usage.ru_maxrss * 1024)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    summary = next((ln for ln in lines if "feeds" in ln), lines[0] if lines else "")
    return Run(wall, cpu, peak, peak_pss, summary)


class FarmProcess:
    def __init__(self, feeds: int, hosts: int, seed: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH / "farm.py"), "--feeds", str(feeds), "--hosts",
             str(hosts), "--seed", str(seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        FARM_PIDS.add(self.proc.pid)
        self.info = self._reply()
        self.ports: list[int] = self.info["ports"]

    def _reply(self) -> dict[str, object] | dict[str, list[int]] | dict[str, int]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the feed farm did not start")
        reply: dict[str, list[int]] = json.loads(line)
        return reply

    def command(self, text: str) -> dict[str, int]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        reply: dict[str, int] = self._reply()  # type: ignore[assignment]
        return reply

    def urls(self, feeds: int) -> list[str]:
        return [f"http://127.0.0.1:{self.ports[f % len(self.ports)]}/{f}.xml" for f in range(feeds)]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def write_config(path: Path, db: Path, urls: list[str], concurrency: int) -> None:
    # A digest far ahead: alerts are queued (outbox rows) but the pass sends none.
    digest_at = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
    lines = [
        "[database]",
        f'url = "sqlite:///{db}"',
        "[network]",
        'allow = ["127.0.0.1"]',
        f"concurrency = {concurrency}",
        # The default, 50 starts a second, would make pacing the limit (20 s for 1000).
        "starts_per_second = 10000",
        "[defaults]",
        'interval = "1h"',
        'backlog_alerts = "2h"',
        "[channels.desk]",
        'type = "webhook"',
        'url = "http://127.0.0.1:9/unused"',
        'mode = "digest"',
        f'digest_at = "{digest_at}"',
    ]
    for url in urls:
        lines += ["[[feeds]]", f'url = "{url}"']
    for topic in TOPICS:
        lines += [
            "[[rules]]",
            f'name = "{topic.replace(" ", "-")}"',
            f'keywords = ["{topic}"]' if " " not in topic else f'keywords = ["\\"{topic}\\""]',
            'channels = ["desk"]',
        ]
    path.write_text("\n".join(lines) + "\n")


def reference_pattern() -> str:
    return r"\b(?:" + "|".join(t.replace(" ", r"\s+") for t in TOPICS) + r")\b"


def copy_db(src: Path, dst: Path) -> None:
    """Copy a SQLite database with its WAL files, replacing whatever is at ``dst``."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")


class Tool:
    """One side of the comparison: how to run it on a database."""

    def __init__(self, name: str, folder: Path, urls: list[str], concurrency: int) -> None:
        self.name = name
        self.folder = folder
        folder.mkdir()
        self.db = folder / "bench.db"
        self.urls = urls
        self.concurrency = concurrency
        self.empty = folder / "empty.db"
        self.snapshot = folder / "after-304.db"

    def command(self, feeds: bool = True, profile: Path | None = None) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Make an empty database at ``self.empty`` (not timed)."""


class Newsmonitor(Tool):
    env: dict[str, str] | None = None  # another checkout's, for --baseline

    def prepare(self) -> None:
        write_config(self.folder / "config.toml", self.db, self.urls, self.concurrency)
        write_config(self.folder / "zero.toml", self.folder / "zero.db", [], self.concurrency)
        for cfg in ("config.toml", "zero.toml"):
            subprocess.run(
                [sys.executable, "-m", "monitor", "-q", "--config", cfg, "db", "upgrade"],
                cwd=self.folder, check=True, capture_output=True, env=self.env,
            )  # fmt: skip
        copy_db(self.db, self.empty)

    def command(self, feeds: bool = True, profile: Path | None = None) -> list[str]:
        cfg = "config.toml" if feeds else "zero.toml"
        if profile:
            script = str(BENCH / "profile_poll.py")
            return [sys.executable, script, "--config", cfg, "--out", str(profile)]
        return [sys.executable, "-m", "monitor", "-q", "poll", "--config", cfg]


class Reference(Tool):
    def prepare(self) -> None:
        (self.folder / "urls.txt").write_text("\n".join(self.urls) + "\n")
        (self.folder / "zero.txt").write_text("")

    def command(self, feeds: bool = True, profile: Path | None = None) -> list[str]:
        return [
            sys.executable, str(BENCH / "reference_poll.py"),
            "--urls", "urls.txt" if feeds else "zero.txt",
            "--db", str(self.db if feeds else self.folder / "zero.db"),
            "--pattern", reference_pattern(),
            "--concurrency", str(self.concurrency),
        ]  # fmt: skip


def fresh(tool: Tool) -> None:
    if isinstance(tool, Newsmonitor):
        copy_db(tool.empty, tool.db)
    else:
        copy_db(tool.folder / "nothing", tool.db)


def bench(args: argparse.Namespace) -> dict[str, dict[str, Figures]]:
    env_note = f"{args.feeds} feeds on {args.hosts} hosts, concurrency {args.concurrency}"
    farm = FarmProcess(args.feeds, args.hosts, args.seed)
    mib = int(farm.info["bytes"]) / args.feeds / 1024  # type: ignore[call-overload]
    print(f"farm: {env_note}, {mib:.0f} KiB a feed on average (uncompressed)", flush=True)
    urls = farm.urls(args.feeds)
    results: dict[str, dict[str, Figures]] = {}
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        tools: list[Tool] = [
            Newsmonitor("newsmonitor", Path(tmp) / "nm", urls, args.concurrency),
            Reference("reference", Path(tmp) / "ref", urls, args.concurrency),
        ]
        if args.baseline:
            base = Newsmonitor("baseline", Path(tmp) / "base", urls, args.concurrency)
            base.env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}
            tools.insert(1, base)
        for tool in tools:
            tool.prepare()
            results[tool.name] = {}

        def shape(name: str, before: object = None, feeds: bool = True) -> None:
            for tool in tools:
                runs = []
                for _ in range(args.repeat):
                    if before == "fresh":
                        fresh(tool)
                    elif before == "snapshot":
                        copy_db(tool.snapshot, tool.db)
                    env = tool.env if isinstance(tool, Newsmonitor) else None
                    runs.append(measure(tool.command(feeds), tool.folder, env))
                figures = Figures.median(runs)
                results[tool.name][name] = figures
                print(
                    f"  {name:12} {tool.name:12} {figures.wall:7.2f} s  "
                    f"{args.feeds / figures.wall if feeds else 0:7.0f} feeds/s  "
                    f"{figures.cpu:7.2f} s CPU  {figures.rss / 2**20:6.0f} MiB RSS "
                    f"{figures.pss / 2**20:6.0f} MiB PSS  "
                    f"| {figures.summary}",
                    flush=True,
                )

        shape("start-up", feeds=False)
        shape("all new", before="fresh")
        shape("all 304")
        for tool in tools:
            copy_db(tool.db, tool.snapshot)
        changed = farm.command("bump 0.1")["changed"]
        print(f"farm: {changed} feeds changed", flush=True)
        shape("10% changed", before="snapshot")
        if args.profile:
            profile(args.profile, tools[0])
    farm.close()
    return results


def profile(base: Path, tool: Tool) -> None:
    """One profiled newsmonitor pass of each shape (bench/profile_poll.py), the farm
    as it is now (bumped): all new, all 304, 10% changed."""
    for label in ("new", "304", "changed"):
        if label == "new":
            fresh(tool)
        elif label == "changed":
            copy_db(tool.snapshot, tool.db)  # the 304 database against the bumped farm
        # ("304": right after "new", everything is known.)
        out = Path(f"{base}.{label}").resolve()
        print(f"\nprofile of one newsmonitor pass, {label}: {out}", flush=True)
        done = subprocess.run(
            tool.command(profile=out), cwd=tool.folder, capture_output=True, text=True
        )
        print(done.stdout[-12000:], done.stderr[-3000:], flush=True)


def report(results: dict[str, dict[str, Figures]], feeds: int) -> None:
    nm, ref = results["newsmonitor"], results["reference"]
    print("\n| shape | tool | wall s | feeds/s | CPU s | peak RSS MiB | peak PSS MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in ("start-up", "all new", "all 304", "10% changed"):
        for tool, figs in results.items():
            f = figs[name]
            rate = f"{feeds / f.wall:.0f}" if name != "start-up" else "-"
            print(
                f"| {name} | {tool} | {f.wall:.2f} | {rate} | {f.cpu:.2f} | {f.rss / 2**20:.0f} "
                f"| {f.pss / 2**20:.0f} |"
            )
    print("\n| shape | speed (ref wall / nm wall) | CPU nm/ref | RSS nm/ref | PSS nm/ref |")
    print("| --- | --- | --- | --- | --- |")
    for name in ("all new", "all 304", "10% changed"):
        a, b = nm[name], ref[name]
        print(
            f"| {name} | {b.wall / a.wall:.2f}x | {a.cpu / b.cpu:.2f} | {a.rss / b.rss:.2f} "
            f"| {a.pss / b.pss:.2f} |"
        )
        if "baseline" in results:
            c = results["baseline"][name]
            ratios = (
                f"{b.wall / c.wall:.2f}x | {c.cpu / b.cpu:.2f} | {c.rss / b.rss:.2f} "
                f"| {c.pss / b.pss:.2f}"
            )
            print(f"| {name} (baseline) | {ratios} |")
    for tool, figs in results.items():
        net = figs["all 304"].wall - figs["start-up"].wall
        rate = f"{feeds / net:.0f}" if net > 0 else "n/a"
        print(f"{tool}: all 304 net of start-up ({figs['start-up'].wall:.2f} s): {rate} feeds/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50, help="farm ports, one host each")
    parser.add_argument("--concurrency", type=int, default=32, help="fetches at once, both")
    parser.add_argument("--repeat", type=int, default=3, help="runs a shape (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="also cProfile newsmonitor to FILE.*")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also measure the newsmonitor of this other checkout (before/after a change)",
    )
    args = parser.parse_args()
    _become_subreaper()
    os.chdir(ROOT)
    # Byte-compiled, as an installed package is (PYTHONDONTWRITEBYTECODE would otherwise
    # make every measured start compile the checkout's modules again).
    for checkout in (ROOT, args.baseline):
        if checkout is not None:
            compileall.compile_dir(checkout / "monitor", quiet=1)
    # The children import this checkout's monitor package.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    results = bench(args)
    report(results, args.feeds)


if __name__ == "__main__":
    main()
