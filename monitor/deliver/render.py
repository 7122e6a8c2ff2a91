"""Pure rendering of alerts: the webhook JSON object and the email message."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from monitor.records import Alert, RuleMatch
from monitor.text import one_line

SUBJECT_TITLE_CHARS = 150

_templates = Environment(
    loader=PackageLoader("monitor.deliver", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def mark_ranges(match: RuleMatch) -> list[tuple[int, int]]:
    """The match's marks clipped to its snippet, in order, overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(match.marks):
        start, end = max(start, 0), min(end, len(match.snippet))
        if start >= end:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def marked_html(match: RuleMatch) -> Markup:
    """The snippet as HTML: every piece escaped, the matched text inside ``<mark>``."""
    html, at = Markup(""), 0
    for start, end in mark_ranges(match):
        html += (
            escape(match.snippet[at:start]) + Markup("<mark>%s</mark>") % match.snippet[start:end]
        )
        at = end
    return html + escape(match.snippet[at:])


_templates.filters["marked"] = marked_html


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def safe_link(link: str | None) -> str | None:
    """The link if it is http(s); anything else (javascript:, data:, file:) is not a link."""
    if link and urlsplit(link.strip()).scheme.lower() in ("http", "https"):
        return link.strip()
    return None


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """The JSON object POSTed to webhooks (documented in the README; fields are only added)."""
    return {
        "id": alert.alert_id,
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


def email_subject(alert: Alert) -> str:
    """One line: the rules, then the entry title (control characters removed)."""
    rules = ", ".join(m.rule for m in alert.matches) or "alert"
    title = alert.title or "(untitled entry)"
    return one_line(f"[{rules}] {one_line(title, SUBJECT_TITLE_CHARS)}", 250)


def email_message(
    alert: Alert, sender: str, recipients: tuple[str, ...], now: datetime
) -> EmailMessage:
    """A multipart (plain text and HTML) message for one alert.

    The Message-ID derives from the alert id, so a repeated send (after a crash) can be
    recognised by the receiver.
    """
    context = {
        "alert": alert,
        "link": safe_link(alert.link),
        "published": alert.published.strftime("%Y-%m-%d %H:%M UTC") if alert.published else None,
    }
    msg = EmailMessage()
    msg["Subject"] = email_subject(alert)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{alert.alert_id}@newsmonitor.invalid>"
    msg["X-Newsmonitor-Alert-Id"] = alert.alert_id
    msg.set_content(_templates.get_template("email.txt").render(context), cte="quoted-printable")
    msg.add_alternative(
        _templates.get_template("email.html").render(context),
        subtype="html",
        cte="quoted-printable",
    )
    return msg
