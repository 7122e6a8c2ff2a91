"""``demo``: the whole flow offline, on bundled sample feeds."""

from __future__ import annotations

import click

from monitor.cli import cli
from monitor.demo import run_demo


@cli.command("demo")
@click.option(
    "--every",
    type=click.FloatRange(min=0.1),
    default=4.0,
    show_default=True,
    help="Seconds between new sample entries.",
)
@click.option("--seconds", type=click.FloatRange(min=1), help="Stop after this many seconds.")
def demo(every: float, seconds: float | None) -> None:
    """Show newsmonitor working without internet and without a config file.

    Serves sample feeds and a webhook receiver on 127.0.0.1, runs the daemon against
    them with the rules of the shipped config.toml, and prints one `alert:` line per
    alert received. Ctrl-C ends it.

    \b
    Example:
      newsmonitor demo
    """
    run_demo(reveal_every=every, seconds=seconds)
