"""The feed list in ``config.toml``, edited in place: add, remove, import.

``config.toml`` stays the one source of the feed list. :func:`add` and :func:`remove`
read the file once, check the request against it, edit its text
(:mod:`monitor.feedblocks`, which keeps every comment and the layout) and :func:`save`
it: validated first, then replaced atomically, keeping its mode. Feeds are compared by
:func:`url_key`; :func:`plan_import` decides what an OPML list adds.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from monitor import config
from monitor.config import Config, FeedConfig
from monitor.errors import ConfigError, FeedListError
from monitor.feedblocks import LayoutError, NewFeed, add_feeds, remove_feed
from monitor.opml import OpmlList
from monitor.text import one_line


def url_key(url: str) -> str:
    """``url`` compared loosely: scheme and host in lower case, no default port, no
    fragment, an empty path as ``/``."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    scheme = parts.scheme.lower()
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    if parts.username is not None:
        password = f":{parts.password}" if parts.password is not None else ""
        host = f"{parts.username}{password}@{host}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def is_feed_url(url: str) -> bool:
    """An http:// or https:// URL with a host and no spaces or control characters."""
    parts = urlsplit(url)
    plain = url.isprintable() and not any(c.isspace() for c in url)
    return plain and parts.scheme in ("http", "https") and bool(parts.hostname)


def find_url(feeds: Sequence[FeedConfig], url: str) -> int | None:
    """The index of the configured feed with this URL (compared by :func:`url_key`)."""
    key = url_key(url)
    return next((i for i, f in enumerate(feeds) if url_key(f.url) == key), None)


def find(feeds: Sequence[FeedConfig], url_or_name: str) -> int:
    """The index of the configured feed with this URL, else with this name.

    Raises:
        FeedListError: no feed has it, or several feeds have this name.
    """
    index = find_url(feeds, url_or_name)
    if index is not None:
        return index
    wanted = url_or_name.strip().casefold()
    named = [i for i, f in enumerate(feeds) if f.name and f.name.strip().casefold() == wanted]
    if len(named) > 1:
        urls = ", ".join(feeds[i].url for i in named)
        raise FeedListError(f"{len(named)} feeds are named {url_or_name!r} ({urls}): give a URL.")
    if not named:
        raise FeedListError(f"no feed in the config has the URL or name {url_or_name!r}.")
    return named[0]


# -- importing --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing an OPML list does: feeds to add, URLs already configured (or listed
    twice), outlines without ``xmlUrl``, and ``xmlUrl`` values that are not http(s)."""

    add: tuple[NewFeed, ...]
    present: tuple[str, ...]
    without_url: int
    refused: tuple[str, ...]


def plan_import(listed: OpmlList, configured: Sequence[str]) -> ImportPlan:
    """Which of an OPML list's feeds to add to a config that has the URLs ``configured``."""
    seen = {url_key(u) for u in configured}
    adding: list[NewFeed] = []
    present: list[str] = []
    refused: list[str] = []
    for feed in listed.feeds:
        if not is_feed_url(feed.url):
            refused.append(feed.url)
        elif url_key(feed.url) in seen:
            present.append(feed.url)
        else:
            seen.add(url_key(feed.url))
            name = feed.title if feed.title and feed.title != feed.url else None
            adding.append(NewFeed(url=feed.url, name=name))
    return ImportPlan(tuple(adding), tuple(present), listed.without_url, tuple(refused))


# -- the file ---------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The config file's text, as it is.

    Raises:
        ConfigError: it is missing, unreadable or not UTF-8.
    """
    try:
        with path.open(encoding="utf-8", newline="") as f:
            return f.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: the config file does not exist.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the config file is not UTF-8 text.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: the config file cannot be read ({exc.strerror}).") from None


def ensure_new(feeds: Sequence[FeedConfig], url: str, where: Path) -> None:
    """Refuse ``url`` if the config at ``where`` lists it (compared by :func:`url_key`).

    Raises:
        FeedListError: it is listed already.
    """
    index = find_url(feeds, url)
    if index is not None:
        listed = feeds[index]
        name = f' ("{one_line(listed.name, 60)}")' if listed.name else ""
        raise FeedListError(f"{listed.url}{name} is already in {where}.")


def add(path: Path, new: Sequence[NewFeed]) -> Config:
    """Add a ``[[feeds]]`` block for each of ``new`` to the config file (:func:`.add_feeds`).

    The file is read once: what is checked is what is edited, even if it changed since.

    Raises:
        ConfigError: the file cannot be read or edited, or is not (or would not be) valid.
        FeedListError: a URL is listed already, or the file cannot be written.
    """
    text, current = _current(path)
    for feed in new:
        ensure_new(current.feeds, feed.url, path)
    return save(path, _edited(path, lambda: add_feeds(text, new)))


def remove(path: Path, url_or_name: str) -> FeedConfig:
    """Remove the feed with this URL or name from the config file (:func:`.remove_feed`);
    what it was.

    Raises:
        ConfigError: the file cannot be read or edited, or is not (or would not be) valid.
        FeedListError: no feed (or more than one) answers to ``url_or_name``, or the file
            cannot be written.
    """
    text, current = _current(path)
    index = find(current.feeds, url_or_name)
    save(path, _edited(path, lambda: remove_feed(text, index)))
    return current.feeds[index]


def _current(path: Path) -> tuple[str, Config]:
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from None
    return text, config.validate(data, source=path)


def _edited(path: Path, edit: Callable[[], str]) -> str:
    try:
        return edit()
    except LayoutError as exc:
        raise ConfigError(f"{path}: {exc}.") from None


def save(path: Path, text: str) -> Config:
    """Validate ``text`` as the config at ``path``, then put it in the file's place.

    The text goes to a temporary file in the same folder, which gets the file's mode
    (and owner and group, where allowed) and is renamed over it: a daemon reloading
    meanwhile reads the old file or the new one, never half of one. A symbolic link is
    followed, so the file it points to is replaced, not the link.

    Raises:
        ConfigError: the new text is not a valid config (nothing is written).
        FeedListError: the file cannot be written.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: the edited file would not be valid TOML ({exc}).") from None
    cfg = config.validate(data, source=path)
    target = Path(os.path.realpath(path))
    try:
        _replace(target, text)
    except OSError as exc:
        raise FeedListError(f"{path}: cannot write the config file ({exc.strerror}).") from None
    return cfg


def _replace(target: Path, text: str) -> None:
    mode = target.stat()
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(name, stat.S_IMODE(mode.st_mode))
        with contextlib.suppress(PermissionError):
            os.chown(name, mode.st_uid, mode.st_gid)
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    # The rename itself is durable once the folder is synced.
    with contextlib.suppress(OSError):
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
