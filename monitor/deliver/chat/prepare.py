"""Feed text made fit for a chat template, then rendered (pure).

Every chat message goes through :func:`render`: each feed-supplied field is folded onto
one line (a CR/LF in a feed name or author would otherwise start a new line of markup:
a quote, a heading, a list item), and where a service acts on mentions that its markup
escaping cannot stop, they are defused as well.
"""

from __future__ import annotations

import dataclasses
import re

from monitor.deliver import markup
from monitor.records import Alert, Outbound
from monitor.text import one_line

# @name (a Telegram member; Discord or Mattermost through Apprise), Slack's <!channel>
# as Apprise re-creates it from text, and a markdown link [text](url) that Apprise passes
# on to markdown services: a zero-width space keeps the text readable and the pattern
# unmatched.
_PING = re.compile(r"([@!])(?=\w)|(\])(?=\()")


def defuse(text: str) -> str:
    return _PING.sub(lambda m: (m.group(1) or m.group(2)) + "\u200b", text)


def prepared(message: Outbound, *, defuse_mentions: bool = False) -> Outbound:
    """``message`` with its feed text (titles, authors, feed names, snippets) on one line
    each, and with ``defuse_mentions`` unable to mention anyone or form a link; links and
    the template's own text are left alone."""

    def tidy(text: str) -> str:
        flat = one_line(text, None)
        return defuse(flat) if defuse_mentions else flat

    def clean(alert: Alert) -> Alert:
        return dataclasses.replace(
            alert,
            title=tidy(alert.title),
            author=tidy(alert.author) if alert.author else alert.author,
            feed_name=tidy(alert.feed_name),
            reason=tidy(alert.reason) if alert.reason else alert.reason,
            matches=tuple(dataclasses.replace(m, snippet=tidy(m.snippet)) for m in alert.matches),
        )

    return dataclasses.replace(message, alerts=tuple(clean(a) for a in message.alerts))


def render(
    kind: markup.Kind,
    template: str,
    message: Outbound,
    override: str | None = None,
    *,
    defuse_mentions: bool = False,
) -> str:
    """:func:`monitor.deliver.markup.render` of the :func:`prepared` message."""
    return markup.render(
        kind, template, prepared(message, defuse_mentions=defuse_mentions), override
    )
