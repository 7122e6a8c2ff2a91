"""Delivery: render a message for a channel (pure) and send it (I/O).

A channel is anything with ``name`` and ``async send(message)`` that raises
:class:`~monitor.errors.DeliveryError` on failure. One module per service; each
renders from a Jinja2 template with escaping fitted to the service's markup
(:mod:`monitor.deliver.markup`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import httpx

from monitor.config import ChannelConfig, EmailChannel, WebhookChannel
from monitor.records import Outbound


class Channel(Protocol):
    """Somewhere alerts are sent."""

    name: str

    async def send(self, message: Outbound) -> None:
        """Deliver one message (one alert or a digest).

        Raises:
            DeliveryError: the message was not accepted.
        """
        ...


def build_channel(name: str, cfg: ChannelConfig, client: httpx.AsyncClient) -> Channel:
    """The sender for one configured channel; HTTP ones share ``client``."""
    from monitor.deliver.chat import build_chat_channel
    from monitor.deliver.email import EmailSender
    from monitor.deliver.webhook import WebhookSender

    if isinstance(cfg, EmailChannel):
        return EmailSender(name, cfg)
    if isinstance(cfg, WebhookChannel):
        return WebhookSender(name, cfg, client)
    return build_chat_channel(name, cfg, client)


def build_channels(
    configs: Mapping[str, ChannelConfig], client: httpx.AsyncClient
) -> dict[str, Channel]:
    """One sender per configured channel."""
    return {name: build_channel(name, cfg, client) for name, cfg in configs.items()}
