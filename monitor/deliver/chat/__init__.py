"""Chat services, one small module each, built from a template in the service's markup."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from monitor.config import ChannelConfig
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.deliver import Channel


def build_chat_channel(name: str, cfg: ChannelConfig, client: httpx.AsyncClient) -> Channel:
    """The sender for a chat channel (slack, discord, teams, mattermost, telegram, matrix,
    ntfy, apprise)."""
    raise ConfigError(f"channels.{name}: type {cfg.type!r} is not available yet")
