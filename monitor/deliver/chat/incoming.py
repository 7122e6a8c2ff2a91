"""Incoming-webhook services (Slack, Discord, Microsoft Teams, Mattermost): one JSON POST
to the channel's URL. Only the payload, and how an error answer is read, differ by
service; none takes an idempotency key, so a retry after a lost answer can post twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from monitor.config import ChatWebhookChannel
from monitor.deliver.http import Hint, request
from monitor.records import Outbound


@dataclass(frozen=True, slots=True)
class Service:
    """What sets one incoming-webhook service apart."""

    label: str  # as error sentences name it
    payload: Callable[[Outbound, str | None], dict[str, Any]]
    explain: Callable[[httpx.Response], Hint]


class IncomingWebhookSender:
    """One channel of an incoming-webhook service."""

    def __init__(
        self, name: str, config: ChatWebhookChannel, client: httpx.AsyncClient, service: Service
    ) -> None:
        self.name = name
        self.config = config
        self.service = service
        self._client = client

    async def send(self, message: Outbound) -> None:
        """Post the message.

        Raises:
            DeliveryError: no connection, a timeout, or a non-2xx answer.
        """
        await request(
            self._client,
            self.name,
            self.service.label,
            "POST",
            self.config.url,
            json=self.service.payload(message, self.config.template),
            timeout=self.config.timeout.total_seconds(),
            explain=self.service.explain,
        )
