"""Pure decisions about alerts: their stable ids and which channels an entry goes to."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from monitor.records import RuleMatch

# Fixed namespace so that an alert's id is the same on every retry and after restarts.
ALERT_NAMESPACE = uuid.UUID("8f4c2a4e-5d0b-4f57-9a52-7f3c1f2b6d10")


def alert_id(feed_url: str, entry_identity: str, channel: str) -> str:
    """The alert's id: a UUIDv5 of feed URL, entry identity and channel name."""
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{feed_url}\n{entry_identity}\n{channel}"))


def channels_for(
    matches: Sequence[RuleMatch], rule_channels: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """Channel name -> the matched rules routed to it: one alert per channel, naming
    every rule that matched, never one message per rule."""
    routed: dict[str, list[str]] = {}
    for m in matches:
        for channel in rule_channels.get(m.rule, ()):
            rules = routed.setdefault(channel, [])
            if m.rule not in rules:
                rules.append(m.rule)
    return routed
