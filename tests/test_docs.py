"""The docs tell the truth: every command has help with an example and is in the README,
every config key is in the README, and the shipped config documents itself."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from monitor import config
from monitor.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    # Through list_commands/get_command, as help does: command modules load lazily, so
    # each listed name must also load its command.
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"{prefix}{name} is listed but does not load"
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found += commands(command, f"{full} ")
        else:
            found.append((full, command))
    return found


ALL = commands(cli)


def test_the_commands_issue_3_names_exist() -> None:
    assert {name for name, _ in ALL} >= {
        "run",
        "poll",
        "check-config",
        "db upgrade",
        "hits",
        "demo",
    }


@pytest.mark.parametrize(("name", "command"), ALL, ids=[n for n, _ in ALL])
def test_each_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert (command.help or "").strip()
    assert f"newsmonitor {name}" in README


def test_every_config_key_is_in_the_readme() -> None:
    models: list[type[config.BaseModel]] = [
        config.DatabaseConfig,
        config.NetworkConfig,
        config.HttpConfig,
        config.RetentionConfig,
        config.DefaultsConfig,
        config.FeedConfig,
        config.RuleConfig,
        config.EmailChannel,
        config.WebhookChannel,
        config.ChatWebhookChannel,
        config.TelegramChannel,
        config.MatrixChannel,
        config.NtfyChannel,
        config.AppriseChannel,
    ]
    for model in models:
        for name, field in model.model_fields.items():
            key = field.alias or name
            assert re.search(rf"`{re.escape(key)}`", README), (
                f"{model.__name__}.{key} is not documented"
            )


def test_webhook_fields_are_in_the_readme() -> None:
    for key in ("id", "entry", "feed", "matches", "detected_at", "snippet", "terms", "published"):
        assert f"`{key}`" in README or f'"{key}"' in README


def test_readme_has_the_two_setup_commands() -> None:
    assert "make run" in README
    assert "make test" in README
    assert "make demo" in README or "newsmonitor demo" in README


def test_architecture_lists_exactly_the_modules() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([\w/]+\.py)`", text, flags=re.MULTILINE))
    package = ROOT / "monitor"
    actual = {
        str(p.relative_to(package)) for p in package.rglob("*.py") if "_alembic" not in p.parts
    }
    assert listed == actual
