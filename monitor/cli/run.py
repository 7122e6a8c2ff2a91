"""``run`` (the daemon) and ``poll`` (one pass, for cron and for trying a config)."""

from __future__ import annotations

import asyncio

import click

from monitor.cli import cli, config_option, load_config
from monitor.config import Config
from monitor.daemon import Daemon, serve
from monitor.store.db import Database, open_database


@cli.command("run")
@config_option
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: poll feeds when due, send alerts, until SIGINT or SIGTERM.

    SIGHUP (systemctl reload) re-reads the config file and applies it without a
    restart; a config with errors is refused and the running one stays.

    \b
    Example:
      newsmonitor run --config config.toml
    """
    path, cfg = load_config(ctx)
    with open_database(cfg.database.url) as db:
        asyncio.run(serve(cfg, db, config_path=path))


@cli.command("poll")
@config_option
@click.pass_context
def poll(ctx: click.Context) -> None:
    """Poll every feed once (due or not), judge feed health, try every pending alert, then
    exit.

    Intervals, publisher hints and error backoff are ignored; a Retry-After still in
    force and a feed gone (HTTP 410) are honoured, a feed a running daemon is polling
    at that moment is left to it, and the skipped feeds are listed.

    Failed feeds are reported and recorded; the exit status is 0 unless newsmonitor
    itself could not run (config 2, database 1).

    \b
    Example:
      newsmonitor poll --config config.toml
    """
    _, cfg = load_config(ctx)
    with open_database(cfg.database.url) as db:
        asyncio.run(_poll_once(cfg, db))


async def _poll_once(cfg: Config, db: Database) -> None:
    async with Daemon(cfg, db) as daemon:
        report, skipped = await daemon.poll_all()
        await daemon.check_health(send=False)
        sent = await daemon.drain(ignore_delay=True)
    click.echo(report.summary())
    for outcome in report.outcomes:
        if outcome.error:
            click.echo(f"  failed: {outcome.url}: {outcome.error}")
    for url, why in skipped:
        click.echo(f"  skipped: {url}: {why}")
    click.echo(f"alerts: {sent.sent} sent, {sent.failed} failed")
