"""The generic webhook: the alert's JSON object POSTed, optionally signed (Standard Webhooks)."""

from __future__ import annotations

import json
import time

import httpx

from monitor.config import WebhookChannel
from monitor.deliver.http import request
from monitor.deliver.render import sign, webhook_payload
from monitor.records import Outbound


class WebhookSender:
    """One webhook channel; any 2xx answer counts as delivered."""

    def __init__(self, name: str, config: WebhookChannel, client: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self._client = client

    async def send(self, message: Outbound) -> None:
        """POST the message's JSON with its id as the idempotency key (and signature).

        Raises:
            DeliveryError: no connection, a timeout, or a non-2xx answer.
        """
        body = json.dumps(webhook_payload(message), ensure_ascii=False).encode()
        headers = {
            **self.config.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": message.delivery_id,
        }
        if self.config.secret is not None:
            timestamp = int(time.time())
            headers["webhook-id"] = message.delivery_id
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(
                self.config.secret.get_secret_value(), message.delivery_id, timestamp, body
            )
        await request(
            self._client,
            self.name,
            "the webhook",
            "POST",
            self.config.url,
            content=body,
            headers=headers,
            timeout=self.config.timeout.total_seconds(),
        )
