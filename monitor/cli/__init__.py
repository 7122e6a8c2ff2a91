"""The ``newsmonitor`` command line: a click group, one module per command family.

Every command takes ``--config PATH`` before or after its name; errors are one line on
standard error with exit status 2 for configuration problems and 1 for the rest.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from monitor import __version__, collector, config, logs
from monitor.errors import ConfigError, MonitorError
from monitor.text import one_line

F = TypeVar("F", bound=Callable[..., Any])
_CONFIG_KEY = "newsmonitor.config"


def _remember_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.find_root().meta[_CONFIG_KEY] = value


def config_option(f: F) -> F:
    """``--config PATH``, accepted by the group and by every command."""
    return click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember_config,
        help="Config file (default: $NEWSMONITOR_CONFIG, else ./config.toml).",
    )(f)


def load_config(ctx: click.Context) -> tuple[Path, config.Config]:
    """The config file chosen for this invocation, loaded and validated.

    Raises:
        ConfigError: as :func:`monitor.config.load`.
    """
    path = config.find_path(ctx.find_root().meta.get(_CONFIG_KEY))
    return path, config.load(path)


def format_option(*formats: str) -> Callable[[F], F]:
    """``--format``, the first choice the default (``table``), passed as ``fmt``."""

    def decorate(f: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help="How to print the result.",
        )(f)

    return decorate


# Each command's module, imported only when that command runs (or help lists it), so
# that ``poll`` and ``run`` do not pay for the imports of every other command.
_COMMANDS = {
    "alerts": "alerts",
    "check-config": "db",
    "db": "db",
    "demo": "demo",
    "feeds": "feeds",
    "hits": "hits",
    "match": "match",
    "poll": "run",
    "run": "run",
    "status": "status",
}


class _Group(click.Group):
    """Loads command modules lazily; turns our errors into one line and an exit status,
    never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            # The module registers its commands on ``cli`` as it is imported.
            importlib.import_module(f"monitor.cli.{module}")
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(ctx, str(exc), 2)
        except MonitorError as exc:
            _fail(ctx, str(exc), 1)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # Whoever read the output stopped reading (`| head`): there is no one to tell.
            # What is still buffered for the closed pipe goes nowhere at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except Exception as exc:
            if ctx.meta.get("newsmonitor.debug"):
                raise
            _fail(ctx, f"unexpected failure: {one_line(repr(exc))} (--debug shows where)", 1)


def _fail(ctx: click.Context, message: str, code: int) -> None:
    for line in message.splitlines():
        click.echo(f"error: {line}", err=True)
    ctx.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@config_option
@click.option("-v", "--verbose", is_flag=True, help="Log debugging detail.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors.")
@click.option("--debug", is_flag=True, help="Show a traceback for unexpected failures.")
@click.option(
    "--log-format",
    type=click.Choice(logs.FORMATS),
    default="auto",
    show_default=True,
    help="Log lines for a terminal (human), journald (journal) or log shippers (json);"
    " auto picks journal under systemd.",
)
@click.version_option(__version__, prog_name="newsmonitor")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, quiet: bool, debug: bool, log_format: str) -> None:
    """newsmonitor: watch news feeds and alert when they mention what you track.

    \b
    Example:
      newsmonitor --config config.toml check-config
      newsmonitor poll --config config.toml
    """
    ctx.meta["newsmonitor.debug"] = debug
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logs.setup(level, cast(logs.LogFormat, log_format))
    # Click resolves (imports) the command before this runs: start-up is over.
    collector.settle()


def main() -> None:
    """Entry point of the ``newsmonitor`` command."""
    try:
        cli(prog_name="newsmonitor")
    finally:
        # On the way out, the collector would otherwise run over every object still
        # alive, again and again as the interpreter clears its modules: a fifth of the
        # run of a short command such as `poll`. What is alive is still freed by
        # reference counting as usual; only cycles are left to the exit.
        gc.freeze()
