"""``alerts``: what waits to be delivered, retrying failed alerts, testing a channel."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import click
import httpx

from monitor import fetch
from monitor.cli import cli, config_option, format_option, load_config
from monitor.cli.status import ago
from monitor.config import Config
from monitor.deliver import build_channel
from monitor.errors import ConfigError, DeliveryError
from monitor.records import Alert, Outbound, RuleMatch
from monitor.store import outbox
from monitor.store.db import open_database
from monitor.text import one_line, plural


@cli.group("alerts", invoke_without_command=True)
@config_option
@format_option("table", "json")
@click.pass_context
def alerts_group(ctx: click.Context, fmt: str) -> None:
    """List alerts waiting to be delivered (pending) and those that failed for good.

    \b
    Examples:
      newsmonitor alerts
      newsmonitor alerts retry --all
      newsmonitor alerts test desk
    """
    if ctx.invoked_subcommand is not None:
        return
    _, cfg = load_config(ctx)
    now = datetime.now(UTC)
    with open_database(cfg.database.url) as db, db.transaction() as s:
        found = outbox.waiting(s)
    if fmt == "json":
        click.echo(json.dumps([_record(w) for w in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("no alerts waiting")
        return
    for w in found:
        when = "" if w.status == "failed" else f", next try {ago(w.next_attempt_at, now)}"
        held = f", held for {w.hold_reason}" if w.hold_reason else ""
        click.echo(
            f"{w.status:<8} {w.alert_id}  {one_line(w.channel, 20)}  {one_line(w.title, 70)}"
        )
        click.echo(
            f"{'':9}{plural(w.attempts, 'attempt')}{when}{held}, queued {ago(w.created_at, now)}"
        )
        if w.last_error:
            click.echo(f"{'':9}last error: {one_line(w.last_error, 110)}")


def _record(w: outbox.Waiting) -> dict[str, Any]:
    return {
        "id": w.alert_id,
        "channel": w.channel,
        "status": w.status,
        "title": w.title,
        "rules": list(w.rules),
        "attempts": w.attempts,
        "next_attempt": w.next_attempt_at.isoformat(),
        "held_for": w.hold_reason,
        "last_error": w.last_error,
        "queued_at": w.created_at.isoformat(),
    }


@alerts_group.command("retry")
@config_option
@click.argument("alert_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Every failed alert.")
@click.pass_context
def retry(ctx: click.Context, alert_id: str | None, everything: bool) -> None:
    """Send failed alerts again (one by its id, or --all) at the next drain.

    \b
    Example:
      newsmonitor alerts retry 0ff8592a-4c74-53dd-84cc-62c970fcf3de
    """
    if (alert_id is None) == (not everything):
        raise click.UsageError("give an alert id or --all (not both)")
    _, cfg = load_config(ctx)
    with open_database(cfg.database.url) as db, db.transaction() as s:
        count = outbox.retry_failed(s, datetime.now(UTC), None if everything else alert_id)
    if alert_id is not None and count == 0:
        raise click.ClickException(f"no failed alert has the id {alert_id}")
    click.echo(f"{count} failed alert{'' if count == 1 else 's'} will be sent again")


def sample_alert(channel: str, now: datetime) -> Alert:
    """A made-up alert for ``alerts test``: it says plainly that it is a test."""
    return Alert(
        alert_id=f"test-{now.strftime('%Y%m%dT%H%M%S')}",
        outbox_id=0,
        channel=channel,
        entry_id="newsmonitor-test",
        title="newsmonitor test alert: this channel works",
        link="https://example.org/newsmonitor-test",
        published=now,
        author=None,
        feed_url="https://example.org/feed",
        feed_name="newsmonitor",
        matches=(
            RuleMatch("test", ("test",), "title", "A test alert sent by newsmonitor alerts test."),
        ),
        detected_at=now,
        attempts=0,
    )


@alerts_group.command("test")
@config_option
@click.argument("channel")
@click.pass_context
def test(ctx: click.Context, channel: str) -> None:
    """Send a sample alert to CHANNEL and report the receiver's answer in one line.

    \b
    Example:
      newsmonitor alerts test desk
    """
    path, cfg = load_config(ctx)
    if channel not in cfg.channels:
        known = ", ".join(sorted(cfg.channels)) or "none"
        raise ConfigError(f"{path}: there is no channel {channel!r} (channels: {known}).")
    try:
        asyncio.run(_send_sample(cfg, channel))
    except DeliveryError as exc:
        click.echo(f"{channel}: not delivered: {exc.reason}")
        ctx.exit(1)
    click.echo(f"{channel}: delivered (the receiver accepted the test alert)")


async def _send_sample(cfg: Config, channel: str) -> None:
    now = datetime.now(UTC)
    alert = sample_alert(channel, now)
    user_agent = cfg.network.user_agent or fetch.USER_AGENT
    async with httpx.AsyncClient(trust_env=False, headers={"User-Agent": user_agent}) as client:
        sender = build_channel(channel, cfg.channels[channel], client)
        await sender.send(Outbound(channel, alert.alert_id, (alert,)))
