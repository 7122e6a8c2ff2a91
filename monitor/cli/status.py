"""``status``: the daemon and the monitoring at a glance (each feed: :mod:`monitor.cli.feeds`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from monitor.cli import cli, config_option, load_config
from monitor.store import daemons, feeds
from monitor.store.db import open_database
from monitor.store.summary import snapshot
from monitor.text import one_line, plural


def ago(moment: datetime | None, now: datetime) -> str:
    """``5 s ago``, ``3 min ago``, ``2 h ago``, ``4 d ago``; ``in 3 min`` for the future."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    span = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if span >= size:
            text = f"{int(span // size)} {unit}"
            break
    else:
        text = f"{int(span)} s"
    return f"{text} ago" if seconds >= 0 else f"in {text}"


@cli.command("status")
@config_option
@click.pass_context
def status(ctx: click.Context) -> None:
    """The daemon's state, failing feeds, pending alerts and the last day's hits.

    \b
    Example:
      newsmonitor status --config /etc/newsmonitor/config.toml
    """
    _, cfg = load_config(ctx)
    now = datetime.now(UTC)
    with open_database(cfg.database.url) as db, db.transaction() as s:
        procs = daemons.recent(s)
        snap = snapshot(s, now)
        listed = feeds.overview(s)
    failing = [f for f in listed if f.state == "failing"]
    unhealthy = [f for f in listed if f.health == "unhealthy"]
    running = [d for d in procs if d.running(now)]
    if running:
        for d in running:
            click.echo(
                f"daemon: running on {d.host} (pid {d.pid}, {d.version}), started"
                f" {ago(d.started_at, now)}, heartbeat {ago(d.heartbeat_at, now)}"
            )
    elif procs:
        last = procs[0]
        how = "stopped" if last.stopped_at else "not running (no heartbeat)"
        click.echo(f"daemon: {how}; last seen {ago(last.heartbeat_at, now)} on {last.host}")
    else:
        click.echo("daemon: never started on this database")
    click.echo(
        f"feeds: {snap.feeds_ok} ok, {snap.feeds_failing} failing; last poll"
        f" {ago(snap.last_poll_at, now)}"
    )
    for f in failing[:20]:
        click.echo(
            f"  failing: {one_line(f.name or f.url, 60)}: {one_line(f.last_error or '', 120)}"
            f" ({plural(f.consecutive_errors, 'error')} in a row)"
        )
    if len(failing) > 20:
        click.echo(f"  ... and {len(failing) - 20} more (newsmonitor feeds)")
    for f in unhealthy[:20]:
        click.echo(
            f"  unhealthy since {ago(f.unhealthy_since, now)}: {one_line(f.name or f.url, 60)}:"
            f" {one_line(f.health_reason or '', 120)}"
        )
    if len(unhealthy) > 20:
        click.echo(f"  ... and {len(unhealthy) - 20} more unhealthy (newsmonitor feeds)")
    oldest = (
        f", oldest {ago(now - timedelta(seconds=snap.oldest_pending_age), now)}"
        if snap.oldest_pending_age is not None
        else ""
    )
    click.echo(f"alerts: {snap.alerts_pending} pending{oldest}, {snap.alerts_failed} failed")
    click.echo(f"hits in the last 24 hours: {snap.hits_24h}")
