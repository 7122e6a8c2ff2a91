"""Logging set-up: human lines on a terminal, journald-friendly lines under systemd,
JSON lines for log shippers.

Under systemd (``JOURNAL_STREAM`` names our standard error) lines carry no timestamp of
their own, since the journal adds one, and start with a ``<N>`` syslog priority prefix
that journald reads (sd-daemon(3)), so ``journalctl -p warning`` works.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["auto", "human", "journal", "json"]
FORMATS: tuple[LogFormat, ...] = ("auto", "human", "journal", "json")

# Python levels to syslog priorities (sd-daemon(3), <syslog.h>).
_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}
_QUIET = ("apscheduler", "httpx", "httpcore", "alembic", "uvicorn", "uvicorn.error")


class _StderrHandler(logging.StreamHandler[Any]):
    """Writes to whatever ``sys.stderr`` is at the time of each record."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class JournalFormatter(logging.Formatter):
    """``<priority>message``: no timestamp, journald adds its own."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        return f"<{priority}>{super().format(record)}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def under_journal() -> bool:
    """Whether standard error is connected to the journal (systemd.exec(5), JOURNAL_STREAM)."""
    value = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return bool(device and inode) and f"{st.st_dev}:{st.st_ino}" == f"{device}:{inode}"


def setup(level: int, fmt: LogFormat = "auto") -> None:
    """Configure the root logger once per process (later calls change level and format)."""
    if fmt == "auto":
        fmt = "journal" if under_journal() else "human"
    formatter: logging.Formatter
    if fmt == "journal":
        formatter = JournalFormatter("%(message)s")
    elif fmt == "json":
        formatter = JsonFormatter()
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(formatter)
    root.setLevel(level)
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # Apprise logs the URLs it cannot parse, credentials included; our own error says
    # which channel failed without them.
    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)
