"""Telegram: the Bot API's ``sendMessage`` in HTML parse mode.

The bot token is part of the request path, so it is kept out of every error sentence.
``sendMessage`` takes no idempotency key; a retry after a lost answer can post twice.
Flood control answers 429 with ``parameters.retry_after`` (seconds) in the body.
"""

from __future__ import annotations

from typing import Any

import httpx

from monitor.config import TelegramChannel
from monitor.deliver.chat import prepare
from monitor.deliver.chat.answers import detail, json_object, seconds
from monitor.deliver.chat.fit import cut_html, utf16_units
from monitor.deliver.http import Hint, request
from monitor.errors import DeliveryError
from monitor.records import Outbound

# A message's text holds 1-4096 characters after entity parsing; counting the HTML
# source in UTF-16 units (as Telegram counts) can only overestimate that.
TEXT_UNITS = 4096


def payload(chat_id: str | int, message: Outbound, template: str | None = None) -> dict[str, Any]:
    """The ``sendMessage`` body. Feed text is HTML-escaped, and its @names defused: in a
    group, an @username in a bot's message notifies that member."""
    text = prepare.render("html", "telegram.j2", message, template, defuse_mentions=True)
    return {
        "chat_id": chat_id,
        "text": cut_html(text, TEXT_UNITS, utf16_units),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }


def explain(response: httpx.Response) -> Hint:
    """Telegram's ``description``, and flood control's ``parameters.retry_after``."""
    parameters = json_object(response).get("parameters")
    wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return Hint(detail(response), seconds(wait))


class TelegramSender:
    """One Telegram chat, through one bot."""

    def __init__(self, name: str, config: TelegramChannel, client: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self._client = client

    async def send(self, message: Outbound) -> None:
        """Send the message to the chat.

        Raises:
            DeliveryError: no connection, a timeout, or the Bot API refused (never naming
                the token).
        """
        cfg = self.config
        token = cfg.token.get_secret_value()
        try:
            await request(
                self._client,
                self.name,
                "the Telegram Bot API",
                "POST",
                f"{cfg.api_url.rstrip('/')}/bot{token}/sendMessage",
                json=payload(cfg.chat_id, message, cfg.template),
                timeout=cfg.timeout.total_seconds(),
                explain=explain,
            )
        except DeliveryError as exc:
            if not token or token not in exc.reason:
                raise
            # A transport error may quote the URL; the token is a credential.
            raise DeliveryError(
                self.name,
                exc.reason.replace(token, "<token>"),
                permanent=exc.permanent,
                retry_after=exc.retry_after,
            ) from None
