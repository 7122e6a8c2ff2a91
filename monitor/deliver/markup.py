"""Pure message text for each destination's markup, from Jinja2 templates.

Every value a template prints with ``{{ }}`` is escaped for the destination by the
environment's ``finalize`` (feed text is hostile: it must not ping anyone, break the
markup or inject a link). Only what the ``link`` helper builds is printed as is.

Markups: ``html`` (email, Telegram, Matrix), ``slack`` (mrkdwn), ``markdown`` (Discord,
Mattermost, Teams) and ``plain`` (ntfy, Apprise, the email text part).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import jinja2
from markupsafe import Markup

from monitor.errors import DeliveryError
from monitor.records import Alert, Outbound, RuleMatch
from monitor.text import one_line

Kind = Literal["html", "slack", "markdown", "teams", "plain"]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<])")
# @here, @channel, @all, @everyone, @someone: a zero-width space after the @ keeps the
# text readable and pings no one (Mattermost, Discord, Teams).
_MENTION = re.compile(r"@(?=\w)")


def safe_link(link: str | None) -> str | None:
    """The link if it is http(s); anything else (javascript:, data:, file:) is not a link."""
    if link and urlsplit(link.strip()).scheme.lower() in ("http", "https"):
        return link.strip()
    return None


def escape_html(text: str) -> str:
    return html.escape(text, quote=True)


def escape_slack(text: str) -> str:
    """Slack mrkdwn: only ``& < >`` are special (and ``<!channel>`` needs ``<``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_markdown(text: str) -> str:
    """Backslash every markdown character and defuse @mentions."""
    return _MENTION.sub("@\u200b", _MARKDOWN_SPECIAL.sub(r"\\\1", text))


# Adaptive Cards render a markdown subset with no documented backslash escapes: a
# zero-width space after each markdown character breaks the syntax invisibly.
_TEAMS_SPECIAL = re.compile(r"([*_\[\]()#>`~|])")


def escape_teams(text: str) -> str:
    """Microsoft Teams (Adaptive Card text): defuse markdown and @mentions invisibly."""
    return _MENTION.sub("@\u200b", _TEAMS_SPECIAL.sub("\\1\u200b", text))


def escape_plain(text: str) -> str:
    return text


ESCAPE: dict[Kind, Callable[[str], str]] = {
    "html": escape_html,
    "slack": escape_slack,
    "markdown": escape_markdown,
    "teams": escape_teams,
    "plain": escape_plain,
}


def _url_for(kind: Kind, url: str) -> str:
    if kind == "slack":  # <url|text>: a | or > in the URL would end it early
        return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    if kind in ("markdown", "teams"):  # [text](url): spaces and parentheses end it early
        return quote(url, safe=":/?#[]@!$&'*+,;=%")
    return url


def link(kind: Kind, url: str | None, text: str) -> Markup:
    """A link in the destination's markup, only for http(s) URLs; otherwise the text."""
    escape = ESCAPE[kind]
    target = safe_link(url)
    if target is None:
        return Markup(escape(text))
    if kind == "html":
        return Markup(f'<a href="{escape_html(target)}">{escape_html(text)}</a>')
    if kind == "slack":
        return Markup(f"<{_url_for(kind, target)}|{escape_slack(text)}>")
    if kind in ("markdown", "teams"):
        return Markup(f"[{escape(text)}]({_url_for(kind, target)})")
    return Markup(f"{text} ({target})")


# How each markup shows the matched text inside a snippet.
_HIGHLIGHT: dict[Kind, tuple[str, str]] = {
    "html": ("<mark>", "</mark>"),
    "slack": ("*", "*"),
    "markdown": ("**", "**"),
    "teams": ("**", "**"),
    "plain": ("", ""),
}


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


def marked(kind: Kind, snippet: str, marks: list[tuple[int, int]]) -> Markup:
    """The snippet in ``kind``: every piece escaped, the matched text highlighted."""
    escape = ESCAPE[kind]
    before, after = _HIGHLIGHT[kind]
    out, at = "", 0
    for start, end in marks:
        out += escape(snippet[at:start]) + before + escape(snippet[start:end]) + after
        at = end
    return Markup(out + escape(snippet[at:]))


def environment(kind: Kind, folder: Path | None = None) -> jinja2.Environment:
    """A Jinja2 environment that escapes every printed value for ``kind``."""
    escape = ESCAPE[kind]

    def finalize(value: Any) -> Any:
        if isinstance(value, Markup) or value is None:
            return "" if value is None else value
        return escape(str(value))

    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("monitor.deliver", "templates")]
    if folder is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(folder)))
    env = jinja2.Environment(  # escaping is done by finalize, per markup
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["link"] = lambda url, text: link(kind, url, text)
    env.filters["marked"] = lambda m: marked(kind, m["snippet"], m["marks"])
    return env


def _when(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else None


def alert_context(alert: Alert) -> dict[str, Any]:
    """What templates see of one alert (plain values; escaping happens on output)."""
    return {
        "id": alert.alert_id,
        "title": one_line(alert.title, 300) or "(untitled entry)",
        "link": safe_link(alert.link),
        "raw_link": alert.link,
        "feed_name": alert.feed_name,
        "feed_url": alert.feed_url,
        "published": _when(alert.published),
        "author": alert.author,
        "rules": ", ".join(m.rule for m in alert.matches),
        "matches": [
            {
                "rule": m.rule,
                "terms": ", ".join(m.terms),
                "snippet": m.snippet,
                "marks": mark_ranges(m),
                "field": m.field,
            }
            for m in alert.matches
        ],
    }


# A feed health alert renders from its own packaged template for each destination;
# a channel's own ``template`` (written for hits) is not used for it.
HEALTH_TEMPLATES = {
    "email.html": "health.email.html",
    "email.txt": "health.txt.j2",
    "ntfy.j2": "health.txt.j2",
    "matrix.txt.j2": "health.txt.j2",
    "matrix.html.j2": "health.html.j2",
    "telegram.j2": "health.html.j2",
    "slack.j2": "health.slack.j2",
    "discord.j2": "health.md.j2",
    "teams.j2": "health.md.j2",
    "mattermost.j2": "health.mattermost.j2",
}


def health_context(alert: Alert) -> dict[str, Any]:
    """What a health template sees of a feed health alert."""
    unhealthy = alert.status == "unhealthy"
    return {
        "id": alert.alert_id,
        "status": alert.status,
        "unhealthy": unhealthy,
        "title": f"Feed {'unhealthy' if unhealthy else 'recovered'}: {alert.feed_name}",
        "reason": alert.reason or "",
        "feed_name": alert.feed_name,
        "feed_url": alert.feed_url,
        "since_label": "Unhealthy since" if unhealthy else "Recovered at",
        "since": _when(alert.since),
    }


def message_context(message: Outbound) -> dict[str, Any]:
    """What templates see of a message: its alerts, and for digests the same grouped by rule."""
    alerts = [alert_context(a) for a in message.alerts]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for a, ctx in zip(message.alerts, alerts, strict=True):
        for m in a.matches:
            by_rule.setdefault(m.rule, []).append(ctx)
    first = message.alerts[0]
    return {
        "health": health_context(first) if first.health else None,
        "digest": message.digest,
        "reason": message.reason,
        "count": len(alerts),
        "alerts": alerts,
        "alert": alerts[0],
        "by_rule": [{"rule": r, "alerts": items} for r, items in by_rule.items()],
    }


def render(kind: Kind, template: str, message: Outbound, override: str | None = None) -> str:
    """Render ``template`` (a packaged default), or the file ``override``, for ``message``.

    Raises:
        DeliveryError: the template fails (an unknown name, say): permanent, since
            sending again cannot mend it.
    """
    if message.alerts[0].health and not message.digest:
        template, override = HEALTH_TEMPLATES.get(template, "health.txt.j2"), None
    try:
        if override is not None:
            path = Path(override)
            tpl = environment(kind, path.parent).get_template(path.name)
        else:
            tpl = environment(kind).get_template(template)
        return tpl.render(message_context(message)).strip()
    except jinja2.TemplateError as exc:
        name = override or template
        reason = f"the template {name} failed ({one_line(str(exc), 200)})"
        raise DeliveryError(message.channel, reason, permanent=True) from None
