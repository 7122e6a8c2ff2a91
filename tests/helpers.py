"""Building config files for tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def write_config(
    folder: Path,
    *,
    db_url: str,
    feeds: list[dict[str, Any]],
    rules: list[dict[str, Any]],
    channels: dict[str, dict[str, Any]] | None = None,
    defaults: dict[str, Any] | None = None,
    network: dict[str, Any] | None = None,
) -> Path:
    """Write a config.toml into ``folder`` and return its path."""
    lines = ["[database]", f"url = {toml_value(db_url)}", "[network]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in (network or {"allow": ["127.0.0.1"]}).items()]
    lines.append("[defaults]")
    defaults = {"interval": "15m", "backlog_alerts": "3650d", **(defaults or {})}
    lines += [f"{k} = {toml_value(v)}" for k, v in defaults.items()]
    for feed in feeds:
        lines.append("[[feeds]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in feed.items()]
    for rule in rules:
        lines.append("[[rules]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in rule.items()]
    for name, channel in (channels or {}).items():
        lines.append(f"[channels.{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in channel.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_daemon(
    config: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    """``newsmonitor run`` as a real child process, returned once it is ready (READY=1 on a
    notify socket of our own, unless ``env`` brings one); output on a pipe."""
    env = dict(env or {})
    own = None
    if "NOTIFY_SOCKET" not in env:
        own = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        own.bind(str(Path(tempfile.mkdtemp()) / "notify"))
        env["NOTIFY_SOCKET"] = own.getsockname()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", *args, "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
    )
    STARTED.append(proc)
    if own is not None:
        _NOTIFY[proc.pid] = own
        own.settimeout(30)
        try:
            while b"READY=1" not in own.recv(4096).split(b"\n"):
                pass
        except TimeoutError:
            proc.kill()
            raise AssertionError(f"the daemon did not get ready: {proc.communicate()[0]}") from None
    return proc


_NOTIFY: dict[int, socket.socket] = {}
# Every daemon a test started: one a failing test left running is killed at teardown.
STARTED: list[subprocess.Popen[str]] = []


def kill_leftovers() -> None:
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        notify = _NOTIFY.pop(proc.pid, None)
        if notify is not None:
            notify.close()


def stop_daemon(proc: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> str:
    """Signal the daemon, wait for it to exit 0, and return all it printed."""
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    notify = _NOTIFY.pop(proc.pid, None)
    if notify is not None:
        notify.close()
    assert proc.returncode == 0, out
    return out
