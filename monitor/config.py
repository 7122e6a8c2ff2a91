"""Load and validate ``config.toml``: the one place that reads configuration.

The file is TOML; ``${NAME}`` in any string is replaced by the environment variable
``NAME`` so that secrets stay out of the file. Every problem is reported as one
sentence naming the file, the key path and what is wrong (:class:`ConfigError`).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.errors import ConfigError
from monitor.match import query as match_query
from monitor.match import rules as match_rules

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


class DatabaseConfig(_Model):
    url: str = "sqlite:///newsmonitor.db"

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError(f"{value!r} is not a database URL") from None
        return value


class HttpConfig(_Model):
    """The optional HTTP listener for /healthz and /metrics (off without ``listen``)."""

    listen: str | None = None
    token: SecretStr | None = None

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @model_validator(mode="after")
    def _token_off_loopback(self) -> HttpConfig:
        if self.listen and self.token is None and not is_loopback(split_listen(self.listen)[0]):
            raise _KeyProblem(
                ("http", "token"), "a token is required to listen on an address other than loopback"
            )
        return self


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


class RetentionConfig(_Model):
    """How long stored data is kept; the daily prune job applies it."""

    hits: PositiveDuration = timedelta(days=365)
    entries: PositiveDuration = timedelta(days=90)


class NetworkConfig(_Model):
    allow: tuple[str, ...] = ()
    concurrency: int = Field(default=32, ge=1, le=1024)
    per_host: int = Field(default=2, ge=1, le=64)
    starts_per_second: float = Field(default=50, gt=0, le=10000)
    timeout: PositiveDuration = timedelta(seconds=30)
    max_body: int = Field(default=10 * 1024 * 1024, ge=1024)
    user_agent: str | None = None

    @field_validator("allow")
    @classmethod
    def _valid_hosts(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", value):
                    raise ValueError(f"{value!r} is neither a host name nor a network") from None
        return values


def _silence(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _positive(parse_duration(value))


# "auto" (a threshold from the feed's own rate) or a fixed duration.
Silence = Annotated[Literal["auto"] | timedelta, BeforeValidator(_silence)]


class HealthConfig(_Model):
    """Feed health alerts: where they go and when a feed counts as unhealthy."""

    channels: Annotated[tuple[str, ...], BeforeValidator(_as_list)] = ()
    failures: int = Field(default=3, ge=1, le=1000)
    silence: Silence = "auto"
    remind: PositiveDuration = timedelta(hours=24)


class DefaultsConfig(_Model):
    interval: PositiveDuration = timedelta(minutes=15)
    backlog_alerts: Duration = timedelta(hours=24)
    max_interval: PositiveDuration = timedelta(days=1)
    hints: bool = True


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
# Set by newsmonitor itself for every request: a feed may not replace them.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def _one_line(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be one line")
    return value


class FeedConfig(_Model):
    url: HttpURL
    name: str | None = None
    interval: PositiveDuration | None = None
    backlog_alerts: Duration | None = None
    max_interval: PositiveDuration | None = None
    hints: bool | None = None
    headers: dict[str, Annotated[str, AfterValidator(_one_line)]] = {}
    username: Annotated[str, AfterValidator(_one_line)] | None = None
    password: SecretStr | None = None
    user_agent: Annotated[str, AfterValidator(_one_line)] | None = None
    proxy: HttpURL | None = None
    verify_tls: bool = True
    timeout: PositiveDuration | None = None
    silence: Silence | None = None

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
            if name.lower() in _OWN_HEADERS:
                raise ValueError(f"the {name} header is set by newsmonitor itself")
        return value

    @model_validator(mode="after")
    def _password_needs_username(self) -> FeedConfig:
        if self.password is not None and self.username is None:
            raise ValueError("a password needs a username")
        return self


class RuleConfig(_Model):
    name: str = Field(min_length=1)
    urgent: bool = False
    query: str | None = None
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    exact: StrictBool = False
    channels: tuple[str, ...] = ()

    @field_validator("query")
    @classmethod
    def _query_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                match_query.parse(value)
            except match_query.QueryError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("keywords", "exclude")
    @classmethod
    def _valid_terms(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not re.search(r"\w", value):
                raise ValueError(f"the term {value!r} has no letters or digits")
            try:
                match_rules.keyword_term(value)
            except match_query.QueryError as exc:
                raise ValueError(exc.describe(f"the term {value!r}")) from None
        return values

    @model_validator(mode="after")
    def _query_or_keywords(self) -> RuleConfig:
        if self.query is not None and self.keywords:
            raise ValueError("give either query or keywords, not both")
        if self.query is None and not self.keywords:
            raise ValueError("a rule needs a query or at least one keyword")
        return self


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


class _ChannelBase(_Model):
    """What every channel accepts besides its own keys."""

    timeout: SendTimeout = timedelta(seconds=30)
    template: str | None = None
    mode: Literal["immediate", "digest"] = "immediate"
    digest_every: PositiveDuration | None = None
    digest_at: str | None = None
    timezone: Annotated[str, AfterValidator(_time_zone)] = "UTC"
    quiet_hours: Annotated[str, AfterValidator(_quiet_hours)] | None = None
    rate_limit: Annotated[str, AfterValidator(_rate_limit)] | None = None
    give_up_after: PositiveDuration = timedelta(days=1)

    @field_validator("digest_at")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None:
            parse_clock(value)
        return value

    @model_validator(mode="after")
    def _digest_schedule(self) -> _ChannelBase:
        if self.mode == "digest" and (self.digest_every is None) == (self.digest_at is None):
            raise ValueError("mode digest needs either digest_every or digest_at")
        if self.mode == "immediate" and (self.digest_every or self.digest_at):
            raise ValueError('digest_every and digest_at need mode = "digest"')
        return self

    def rate(self) -> tuple[int, timedelta] | None:
        """``rate_limit`` as (messages, period)."""
        if self.rate_limit is None:
            return None
        m = _RATE.fullmatch(self.rate_limit)
        assert m is not None
        return int(m.group(1)), parse_duration(m.group(2))


class EmailChannel(_ChannelBase):
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from", min_length=3)
    to: Annotated[tuple[str, ...], BeforeValidator(_as_list)] = Field(min_length=1)
    ca_file: str | None = None

    @property
    def effective_port(self) -> int:
        """The configured port, else the usual one for the security mode."""
        if self.port is not None:
            return self.port
        return {"starttls": 587, "tls": 465, "none": 25}[self.security]

    @field_validator("from_", "to")
    @classmethod
    def _addresses(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for address in (value,) if isinstance(value, str) else value:
            if "@" not in address or any(c in address for c in "\r\n"):
                raise ValueError(f"{address!r} is not an email address")
        return value


class WebhookChannel(_ChannelBase):
    type: Literal["webhook"]
    url: HttpURL
    headers: dict[str, str] = {}
    secret: SecretStr | None = None

    @field_validator("template")
    @classmethod
    def _no_template(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("a webhook sends the alert's JSON object; it takes no template")
        return value

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            try:
                ok = raw.startswith("whsec_") and bool(base64.b64decode(raw[6:], validate=True))
            except ValueError:
                ok = False
            if not ok:
                raise ValueError("the secret must be whsec_ followed by base64 (Standard Webhooks)")
        return value


class ChatWebhookChannel(_ChannelBase):
    """Slack, Discord, Microsoft Teams and Mattermost: an incoming-webhook URL."""

    type: Literal["slack", "discord", "teams", "mattermost"]
    url: HttpURL


class TelegramChannel(_ChannelBase):
    type: Literal["telegram"]
    token: SecretStr
    chat_id: str | int
    api_url: HttpURL = "https://api.telegram.org"


class MatrixChannel(_ChannelBase):
    type: Literal["matrix"]
    homeserver: HttpURL
    access_token: SecretStr
    room_id: str = Field(pattern=r"^!.+:.+$")


class NtfyChannel(_ChannelBase):
    type: Literal["ntfy"]
    url: HttpURL
    token: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not urlsplit(value).path.strip("/"):
            raise ValueError(f"{value!r} names no topic (https://ntfy.sh/your-topic)")
        return value


class AppriseChannel(_ChannelBase):
    type: Literal["apprise"]
    url: SecretStr  # Apprise URLs carry their service's credentials


CHANNEL_TYPES = (
    "email",
    "webhook",
    "slack",
    "discord",
    "teams",
    "mattermost",
    "telegram",
    "matrix",
    "ntfy",
    "apprise",
)
ChannelConfig = Annotated[
    EmailChannel
    | WebhookChannel
    | ChatWebhookChannel
    | TelegramChannel
    | MatrixChannel
    | NtfyChannel
    | AppriseChannel,
    Field(discriminator="type"),
]


class Config(_Model):
    """The whole validated configuration."""

    database: DatabaseConfig = DatabaseConfig()
    network: NetworkConfig = NetworkConfig()
    defaults: DefaultsConfig = DefaultsConfig()
    feeds: tuple[FeedConfig, ...] = ()
    rules: tuple[RuleConfig, ...] = ()
    channels: dict[str, ChannelConfig] = {}
    http: HttpConfig = HttpConfig()
    retention: RetentionConfig = RetentionConfig()
    health: HealthConfig = HealthConfig()

    @model_validator(mode="after")
    def _cross_references(self) -> Config:
        seen_urls: set[str] = set()
        for i, feed in enumerate(self.feeds):
            if feed.url in seen_urls:
                raise _KeyProblem(("feeds", i, "url"), f"feed {feed.url!r} is listed twice")
            seen_urls.add(feed.url)
        seen_rules: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.name in seen_rules:
                raise _KeyProblem(("rules", i, "name"), f"rule name {rule.name!r} is used twice")
            seen_rules.add(rule.name)
            for name in rule.channels:
                if name not in self.channels:
                    raise _KeyProblem(
                        ("rules", i, "channels"), f"channel {name!r} is not defined in [channels]"
                    )
        for name in self.health.channels:
            if name not in self.channels:
                raise _KeyProblem(
                    ("health", "channels"), f"channel {name!r} is not defined in [channels]"
                )
        return self

    def feed_silence(self, feed: FeedConfig) -> timedelta | Literal["auto"]:
        """How long the feed may go without a new entry: its own setting, else ``[health]``."""
        return feed.silence if feed.silence is not None else self.health.silence

    def feed_max_interval(self, feed: FeedConfig) -> timedelta:
        """How far publisher hints may lengthen the feed's interval."""
        return feed.max_interval or self.defaults.max_interval

    def feed_hints(self, feed: FeedConfig) -> bool:
        """Whether the feed's caching and syndication hints are honoured."""
        return feed.hints if feed.hints is not None else self.defaults.hints

    def feed_interval(self, feed: FeedConfig) -> timedelta:
        """The feed's own poll interval, else the default."""
        return feed.interval or self.defaults.interval

    def feed_backlog(self, feed: FeedConfig) -> timedelta:
        """How old an entry on a feed's first poll may be and still be alerted."""
        return (
            feed.backlog_alerts if feed.backlog_alerts is not None else self.defaults.backlog_alerts
        )


