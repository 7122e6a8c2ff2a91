"""Slack: an incoming webhook, one Block Kit section in mrkdwn.

Slack's incoming webhooks take no idempotency key; a retry after a lost answer can post
twice. A 429 carries ``Retry-After`` (seconds), which the outbox honours.
"""

from __future__ import annotations

from typing import Any

from monitor.deliver import markup
from monitor.deliver.chat import prepare
from monitor.deliver.chat.answers import explain
from monitor.deliver.chat.fit import cut_lines
from monitor.deliver.chat.incoming import Service
from monitor.deliver.render import email_subject
from monitor.records import Outbound

# A section block's text holds at most 3000 characters (Block Kit reference).
SECTION_CHARS = 3000


def payload(message: Outbound, template: str | None = None) -> dict[str, Any]:
    """The webhook body: the plain fallback Slack shows in notifications, and the section.

    The fallback is mrkdwn too, so it is escaped like the section (``<!channel>`` there
    would ping as well).
    """
    text = prepare.render("slack", "slack.j2", message, template)
    return {
        "text": markup.escape_slack(email_subject(message)),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": cut_lines(text, SECTION_CHARS)}}
        ],
        # An alert names its article; a preview card per message would bury the list.
        "unfurl_links": False,
        "unfurl_media": False,
    }


SERVICE = Service("Slack", payload, explain)
