"""``check-config`` and ``db upgrade``."""

from __future__ import annotations

import asyncio

import click
import httpx

from monitor.cli import cli, config_option, load_config
from monitor.config import Config
from monitor.deliver import build_channels
from monitor.store.db import open_database


@cli.command("check-config")
@config_option
@click.pass_context
def check_config(ctx: click.Context) -> None:
    """Validate the config file and report the first problems found (exit status 2).

    \b
    Example:
      newsmonitor check-config --config /etc/newsmonitor/config.toml
    """
    path, cfg = load_config(ctx)
    asyncio.run(_build_channels(cfg))
    counts = ", ".join(
        f"{n} {what}{'' if n == 1 else 's'}"
        for n, what in (
            (len(cfg.feeds), "feed"),
            (len(cfg.rules), "rule"),
            (len(cfg.channels), "channel"),
        )
    )
    click.echo(f"{path}: OK ({counts})")


async def _build_channels(cfg: Config) -> None:
    """Build every channel as the daemon would (an Apprise URL it does not know fails)."""
    async with httpx.AsyncClient() as client:
        build_channels(cfg.channels, client)


@cli.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@config_option
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create or migrate the database to the newest schema (also done by run and poll).

    \b
    Example:
      newsmonitor db upgrade --config config.toml
    """
    _, cfg = load_config(ctx)
    with open_database(cfg.database.url) as db:
        click.echo(f"database {db.describe()} is up to date")
