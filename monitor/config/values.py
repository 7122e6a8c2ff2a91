"""Value types of the config: durations, URLs, times of day, listen addresses, and
the errors that know their key."""

from __future__ import annotations

import ipaddress
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
)

ENV_VAR = "NEWSMONITOR_CONFIG"
DEFAULT_PATH = Path("config.toml")

_DURATION_PART = re.compile(r"(\d+)\s*([smhd])")
_DURATION_FULL = re.compile(r"(?:\d+\s*[smhd]\s*)+")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# ${NAME} is replaced by the variable; $${ stands for a literal ${.
# ${credential:NAME} is the file NAME in $CREDENTIALS_DIRECTORY (systemd LoadCredential=).
_ENV_REF = re.compile(r"\$\$\{|\$\{(credential:)?([A-Za-z_][A-Za-z0-9_.-]*)\}")


def parse_duration(value: object) -> timedelta:
    """Read ``30s``, ``15m``, ``2h``, ``1d`` (or ``1h30m``, or a number of seconds).

    Raises:
        ValueError: the value is not a duration (pydantic turns it into a ConfigError).
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 15m, 2h or 1d")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().lower()
        if _DURATION_FULL.fullmatch(text):
            seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))
            return timedelta(seconds=seconds)
    raise ValueError(f"{value!r} is not a duration like 30s, 15m, 2h or 1d")


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


def _not_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("must not be negative")
    return value


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_not_negative)]
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]


def _send_timeout(value: timedelta) -> timedelta:
    # A send must end well inside the delivery lease (monitor.deliver.worker.LEASE).
    if value > timedelta(minutes=2):
        raise ValueError("must be at most 2 minutes")
    return value


SendTimeout = Annotated[PositiveDuration, AfterValidator(_send_timeout)]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http:// or https:// URL with a host")
    return value


HttpURL = Annotated[str, BeforeValidator(lambda v: _http_url(v) if isinstance(v, str) else v)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def split_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8484"`` or ``"[::1]:8484"`` as (host, port).

    Raises:
        ValueError: not ``host:port`` with a port from 1 to 65535.
    """
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port, like 127.0.0.1:8484")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _silence(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _positive(parse_duration(value))


# "auto" (a threshold from the feed's own rate) or a fixed duration.
Silence = Annotated[Literal["auto"] | timedelta, BeforeValidator(_silence)]


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
# Set by newsmonitor itself for every request: a feed may not replace them.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def _one_line(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be one line")
    return value


_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\S+)\s*")


def parse_clock(value: str) -> time:
    """``"07:30"`` as a time of day.

    Raises:
        ValueError: not HH:MM.
    """
    m = _CLOCK.fullmatch(value.strip())
    if not m:
        raise ValueError(f"{value!r} is not a time of day like 07:30")
    return time(int(m.group(1)), int(m.group(2)))


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone name like Europe/Kyiv") from None
    return value


def _quiet_hours(value: str) -> str:
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f"{value!r} is not a range of hours like 22:00-07:00")
    if parse_clock(start) == parse_clock(end):
        raise ValueError("quiet hours must not start and end at the same time")
    return value


def _rate_limit(value: str) -> str:
    m = _RATE.fullmatch(value)
    if not m or int(m.group(1)) < 1:
        raise ValueError(f"{value!r} is not a rate like 10/1h (messages per period)")
    _positive(parse_duration(m.group(2)))
    return value


class _KeyProblem(ValueError):
    """A cross-reference problem that knows which key it belongs to."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
