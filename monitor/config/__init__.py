"""Load and validate ``config.toml``: the one place that reads configuration.

The file is TOML; ``${NAME}`` in any string is replaced by the environment variable
``NAME`` so that secrets stay out of the file. Every problem is reported as one
sentence naming the file, the key path and what is wrong (:class:`ConfigError`).

Modules: :mod:`.values` (durations, URLs, times of day), :mod:`.channels` (the
``[channels.NAME]`` models), :mod:`.models` (the other tables and ``Config``) and
:mod:`.load` (reading and validating the file).
"""

from __future__ import annotations

from pydantic import BaseModel

from monitor.config.channels import (
    CHANNEL_TYPES,
    AppriseChannel,
    ChannelConfig,
    ChatWebhookChannel,
    EmailChannel,
    MatrixChannel,
    NtfyChannel,
    TelegramChannel,
    WebhookChannel,
)
from monitor.config.load import find_path, load, validate
from monitor.config.models import (
    Config,
    DatabaseConfig,
    DefaultsConfig,
    FeedConfig,
    HealthConfig,
    HttpConfig,
    NetworkConfig,
    PerformanceConfig,
    RetentionConfig,
    RuleConfig,
)
from monitor.config.values import (
    DEFAULT_PATH,
    ENV_VAR,
    Duration,
    HttpURL,
    PositiveDuration,
    is_loopback,
    parse_clock,
    parse_duration,
    split_listen,
)
from monitor.errors import ConfigError

__all__ = [
    "CHANNEL_TYPES",
    "DEFAULT_PATH",
    "ENV_VAR",
    "AppriseChannel",
    "BaseModel",
    "ChannelConfig",
    "ChatWebhookChannel",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "DefaultsConfig",
    "Duration",
    "EmailChannel",
    "FeedConfig",
    "HealthConfig",
    "HttpConfig",
    "HttpURL",
    "MatrixChannel",
    "NetworkConfig",
    "NtfyChannel",
    "PerformanceConfig",
    "PositiveDuration",
    "RetentionConfig",
    "RuleConfig",
    "TelegramChannel",
    "WebhookChannel",
    "find_path",
    "is_loopback",
    "load",
    "parse_clock",
    "parse_duration",
    "split_listen",
    "validate",
]