class _KeyProblem(ValueError):
    """A cross-reference problem that knows which key it belongs to."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def find_path(option: str | os.PathLike[str] | None) -> Path:
    """Where the config is: ``--config``, else ``$NEWSMONITOR_CONFIG``, else ./config.toml."""
    if option:
        return Path(option)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return DEFAULT_PATH


def load(path: str | os.PathLike[str]) -> Config:
    """Read, expand and validate the config file at ``path``.

    Raises:
        ConfigError: the file is missing, not TOML, refers to an unset variable, or invalid.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{file}: the config file does not exist.") from None
    except OSError as exc:
        raise ConfigError(f"{file}: the config file cannot be read ({exc.strerror}).") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: the config file is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}.") from None
    return validate(data, source=file)


def validate(data: Mapping[str, Any], *, source: Path) -> Config:
    """Validate already-parsed TOML data; relative SQLite paths resolve against ``source``'s folder.

    Raises:
        ConfigError: the data is invalid; one sentence per problem.
    """
    expanded = _expand_env(dict(data), (), source)
    try:
        config = Config.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError("\n".join(_sentences(exc, source))) from None
    folder = source.resolve().parent
    return _resolve_templates(_resolve_database(config, folder), folder, source)


def _expand_env(value: Any, loc: tuple[str | int, ...], source: Path) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            credential, name = m.group(1), m.group(2)
            where = f"{source}: {_key_path(loc)}"
            if name is None:
                return "${"
            if credential:
                return _credential(name, where)
            if name not in os.environ or "." in name or "-" in name:
                raise ConfigError(f"{where}: environment variable {name} is not set.")
            return os.environ[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, (*loc, k), source) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, (*loc, i), source) for i, v in enumerate(value)]
    return value


