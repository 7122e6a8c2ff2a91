"""The config's tables as pydantic models, and ``Config``, the whole file."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    StrictBool,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.config.channels import (
    ChannelConfig,
)
from monitor.config.values import (
    _HEADER_NAME,
    _OWN_HEADERS,
    Duration,
    HttpURL,
    PositiveDuration,
    Silence,
    _as_list,
    _KeyProblem,
    _Model,
    _one_line,
    is_loopback,
    split_listen,
)
from monitor.match import query as match_query
from monitor.match import rules as match_rules


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


class RetentionConfig(_Model):
    """How long stored data is kept; the daily prune job applies it."""

    hits: PositiveDuration = timedelta(days=365)
    entries: PositiveDuration = timedelta(days=90)


class NetworkConfig(_Model):
    allow: tuple[str, ...] = ()
    concurrency: int = Field(default=32, ge=1, le=1024)
    per_host: int = Field(default=2, ge=1, le=64)
    starts_per_second: float = Field(default=200, gt=0, le=10000)
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


class PerformanceConfig(_Model):
    """How a process spreads its work over the machine."""

    # Processes that parse feed bodies; "auto" is one per core (none on one core),
    # started only while parsing keeps the daemon busy; a number starts that many at the
    # first body; 0 parses in a thread of the daemon's own process.
    parse_workers: Literal["auto"] | Annotated[int, Field(ge=0, le=64)] = "auto"


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


class FeedConfig(_Model):
    url: HttpURL
    name: str | None = None
    interval: PositiveDuration | None = None
    backlog_alerts: Duration | None = None
    max_interval: PositiveDuration | None = None
    hints: bool | None = None
    headers: dict[str, Annotated[str, AfterValidator(_one_line)]] = Field(default_factory=dict)
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


class Config(_Model):
    """The whole validated configuration."""

    database: DatabaseConfig = DatabaseConfig()
    network: NetworkConfig = NetworkConfig()
    defaults: DefaultsConfig = DefaultsConfig()
    feeds: tuple[FeedConfig, ...] = ()
    rules: tuple[RuleConfig, ...] = ()
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    http: HttpConfig = HttpConfig()
    retention: RetentionConfig = RetentionConfig()
    health: HealthConfig = HealthConfig()
    performance: PerformanceConfig = PerformanceConfig()

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
