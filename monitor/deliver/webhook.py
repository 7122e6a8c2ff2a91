"""Sending alerts as a JSON POST to a webhook URL."""

from __future__ import annotations

import httpx

from monitor.config import WebhookChannel
from monitor.deliver.render import webhook_payload
from monitor.errors import DeliveryError
from monitor.records import Alert
from monitor.text import one_line


class WebhookSender:
    """One webhook channel; any 2xx answer counts as delivered."""

    def __init__(self, name: str, config: WebhookChannel, client: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self._client = client

    async def send(self, alert: Alert) -> None:
        """POST the alert's JSON object, with its id as the idempotency key.

        Raises:
            DeliveryError: no connection, a timeout, or a non-2xx answer.
        """
        headers = {**self.config.headers, "Idempotency-Key": alert.alert_id}
        try:
            response = await self._client.post(
                self.config.url,
                json=webhook_payload(alert),
                headers=headers,
                timeout=self.config.timeout.total_seconds(),
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            reason = one_line(str(exc) or type(exc).__name__, 200)
            raise DeliveryError(self.name, f"could not reach the webhook ({reason})") from None
        if not response.is_success:
            code = response.status_code
            raise DeliveryError(
                self.name,
                f"the webhook answered HTTP {code} {one_line(response.reason_phrase, 60)}".rstrip(),
                permanent=400 <= code < 500 and code not in (408, 429),
            )
