"""Delivery: render an alert for a channel (pure) and send it (I/O).

A channel is anything with ``name`` and ``async send(alert)`` that raises
:class:`~monitor.errors.DeliveryError` on failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import httpx

from monitor.config import ChannelConfig, EmailChannel, WebhookChannel
from monitor.records import Alert


class Channel(Protocol):
    """Somewhere alerts are sent."""

    name: str

    async def send(self, alert: Alert) -> None:
        """Deliver one alert.

        Raises:
            DeliveryError: the alert was not accepted.
        """
        ...


def build_channels(
    configs: Mapping[str, ChannelConfig], client: httpx.AsyncClient
) -> dict[str, Channel]:
    """One sender per configured channel; webhooks share ``client``."""
    from monitor.deliver.email import EmailSender
    from monitor.deliver.webhook import WebhookSender

    channels: dict[str, Channel] = {}
    for name, cfg in configs.items():
        if isinstance(cfg, EmailChannel):
            channels[name] = EmailSender(name, cfg)
        elif isinstance(cfg, WebhookChannel):
            channels[name] = WebhookSender(name, cfg, client)
    return channels
