"""`newsmonitor demo` works offline, from any directory, with no config file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from monitor import config
from monitor.demo import alert_line, example_config_path

ROOT = Path(__file__).parent.parent


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSMONITOR_CONFIG"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_demo_prints_alerts_then_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", "--every", "0.3"],
        cwd=tmp_path,  # an empty folder: no config.toml anywhere near
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            alerts = [x for x in lines if x.startswith("alert: ")]
            if any("[dnipro" in x for x in alerts) and any("ceasefire]" in x for x in alerts):
                break
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    lines += rest.splitlines()
    assert proc.returncode == 0
    alerts = [x for x in lines if x.startswith("alert: ")]
    assert any(x.startswith("alert: [dnipro") and "Dnipropetrovsk" in x for x in alerts), lines
    assert any("ceasefire" in x.lower() for x in alerts), lines
    # The football story is excluded by the shipped dnipro rule.
    assert not any("football" in x for x in alerts)
    assert len(alerts) == len(set(alerts))  # never twice
    assert lines[-1] == "demo: stopped"
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_demo_uses_the_shipped_rules() -> None:
    assert example_config_path().resolve() == (ROOT / "config.toml").resolve()
    assert [r.name for r in config.load(example_config_path()).rules] == ["dnipro", "ceasefire"]


def test_alert_line_is_one_safe_line() -> None:
    payload = {
        "entry": {"title": "Bad\x1b[31m title\r\nInjected: yes"},
        "feed": {"name": "Feed"},
        "matches": [{"rule": "dnipro"}, {"rule": "ceasefire"}],
    }
    line = alert_line(payload)
    assert line == "alert: [dnipro, ceasefire] Bad [31m title Injected: yes (Feed)"
