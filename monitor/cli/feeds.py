"""``feeds``: each feed's state, and the feed list of ``config.toml`` edited in place
(``add``, ``remove``, ``import``) or written out as OPML (``export``)."""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from monitor import config, feedcheck, feedlist, opml
from monitor.cli import cli, config_option, format_option, load_config
from monitor.cli.status import ago
from monitor.errors import FeedListError, StoreError
from monitor.feedblocks import NewFeed
from monitor.store import feeds
from monitor.store.db import open_database
from monitor.store.feeds import FeedOverview
from monitor.text import one_line, plural

RELOAD_HINT = (
    "a running daemon applies the change when it reloads its config"
    " (systemctl reload newsmonitor, or SIGHUP)"
)


def _feed_record(f: FeedOverview) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "url": f.url,
        "name": f.name,
        "status": f.state,
        "last_success": iso(f.last_success_at),
        "last_error": f.last_error,
        "last_error_at": iso(f.last_error_at),
        "consecutive_errors": f.consecutive_errors,
        "next_poll": iso(f.next_poll_at),
        "entries": f.entries,
        "entries_per_day": f.entries_per_day,
        "moved_to": f.moved_to,
        "health": f.health,
        "unhealthy_since": iso(f.unhealthy_since),
        "health_reason": f.health_reason,
    }


