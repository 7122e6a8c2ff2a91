"""Mattermost: an incoming webhook with the message as markdown ``text``.

``@channel``, ``@here``, ``@all`` and @user mentions in feed text are defused by the
markdown escaping (a zero-width space after the @). Incoming webhooks take no
idempotency key; a retry after a lost answer can post twice.
"""

from __future__ import annotations

from typing import Any

from monitor.deliver.chat import prepare
from monitor.deliver.chat.answers import explain
from monitor.deliver.chat.fit import cut_lines
from monitor.deliver.chat.incoming import Service
from monitor.records import Outbound

# Mattermost posts hold at most 16383 characters (its server's MaxMessageSize default).
POST_CHARS = 16383


def payload(message: Outbound, template: str | None = None) -> dict[str, Any]:
    text = prepare.render("markdown", "mattermost.j2", message, template)
    return {"text": cut_lines(text, POST_CHARS)}


SERVICE = Service("Mattermost", payload, explain)