def _credential(name: str, where: str) -> str:
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        raise ConfigError(
            f"{where}: credential {name} is asked for, but CREDENTIALS_DIRECTORY is not set"
            " (use LoadCredential= in the systemd unit)."
        )
    try:
        return (Path(folder) / name).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read credential {name} ({exc.strerror}).") from None


def _key_path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _sentences(exc: ValidationError, source: Path) -> list[str]:
    lines = []
    for err in exc.errors():
        # Drop pydantic's internal union tags ("email", "function-before[...]").
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in CHANNEL_TYPES))
        )
        original = err.get("ctx", {}).get("error")
        if isinstance(original, _KeyProblem):
            loc, what = original.loc, original.message
        elif err["type"] == "extra_forbidden":
            what = "unknown key"
        elif err["type"] == "missing":
            what = "this key is required"
        elif err["type"] == "union_tag_invalid":
            what = f"type must be one of {', '.join(repr(t) for t in CHANNEL_TYPES)}"
        elif err["type"] == "union_tag_not_found":
            what = f"type is required (one of {', '.join(repr(t) for t in CHANNEL_TYPES)})"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            what = msg[:1].lower() + msg[1:]
        lines.append(f"{source}: {_key_path(loc)}: {what}.")
    return lines


def _resolve_templates(config: Config, folder: Path, source: Path) -> Config:
    """Channel template and CA file paths made absolute (relative ones are relative to
    the config's folder) and checked: a template must be readable Jinja2."""
    channels: dict[str, ChannelConfig] = {}
    for name, channel in config.channels.items():
        if isinstance(channel, EmailChannel) and channel.ca_file:
            ca_file = folder / channel.ca_file
            if not ca_file.is_file():
                raise ConfigError(f"{source}: channels.{name}.ca_file: {ca_file} is not a file.")
            channel = channel.model_copy(update={"ca_file": str(ca_file)})
        if channel.template is None:
            channels[name] = channel
            continue
        path = folder / channel.template
        where = f"{source}: channels.{name}.template"
        try:
            jinja2.Environment(autoescape=False).parse(path.read_text(encoding="utf-8"))  # noqa: S701
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {path} ({exc.strerror}).") from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{where}: {path} line {exc.lineno}: {exc.message}.") from None
        channels[name] = channel.model_copy(update={"template": str(path)})
    return config.model_copy(update={"channels": channels})


def _resolve_database(config: Config, folder: Path) -> Config:
    url = make_url(config.database.url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return config
    if url.database.startswith("file:"):
        return config
    path = Path(url.database)
    if path.is_absolute():
        return config
    resolved = url.set(database=str(folder / path))
    new_db = DatabaseConfig(url=resolved.render_as_string(hide_password=False))
    return config.model_copy(update={"database": new_db})
