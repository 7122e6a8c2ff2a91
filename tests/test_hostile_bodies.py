"""A poll against hostile bodies (a gzip bomb, an endless body, one trickling a byte at a
time) stays within its bounds: the process stays small and the poll ends on time."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import write_config
from tests.servers import HTTPServer, Reply

MEMORY_BOUND_MB = 300


def test_bombs_endless_and_trickling_bodies_keep_the_poll_small_and_on_time(
    tmp_path: Path, http: HTTPServer
) -> None:
    bomb = gzip.compress(b"<rss>" + b" " * (400 * 1024 * 1024), compresslevel=9)  # 400 MB
    urls = [
        http.route("/bomb.rss", Reply(body=bomb, headers={"Content-Encoding": "gzip"})),
        http.route("/endless.rss", Reply(body=b"<rss>" + b"x" * (60 * 1024 * 1024))),
        http.route("/trickle.rss", Reply(body=b"<rss>" * 100, trickle=0.5)),
        http.feed("/fine.rss", "world.rss"),
    ]
    config = write_config(
        tmp_path,
        db_url=f"sqlite:///{tmp_path / 'nm.db'}",
        feeds=[{"url": u} for u in urls],
        rules=[{"name": "c", "keywords": ["ceasefire"]}],
        network={"allow": ["127.0.0.1"], "timeout": "3s"},
    )
    # A fresh parent whose only child is the poll: its children's peak RSS is the poll's.
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'monitor', 'poll', '--config', sys.argv[1]],"
        " capture_output=True, text=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(done.stdout)\n"
    )
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", probe, str(config)], capture_output=True, text=True, timeout=120
    )
    elapsed = time.monotonic() - started
    peak_kb, _, output = run.stdout.partition("\n")
    print(f"peak RSS of the poll: {int(peak_kb) // 1024} MB")  # (shown with -s)
    assert int(peak_kb) < MEMORY_BOUND_MB * 1024, f"{int(peak_kb) // 1024} MB"
    assert elapsed < 60  # the 3 s deadline holds for the trickle
    assert f"failed: {urls[0]}: the body is larger than the" in output
    assert f"failed: {urls[1]}: the body is larger than the" in output
    assert f"failed: {urls[2]}: the fetch took longer than 3 seconds" in output
    assert "1 with new entries" in output
