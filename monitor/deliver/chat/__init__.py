"""Chat services, one small module each, built from a template in the service's markup.

Each module renders a message purely (``payload``/``content``, tested on its own) and
sends it with one HTTP request with the channel's own timeout. Only Matrix takes an
idempotency key (the event's transaction id); the others say so in their docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from monitor.config import (
    AppriseChannel,
    ChannelConfig,
    ChatWebhookChannel,
    MatrixChannel,
    NtfyChannel,
    TelegramChannel,
)
from monitor.deliver.chat import discord, mattermost, slack, teams
from monitor.deliver.chat.incoming import IncomingWebhookSender, Service
from monitor.deliver.chat.matrix import MatrixSender
from monitor.deliver.chat.ntfy import NtfySender
from monitor.deliver.chat.telegram import TelegramSender
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.deliver import Channel

_INCOMING: dict[str, Service] = {
    "slack": slack.SERVICE,
    "discord": discord.SERVICE,
    "teams": teams.SERVICE,
    "mattermost": mattermost.SERVICE,
}


def build_chat_channel(name: str, cfg: ChannelConfig, client: httpx.AsyncClient) -> Channel:
    """The sender for a chat channel (slack, discord, teams, mattermost, telegram, matrix,
    ntfy, apprise).

    Raises:
        ConfigError: the channel type has no chat sender, or Apprise does not know the URL.
    """
    if isinstance(cfg, ChatWebhookChannel):
        return IncomingWebhookSender(name, cfg, client, _INCOMING[cfg.type])
    if isinstance(cfg, TelegramChannel):
        return TelegramSender(name, cfg, client)
    if isinstance(cfg, MatrixChannel):
        return MatrixSender(name, cfg, client)
    if isinstance(cfg, NtfyChannel):
        return NtfySender(name, cfg, client)
    if isinstance(cfg, AppriseChannel):
        # Imported here: Apprise is large, and only Apprise channels need it.
        from monitor.deliver.chat.apprise import AppriseSender

        return AppriseSender(name, cfg)
    raise ConfigError(f"channels.{name}: type {cfg.type!r} is not a chat service")
