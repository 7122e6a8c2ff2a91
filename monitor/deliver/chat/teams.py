"""Microsoft Teams: a Power Automate Workflows webhook posting an Adaptive Card.

The card's text is markdown, escaped like Discord's; links to anything but http(s) never
become an ``Action.OpenUrl``. Workflows webhooks take no idempotency key; a retry after a
lost answer can post twice.
"""

from __future__ import annotations

from typing import Any

from monitor.deliver import markup
from monitor.deliver.chat import prepare
from monitor.deliver.chat.answers import explain
from monitor.deliver.chat.fit import cut_lines
from monitor.deliver.chat.incoming import Service
from monitor.records import Outbound

# Teams drops cards over about 28 KB; the text stays well inside that.
TEXT_CHARS = 16000


def card(message: Outbound, template: str | None = None) -> dict[str, Any]:
    """The Adaptive Card (schema 1.4): a heading, one TextBlock per line, and an "Open"
    action for a single alert's http(s) link."""
    heading, _, text = prepare.render("teams", "teams.j2", message, template).partition("\n")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": heading, "wrap": True, "size": "Medium", "weight": "Bolder"}
    ]
    gap = False  # a blank line before: the block starts a paragraph
    for line in cut_lines(text, TEXT_CHARS).split("\n"):
        if not line.strip():
            gap = True
            continue
        block = {"type": "TextBlock", "text": line, "wrap": True}
        body.append({**block, "spacing": "Medium" if gap else "None"})
        gap = False
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    link = None if message.digest else markup.safe_link(message.alerts[0].link)
    if link is not None:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": link}]
    return content


def payload(message: Outbound, template: str | None = None) -> dict[str, Any]:
    """The Workflows webhook body: a message with the card as its one attachment."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card(message, template),
            }
        ],
    }


SERVICE = Service("Microsoft Teams", payload, explain)
