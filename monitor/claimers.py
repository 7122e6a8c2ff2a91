"""Who holds a claim on a row (an alert being sent, a feed being polled), and whether
that process still runs: claims name ``host:pid``, so that a start on the same host
can free at once the claims of a process that died instead of waiting for them to run
out."""

from __future__ import annotations

import os
import socket


def claimer() -> str:
    """Who holds a claim: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (signal 0 probes, kills nothing)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
