"""Pure decisions about alerts: their stable ids and which channels an entry goes to."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from monitor.records import Alert, Outbound, RuleMatch

# Fixed namespace so that an alert's id is the same on every retry and after restarts.
ALERT_NAMESPACE = uuid.UUID("8f4c2a4e-5d0b-4f57-9a52-7f3c1f2b6d10")


def alert_id(feed_url: str, entry_identity: str, channel: str) -> str:
    """The alert's id: a UUIDv5 of feed URL, entry identity and channel name."""
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{feed_url}\n{entry_identity}\n{channel}"))


def health_alert_id(feed_url: str, status: str, at: datetime, channel: str) -> str:
    """A health alert's id: a UUIDv5 of feed URL, status, when it was decided and channel;
    its retries reuse it, and each reminder (decided later) has its own."""
    text = f"health\n{feed_url}\n{status}\n{at.isoformat()}\n{channel}"
    return str(uuid.uuid5(ALERT_NAMESPACE, text))


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


def digest_id(alert_ids: Sequence[str]) -> str:
    """A digest's id: a UUIDv5 of its alerts' ids, the same however often it is retried."""
    return str(uuid.uuid5(ALERT_NAMESPACE, "digest\n" + "\n".join(sorted(alert_ids))))


def fold(channel: str, alerts: Sequence[Alert], reason: str) -> Outbound:
    """Several alerts as one message."""
    return Outbound(channel, digest_id([a.alert_id for a in alerts]), tuple(alerts), reason)


def compose(
    channel: str, singles: Sequence[Alert], held: Sequence[Alert], remaining: int | None
) -> tuple[list[Outbound], list[Alert]]:
    """The messages to send to one channel now, and the alerts to hold back.

    Held alerts (digest, quiet hours, rate limit) go out folded into one message; the
    others one message each. With a rate limit (``remaining`` messages may still be sent
    in its window) the excess folds into one summary message: nothing is dropped, and
    with no room left at all everything waits for the window to free up.
    """
    messages = [fold(channel, held, held[0].hold_reason or "digest")] if held else []
    messages += [Outbound(channel, a.alert_id, (a,)) for a in singles]
    if remaining is None or len(messages) <= remaining:
        return messages, []
    if remaining == 0:
        return [], [a for m in messages for a in m.alerts]
    kept = messages[: remaining - 1]
    rest = [a for m in messages[remaining - 1 :] for a in m.alerts]
    return [*kept, fold(channel, rest, "rate limit")], []
