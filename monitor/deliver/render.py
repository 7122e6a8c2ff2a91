"""Pure rendering of messages: the webhook JSON object, its signature, and the email."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from monitor.deliver import markup
from monitor.deliver.markup import mark_ranges
from monitor.records import Alert, Outbound
from monitor.text import one_line

SUBJECT_TITLE_CHARS = 150
safe_link = markup.safe_link


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def health_payload(alert: Alert) -> dict[str, Any]:
    """A feed health alert as JSON (documented in the README)."""
    return {
        "id": alert.alert_id,
        "type": "feed_health",
        "status": alert.status,
        "feed": {"url": alert.feed_url, "name": alert.feed_name},
        "reason": alert.reason,
        "since": _iso(alert.since),
    }


def alert_payload(alert: Alert) -> dict[str, Any]:
    """One alert as JSON (documented in the README; fields are only ever added)."""
    if alert.health:
        return health_payload(alert)
    return {
        "id": alert.alert_id,
        "type": "hit",
        "entry": {
            "id": alert.entry_id,
            "title": alert.title,
            "link": alert.link,
            "published": _iso(alert.published),
            "author": alert.author,
        },
        "feed": {"url": alert.feed_url, "name": alert.feed_name},
        "matches": [
            {
                "rule": m.rule,
                "terms": list(m.terms),
                "snippet": m.snippet,
                "field": m.field,
                "marks": [list(r) for r in mark_ranges(m)],
            }
            for m in alert.matches
        ],
        "detected_at": _iso(alert.detected_at),
    }


def webhook_payload(message: Outbound) -> dict[str, Any]:
    """What a generic webhook receives: one alert object, or a digest holding several."""
    if not message.digest:
        return alert_payload(message.alerts[0])
    return {
        "id": message.delivery_id,
        "type": "digest",
        "reason": message.reason,
        "alerts": [alert_payload(a) for a in message.alerts],
    }


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of the Standard Webhooks specification: ``v1,``
    and the base64 HMAC-SHA256, keyed by the secret after ``whsec_``, of
    ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def email_subject(message: Outbound) -> str:
    """One line: the rules, then the entry title; for a digest, how many and which rules."""
    rules = list(dict.fromkeys(m.rule for a in message.alerts for m in a.matches)) or ["alert"]
    first = message.alerts[0]
    if first.health and not message.digest:
        what = "is unhealthy" if first.status == "unhealthy" else "has recovered"
        return one_line(f"[feed health] {first.feed_name} {what}", 250)
    if message.digest:
        text = f"[{', '.join(rules)}] {len(message.alerts)} new alerts ({message.reason})"
    else:
        title = message.alerts[0].title or "(untitled entry)"
        text = f"[{', '.join(rules)}] {one_line(title, SUBJECT_TITLE_CHARS)}"
    return one_line(text, 250)


def email_message(
    message: Outbound,
    sender: str,
    recipients: tuple[str, ...],
    now: datetime,
    html_template: str | None = None,
) -> EmailMessage:
    """A multipart (plain text and HTML) message; ``html_template`` overrides the HTML part.

    The Message-ID derives from the delivery id, so a repeated send (after a crash) can
    be recognised by the receiver.
    """
    msg = EmailMessage()
    msg["Subject"] = email_subject(message)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{message.delivery_id}@newsmonitor.invalid>"
    msg["X-Newsmonitor-Alert-Id"] = message.delivery_id
    msg.set_content(markup.render("plain", "email.txt", message) + "\n", cte="quoted-printable")
    msg.add_alternative(
        markup.render("html", "email.html", message, html_template) + "\n",
        subtype="html",
        cte="quoted-printable",
    )
    return msg