@cli.group("feeds", invoke_without_command=True)
@config_option
@format_option("table", "json")
@click.pass_context
def feeds_group(ctx: click.Context, fmt: str) -> None:
    """List each feed with its status, last success, last error, next poll and entries
    per day (over the last 7 days); add, remove, import and export feeds.

    \b
    Examples:
      newsmonitor feeds
      newsmonitor feeds --format json | jq '.[] | select(.status == "failing")'
      newsmonitor feeds add https://example.org/
    """
    if ctx.invoked_subcommand is not None:
        return
    _, cfg = load_config(ctx)
    now = datetime.now(UTC)
    with open_database(cfg.database.url) as db, db.transaction() as s:
        found = feeds.overview(s, now)
    if fmt == "json":
        click.echo(json.dumps([_feed_record(f) for f in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("no feeds (add [[feeds]] to the config)")
        return
    for f in found:
        click.echo(f"{f.state:<8} {one_line(f.name or f.url, 70)}")
        click.echo(
            f"{'':9}last success {ago(f.last_success_at, now)}, next poll"
            f" {ago(f.next_poll_at, now)}, {plural(f.entries, 'entry', 'entries')} stored,"
            f" {f.entries_per_day or 0:g} a day"
        )
        if f.moved_to:
            click.echo(f"{'':9}moved for good to {one_line(f.moved_to, 100)}: put it in the config")
        if f.health == "unhealthy":
            click.echo(
                f"{'':9}unhealthy since {ago(f.unhealthy_since, now)}:"
                f" {one_line(f.health_reason or '', 110)}"
            )
        if f.last_error:
            click.echo(
                f"{'':9}last error {ago(f.last_error_at, now)}: {one_line(f.last_error, 110)}"
            )
        if f.name:
            click.echo(f"{'':9}{one_line(f.url, 110)}")


def _interval(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        if config.parse_duration(value.strip()).total_seconds() <= 0:
            raise ValueError("the interval must be longer than zero")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value.strip()


@feeds_group.command("add")
@config_option
@click.argument("url")
@click.option("--name", help="The feed's name in alerts and lists (default: its own title).")
@click.option(
    "--interval",
    callback=_interval,
    metavar="DURATION",
    help="How often to poll it, like 15m (default: [defaults] interval).",
)
@click.option("--no-check", is_flag=True, help="Add URL as it is, without fetching it.")
@click.pass_context
def add(
    ctx: click.Context, url: str, name: str | None, interval: str | None, no_check: bool
) -> None:
    """Add a feed to the config file, after fetching it once to check that it is one.

    URL may also be a web page: the feed it advertises (<link rel="alternate">) is
    added. A page that advertises several gets them listed, with exit status 1: run
    the command again with the one you want. A URL already in the config is refused.
    The file keeps its comments and layout; the new [[feeds]] block goes after the
    last one.

    \b
    Example:
      newsmonitor feeds add https://example.org/news/feed.xml --name "Example News"
      newsmonitor feeds add https://example.org/ --interval 1h
    """
    path, cfg = load_config(ctx)
    if not feedlist.is_feed_url(url):
        raise click.BadParameter(f"{url!r} is not an http:// or https:// URL", param_hint="URL")
    feedlist.ensure_new(cfg.feeds, url, path)
    found = None
    if not no_check:
        vet = functools.partial(feedlist.ensure_new, cfg.feeds, where=path)
        checked = asyncio.run(feedcheck.check(url, cfg.network, vet))
        if isinstance(checked, list):
            for d in checked:
                title = f"  {one_line(d.title, 80)}" if d.title else ""
                click.echo(f"{d.url}  ({d.kind}){title}")
            raise FeedListError(
                f"{url} advertises {len(checked)} feeds; add one of them: newsmonitor feeds add"
                " FEED_URL."
            )
        found = checked
        if found.page:
            click.echo(f"found {found.url} on {found.page}")
    new = NewFeed(url=found.url if found else url, name=name, interval=interval)
    saved = feedlist.add(path, [new])
    as_name = f' as "{one_line(name, 70)}"' if name else ""
    if found is None:
        about = "not checked"
    else:
        title = f'title "{one_line(found.title, 70)}", ' if found.title else ""
        about = f"checked: {title}{plural(found.entries, 'entry', 'entries')}"
    total = plural(len(saved.feeds), "feed")
    click.echo(f"added {new.url}{as_name} to {path} ({about}); {total} in all")
    if found is not None and found.problem:
        click.echo(f"note: {found.problem}; it is read all the same")
    click.echo(RELOAD_HINT)


@feeds_group.command("remove")
@config_option
@click.argument("url_or_name")
@click.pass_context
def remove(ctx: click.Context, url_or_name: str) -> None:
    """Remove a feed, given by its URL or its name, from the config file.

    Only its [[feeds]] block goes (with the comments inside it and right above it);
    the rest of the file stays as it is. Its stored entries and hits stay in the
    database.

    \b
    Example:
      newsmonitor feeds remove https://example.org/news/feed.xml
      newsmonitor feeds remove "Example News"
    """
    path, _ = load_config(ctx)
    gone = feedlist.remove(path, url_or_name)
    name = f' ("{one_line(gone.name, 70)}")' if gone.name else ""
    click.echo(f"removed {gone.url}{name} from {path}")
    click.echo("its stored entries and hits stay in the database")
    click.echo(RELOAD_HINT)


@feeds_group.command("import")
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say what would be added; change nothing.")
@click.pass_context
def import_(ctx: click.Context, file: Path, dry_run: bool) -> None:
    """Add the feeds of an OPML file (OPML 1.0 or 2.0, folders to any depth).

    Each outline with an xmlUrl becomes a [[feeds]] block, named after its title (or
    text); feeds already in the config are left out, as are outlines without xmlUrl.
    An OPML file that declares XML entities is refused.

    \b
    Example:
      newsmonitor feeds import subscriptions.opml --dry-run
      newsmonitor feeds import subscriptions.opml
    """
    path, cfg = load_config(ctx)
    listed = opml.read_opml(file.read_bytes(), str(file))
    plan = feedlist.plan_import(listed, [f.url for f in cfg.feeds])
    verb = "would add" if dry_run else "added"
    if plan.add and not dry_run:
        feedlist.add(path, plan.add)
    for new in plan.add:
        click.echo(f"{verb} {new.url}" + (f"  {one_line(new.name, 70)}" if new.name else ""))
    for url in plan.refused:
        click.echo(f"skipped {one_line(url, 110)}: not an http:// or https:// URL")
    summary = [
        f"{verb} {plural(len(plan.add), 'feed')}",
        f"{len(plan.present)} already there",
        f"{plan.without_url} skipped without xmlUrl",
    ]
    if plan.refused:
        summary.append(f"{len(plan.refused)} skipped as not http(s)")
    click.echo(", ".join(summary) + (f" ({path} not changed)" if dry_run else ""))
    if plan.add and not dry_run:
        click.echo(RELOAD_HINT)


@feeds_group.command("export")
@config_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the OPML to this file (default: standard output).",
)
@click.pass_context
def export(ctx: click.Context, output: Path | None) -> None:
    """Write the configured feeds as OPML 2.0, for another feed reader or a backup.

    Each feed is titled with its name in the config, else the title it gave itself
    when last polled (from the database), else its URL.

    \b
    Example:
      newsmonitor feeds export > feeds.opml
      newsmonitor feeds export --output /tmp/feeds.opml
    """
    _, cfg = load_config(ctx)
    try:
        with open_database(cfg.database.url) as db, db.transaction() as s:
            stored = feeds.titles(s)
    except StoreError as exc:
        click.echo(f"warning: feed titles are taken from the config only: {exc}", err=True)
        stored = {}
    listed = [(f.url, f.name or stored.get(f.url)) for f in cfg.feeds]
    text = opml.write_opml(listed, datetime.now(UTC))
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FeedListError(f"cannot write {output} ({exc.strerror}).") from None
    click.echo(f"exported {plural(len(listed), 'feed')} to {output}")
