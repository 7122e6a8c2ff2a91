"""ntfy: a JSON publish (``POST`` to the server root with the topic in the body).

JSON rather than the ``Title``/``Tags`` headers because header values are Latin-1 on the
wire: a non-ASCII title would need RFC 2047 encoding there, and feed text never goes
into a header this way. ntfy takes no idempotency key; a retry after a lost answer can
notify twice.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from monitor.config import NtfyChannel
from monitor.deliver import markup
from monitor.deliver.chat import prepare
from monitor.deliver.chat.answers import explain
from monitor.deliver.chat.fit import cut_lines, cut_text, split_title, utf8_bytes
from monitor.deliver.http import request
from monitor.records import Outbound

# ntfy turns messages over 4096 bytes into attachments; titles are kept short.
MESSAGE_BYTES = 4096
TITLE_CHARS = 250
TAG = "newspaper"  # shown as 📰


def server_and_topic(url: str) -> tuple[str, str]:
    """``https://host/prefix/topic`` as (``https://host/prefix/``, ``topic``)."""
    parts = urlsplit(url)
    prefix, _, topic = parts.path.rstrip("/").rpartition("/")
    return urlunsplit((parts.scheme, parts.netloc, prefix + "/", "", "")), topic


def payload(topic: str, message: Outbound, template: str | None = None) -> dict[str, Any]:
    """The publish body: title and message as plain text, the rules as tags, and a click
    URL for a single alert's http(s) link."""
    title, body = split_title(prepare.render("plain", "ntfy.j2", message, template))
    rules = dict.fromkeys(m.rule for a in message.alerts for m in a.matches)
    data: dict[str, Any] = {
        "topic": topic,
        "title": cut_text(title, TITLE_CHARS),
        "message": cut_lines(body or title, MESSAGE_BYTES, utf8_bytes),
        "tags": [TAG, *rules],
    }
    link = None if message.digest else markup.safe_link(message.alerts[0].link)
    if link is not None:
        data["click"] = link
    return data


class NtfySender:
    """One ntfy topic."""

    def __init__(self, name: str, config: NtfyChannel, client: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self._client = client
        self._server, self._topic = server_and_topic(config.url)

    async def send(self, message: Outbound) -> None:
        """Publish the message to the topic.

        Raises:
            DeliveryError: no connection, a timeout, or the server refused.
        """
        cfg = self.config
        headers = {}
        if cfg.token is not None:
            headers["Authorization"] = f"Bearer {cfg.token.get_secret_value()}"
        await request(
            self._client,
            self.name,
            "the ntfy server",
            "POST",
            self._server,
            json=payload(self._topic, message, cfg.template),
            headers=headers,
            timeout=cfg.timeout.total_seconds(),
            explain=explain,
        )
