"""Discord: a webhook message with one embed, pinging no one.

``allowed_mentions`` with an empty ``parse`` list stops @everyone, @here, role and user
mentions even if one slipped through the escaping. Discord webhooks take no idempotency
key; a retry after a lost answer can post twice. A 429 names its wait in the body
(``retry_after``, seconds) as well as in ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

import httpx

from monitor.deliver import markup
from monitor.deliver.chat import prepare
from monitor.deliver.chat.answers import detail, json_object, seconds
from monitor.deliver.chat.fit import cut_lines, cut_text, split_title
from monitor.deliver.chat.incoming import Service
from monitor.deliver.http import Hint
from monitor.records import Outbound

# Embed limits (Discord API, "Embed Limits"): title 256, description 4096 characters.
TITLE_CHARS = 256
DESCRIPTION_CHARS = 4096
COLOUR = 0x2F6FDE


def payload(message: Outbound, template: str | None = None) -> dict[str, Any]:
    """The webhook body: one embed (title, link for a single alert, description, footer)."""
    title, description = split_title(prepare.render("markdown", "discord.j2", message, template))
    embed: dict[str, Any] = {
        "title": cut_text(title, TITLE_CHARS),
        "color": COLOUR,
        "footer": {"text": f"newsmonitor alert {message.delivery_id}"},
    }
    if description:  # Discord rejects an empty one
        embed["description"] = cut_lines(description, DESCRIPTION_CHARS)
    if not message.digest:
        alert = message.alerts[0]
        if (link := markup.safe_link(alert.link)) is not None:
            embed["url"] = link
        if alert.published is not None:
            embed["timestamp"] = alert.published.isoformat()
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def explain(response: httpx.Response) -> Hint:
    """Discord's message, and a 429's ``retry_after`` (seconds, fractional)."""
    return Hint(detail(response), seconds(json_object(response).get("retry_after")))


SERVICE = Service("Discord", payload, explain)
