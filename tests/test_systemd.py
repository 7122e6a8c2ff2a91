"""The shipped units: valid for systemd, and locked down (systemd-analyze security)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
UNITS = ROOT / "systemd"
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
EXE = str(Path(sys.executable).parent / "newsmonitor")


def installed_copy(tmp_path: Path, name: str) -> Path:
    """The unit with ExecStart pointing at this checkout's newsmonitor (verify checks it)."""
    text = (UNITS / name).read_text().replace("/opt/newsmonitor/.venv/bin/newsmonitor", EXE)
    copy = tmp_path / name
    copy.write_text(text)
    return copy


@pytest.mark.parametrize("name", ["newsmonitor.service", "newsmonitor-poll.service"])
def test_units_verify_and_score_at_most_1_5(tmp_path: Path, name: str) -> None:
    unit = installed_copy(tmp_path, name)
    verify = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    security = subprocess.run(
        [ANALYZE, "security", "--offline=yes", str(unit)], capture_output=True, text=True
    )
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", security.stdout)
    assert score, security.stdout[-500:]
    assert float(score.group(1)) <= 1.5


def test_timer_verifies(tmp_path: Path) -> None:
    installed_copy(tmp_path, "newsmonitor-poll.service")
    timer = tmp_path / "newsmonitor-poll.timer"
    timer.write_text((UNITS / "newsmonitor-poll.timer").read_text())
    verify = subprocess.run([ANALYZE, "verify", str(timer)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr


def test_service_is_notify_with_watchdog_and_reload() -> None:
    text = (UNITS / "newsmonitor.service").read_text()
    for line in ("Type=notify", "Restart=on-failure", "StateDirectory=newsmonitor", "ExecReload="):
        assert line in text
    assert re.search(r"^WatchdogSec=\d+", text, re.MULTILINE)
