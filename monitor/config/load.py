"""Reading the file: where it is, TOML, ``${NAME}`` and ``${credential:NAME}``, validation
with one sentence per problem, and paths made absolute against the file's folder."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from pydantic import (
    ValidationError,
)
from sqlalchemy.engine import make_url

from monitor.config.channels import (
    CHANNEL_TYPES,
    ChannelConfig,
    EmailChannel,
)
from monitor.config.models import (
    Config,
    DatabaseConfig,
)
from monitor.config.values import (
    _ENV_REF,
    DEFAULT_PATH,
    ENV_VAR,
    _KeyProblem,
)
from monitor.errors import ConfigError


def find_path(option: str | os.PathLike[str] | None) -> Path:
    """Where the config is: ``--config``, else ``$NEWSMONITOR_CONFIG``, else ./config.toml."""
    if option:
        return Path(option)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return DEFAULT_PATH


def load(path: str | os.PathLike[str]) -> Config:
    """Read, expand and validate the config file at ``path``.

    Raises:
        ConfigError: the file is missing, not TOML, refers to an unset variable, or invalid.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{file}: the config file does not exist.") from None
    except OSError as exc:
        raise ConfigError(f"{file}: the config file cannot be read ({exc.strerror}).") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: the config file is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}.") from None
    return validate(data, source=file)


def validate(data: Mapping[str, Any], *, source: Path) -> Config:
    """Validate already-parsed TOML data; relative SQLite paths resolve against ``source``'s folder.

    Raises:
        ConfigError: the data is invalid; one sentence per problem.
    """
    expanded = _expand_env(dict(data), (), source)
    try:
        config = Config.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError("\n".join(_sentences(exc, source))) from None
    folder = source.resolve().parent
    return _resolve_templates(_resolve_database(config, folder), folder, source)


def _expand_env(value: Any, loc: tuple[str | int, ...], source: Path) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            credential, name = m.group(1), m.group(2)
            where = f"{source}: {_key_path(loc)}"
            if name is None:
                return "${"
            if credential:
                return _credential(name, where)
            if name not in os.environ or "." in name or "-" in name:
                raise ConfigError(f"{where}: environment variable {name} is not set.")
            return os.environ[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, (*loc, k), source) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, (*loc, i), source) for i, v in enumerate(value)]
    return value


def _credential(name: str, where: str) -> str:
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        raise ConfigError(
            f"{where}: credential {name} is asked for, but CREDENTIALS_DIRECTORY is not set"
            " (use LoadCredential= in the systemd unit)."
        )
    try:
        return (Path(folder) / name).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read credential {name} ({exc.strerror}).") from None


def _key_path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _sentences(exc: ValidationError, source: Path) -> list[str]:
    lines = []
    for err in exc.errors():
        # Drop pydantic's internal union tags ("email", "function-before[...]").
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in CHANNEL_TYPES))
        )
        original = err.get("ctx", {}).get("error")
        if isinstance(original, _KeyProblem):
            loc, what = original.loc, original.message
        elif err["type"] == "extra_forbidden":
            what = "unknown key"
        elif err["type"] == "missing":
            what = "this key is required"
        elif err["type"] == "union_tag_invalid":
            what = f"type must be one of {', '.join(repr(t) for t in CHANNEL_TYPES)}"
        elif err["type"] == "union_tag_not_found":
            what = f"type is required (one of {', '.join(repr(t) for t in CHANNEL_TYPES)})"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            what = msg[:1].lower() + msg[1:]
        lines.append(f"{source}: {_key_path(loc)}: {what}.")
    return lines


def _resolve_templates(config: Config, folder: Path, source: Path) -> Config:
    """Channel template and CA file paths made absolute (relative ones are relative to
    the config's folder) and checked: a template must be readable Jinja2."""
    channels: dict[str, ChannelConfig] = {}
    for name, channel in config.channels.items():
        if isinstance(channel, EmailChannel) and channel.ca_file:
            ca_file = folder / channel.ca_file
            if not ca_file.is_file():
                raise ConfigError(f"{source}: channels.{name}.ca_file: {ca_file} is not a file.")
            channel = channel.model_copy(update={"ca_file": str(ca_file)})
        if channel.template is None:
            channels[name] = channel
            continue
        path = folder / channel.template
        where = f"{source}: channels.{name}.template"
        try:
            jinja2.Environment(autoescape=False).parse(path.read_text(encoding="utf-8"))  # noqa: S701
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {path} ({exc.strerror}).") from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{where}: {path} line {exc.lineno}: {exc.message}.") from None
        channels[name] = channel.model_copy(update={"template": str(path)})
    return config.model_copy(update={"channels": channels})


def _resolve_database(config: Config, folder: Path) -> Config:
    url = make_url(config.database.url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return config
    if url.database.startswith("file:"):
        return config
    path = Path(url.database)
    if path.is_absolute():
        return config
    resolved = url.set(database=str(folder / path))
    new_db = DatabaseConfig(url=resolved.render_as_string(hide_password=False))
    return config.model_copy(update={"database": new_db})
