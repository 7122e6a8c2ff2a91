"""``run`` (the daemon) and ``poll`` (one pass, for cron and for trying a config)."""

from __future__ import annotations

import asyncio
import signal

import click

from monitor.cli import cli, config_option, load_config
from monitor.config import Config
from monitor.daemon import Daemon
from monitor.store.db import Database


def open_database(cfg: Config) -> Database:
    """Open the configured database and migrate it.

    Raises:
        StoreError: it cannot be opened or migrated.
    """
    db = Database(cfg.database.url)
    try:
        db.upgrade()
    except BaseException:
        db.close()
        raise
    return db


@cli.command("run")
@config_option
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: poll feeds when due, send alerts, until SIGINT or SIGTERM.

    \b
    Example:
      newsmonitor run --config config.toml
    """
    _, cfg = load_config(ctx)
    db = open_database(cfg)
    try:
        asyncio.run(serve(cfg, db))
    finally:
        db.close()


async def serve(cfg: Config, db: Database, stop: asyncio.Event | None = None) -> None:
    """Run the daemon until ``stop`` is set or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Daemon(cfg, db) as daemon:
            await daemon.run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


@cli.command("poll")
@config_option
@click.pass_context
def poll(ctx: click.Context) -> None:
    """Poll every feed once (due or not), try every pending alert, then exit.

    Failed feeds are reported and recorded; the exit status is 0 unless newsmonitor
    itself could not run (config 2, database 1).

    \b
    Example:
      newsmonitor poll --config config.toml
    """
    _, cfg = load_config(ctx)
    db = open_database(cfg)
    try:
        asyncio.run(_poll_once(cfg, db))
    finally:
        db.close()


async def _poll_once(cfg: Config, db: Database) -> None:
    async with Daemon(cfg, db) as daemon:
        report = await daemon.poll_all()
        sent = await daemon.drain(ignore_delay=True)
    click.echo(report.summary())
    for outcome in report.outcomes:
        if outcome.error:
            click.echo(f"  failed: {outcome.url}: {outcome.error}")
    click.echo(f"alerts: {sent.sent} sent, {sent.failed} failed (kept for retry)")
