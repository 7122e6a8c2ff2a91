"""Chat services, one small module each, built from a template in the service's markup.

Each module renders a message purely (``payload``/``content``, tested on its own) and
sends it with one HTTP request with the channel's own timeout. Only Matrix takes an
idempotency key (the event's transaction id); the others say so in their docstring.
"""

from __future__ import annotations

from collections.abc import Callable
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
from monitor.deliver.chat.discord import DiscordSender
from monitor.deliver.chat.matrix import MatrixSender
from monitor.deliver.chat.mattermost import MattermostSender
from monitor.deliver.chat.ntfy import NtfySender
from monitor.deliver.chat.slack import SlackSender
from monitor.deliver.chat.teams import TeamsSender
from monitor.deliver.chat.telegram import TelegramSender
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.deliver import Channel

_WEBHOOKS: dict[str, Callable[[str, ChatWebhookChannel, httpx.AsyncClient], Channel]] = {
    "slack": SlackSender,
    "discord": DiscordSender,
    "teams": TeamsSender,
    "mattermost": MattermostSender,
}


def build_chat_channel(name: str, cfg: ChannelConfig, client: httpx.AsyncClient) -> Channel:
    """The sender for a chat channel (slack, discord, teams, mattermost, telegram, matrix,
    ntfy, apprise).

    Raises:
        ConfigError: the channel type has no chat sender, or Apprise does not know the URL.
    """
    if isinstance(cfg, ChatWebhookChannel):
        return _WEBHOOKS[cfg.type](name, cfg, client)
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
