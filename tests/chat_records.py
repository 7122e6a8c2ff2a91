"""Alerts and messages for the chat channel tests, built by hand (no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from monitor.records import Alert, Outbound, RuleMatch

HOSTILE_TITLE = (
    "@everyone <!channel> <script>alert(1)</script> **bold** [x](javascript:alert(1))"
    "\r\nX-Injected: 1\r\n\r\n@here @channel @all @room"
)


def make_alert(**changes: object) -> Alert:
    base = Alert(
        alert_id="0b6f2f7e-1c0a-5d3e-9a57-2c1f6e0d4b11",
        outbox_id=7,
        channel="chat",
        entry_id="world-1",
        title="Ceasefire talks resume in Geneva",
        link="https://news.example.org/world/1",
        published=datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
        author="Anna Reporter",
        feed_url="https://news.example.org/world.rss",
        feed_name="World Desk",
        matches=(
            RuleMatch(
                rule="ceasefire",
                terms=("ceasefire", "peace talks"),
                field="summary",
                snippet="…discuss a ceasefire along the front line…",
            ),
        ),
        detected_at=datetime(2026, 11, 25, 8, 5, 30, tzinfo=UTC),
        attempts=0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def single() -> Outbound:
    alert = make_alert()
    return Outbound("chat", alert.alert_id, (alert,))


def hostile() -> Outbound:
    alert = make_alert(
        alert_id="6a0c3e55-8f1d-5b2a-b0e4-7d9c1a2f3e44",
        title=HOSTILE_TITLE,
        link="javascript:alert(1)",
        author="Eve\r\nX-Evil: 1 @here",
        feed_name="Feed\r\nX-Injected: 2",
        matches=(
            RuleMatch(
                rule="ceasefire",
                terms=("ceasefire",),
                field="title",
                snippet="<img src=x onerror=alert(1)> @room [y](javascript:alert(2))",
            ),
        ),
    )
    return Outbound("chat", alert.alert_id, (alert,))


def digest() -> Outbound:
    """Three alerts folded by the channel's schedule; the second matched two rules."""
    first = make_alert()
    second = make_alert(
        alert_id="9d2e4c1b-3a5f-5e6d-8c7b-1f0e2d3c4b22",
        entry_id="energy-7",
        title="Gas prices & the winter: what to expect",
        link="https://news.example.org/energy/7",
        published=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        author=None,
        feed_name="Energy Desk",
        matches=(
            RuleMatch("ceasefire", ("ceasefire",), "summary", "…a ceasefire would ease supply…"),
            RuleMatch("energy", ("gas prices",), "title", "Gas prices & the winter"),
        ),
    )
    third = make_alert(
        alert_id="4e8a1d2c-7b6f-5a3e-9d0c-5b4a3f2e1d33",
        entry_id="energy-8",
        title="Pipeline maintenance ends early",
        link=None,
        published=None,
        feed_name="Energy Desk",
        matches=(RuleMatch("energy", ("pipeline",), "title", "Pipeline maintenance"),),
    )
    return Outbound(
        "chat", "5f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0", (first, second, third), "digest"
    )
