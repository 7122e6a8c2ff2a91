"""Matrix: ``m.room.message`` through the client-server API.

The transaction id is the message's ``delivery_id``: a homeserver answers a repeated
``PUT`` with the same transaction id (same access token) with the event it already sent,
so a retry after a lost answer does not post twice. ``m.mentions`` is present and empty,
which switches off the legacy ``@room``/name push rules (spec v1.7), so nothing in a
title highlights anyone. A 429 may give its wait as ``retry_after_ms`` in the body.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from monitor.config import MatrixChannel
from monitor.deliver.chat import prepare
from monitor.deliver.chat.answers import detail, json_object, seconds
from monitor.deliver.chat.fit import cut_html, cut_lines, utf8_bytes
from monitor.deliver.http import Hint, request
from monitor.records import Outbound

# Events are limited to 65536 bytes of JSON; both texts together stay well below.
TEXT_BYTES = 24000


def content(message: Outbound, template: str | None = None) -> dict[str, Any]:
    """The event content; ``template`` overrides the HTML (``formatted_body``), as for email."""
    plain = prepare.render("plain", "matrix.txt.j2", message)
    rich = prepare.render("html", "matrix.html.j2", message, template)
    return {
        "msgtype": "m.text",
        "body": cut_lines(plain, TEXT_BYTES, utf8_bytes),
        "format": "org.matrix.custom.html",
        "formatted_body": cut_html(rich, TEXT_BYTES, utf8_bytes),
        "m.mentions": {},
    }


def event_url(homeserver: str, room_id: str, txn_id: str) -> str:
    room, txn = quote(room_id, safe=""), quote(txn_id, safe="")
    return f"{homeserver.rstrip('/')}/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}"


def explain(response: httpx.Response) -> Hint:
    """The homeserver's ``error``, and M_LIMIT_EXCEEDED's ``retry_after_ms``."""
    return Hint(detail(response), seconds(json_object(response).get("retry_after_ms"), 0.001))


class MatrixSender:
    """One Matrix room, as the user (or bot) of the access token."""

    def __init__(self, name: str, config: MatrixChannel, client: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self._client = client

    async def send(self, message: Outbound) -> None:
        """Send the message as an event, idempotent per ``delivery_id``.

        Raises:
            DeliveryError: no connection, a timeout, or the homeserver refused.
        """
        cfg = self.config
        await request(
            self._client,
            self.name,
            "the Matrix homeserver",
            "PUT",
            event_url(cfg.homeserver, cfg.room_id, message.delivery_id),
            json=content(message, cfg.template),
            headers={"Authorization": f"Bearer {cfg.access_token.get_secret_value()}"},
            timeout=cfg.timeout.total_seconds(),
            explain=explain,
        )
