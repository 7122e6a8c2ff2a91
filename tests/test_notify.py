"""The notify protocol against real Unix datagram sockets (a path and an abstract name)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from monitor.notify import Notifier


def receiver(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(2)
    return sock


def test_messages_reach_a_socket_file(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with receiver(path) as sock:
        n = Notifier({"NOTIFY_SOCKET": path})
        assert n.enabled
        n.ready("running: 3 feeds")
        assert sock.recv(4096) == b"READY=1\nSTATUS=running: 3 feeds"
        n.watchdog()
        assert sock.recv(4096) == b"WATCHDOG=1"
        n.reloading()
        lines = sock.recv(4096).decode().splitlines()
        assert lines[0] == "RELOADING=1"
        assert lines[1].startswith("MONOTONIC_USEC=") and lines[1].split("=")[1].isdigit()
        n.stopping()
        assert sock.recv(4096) == b"STOPPING=1\nSTATUS=stopping"


def test_abstract_socket() -> None:
    name = f"newsmonitor-test-{os.getpid()}"
    with receiver("\0" + name) as sock:
        Notifier({"NOTIFY_SOCKET": "@" + name}).status("hello")
        assert sock.recv(4096) == b"STATUS=hello"


def test_outside_systemd_nothing_happens() -> None:
    n = Notifier({})
    assert not n.enabled
    assert n.watchdog_interval is None
    n.ready("x")  # no socket, no error


@pytest.mark.parametrize(
    ("env", "interval"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval_is_half_the_timeout(env: dict[str, str], interval: float | None) -> None:
    assert Notifier(env).watchdog_interval == interval


def test_a_dead_socket_is_logged_once_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    n.watchdog()
    n.watchdog()
    assert len([r for r in caplog.records if "cannot notify" in r.getMessage()]) == 1
