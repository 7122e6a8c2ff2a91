"""``match``: try a query on a text, a saved feed or a live feed, or check JSON lines."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from monitor import fetch
from monitor.cli import cli
from monitor.cli.hits import marked
from monitor.connections import Connections
from monitor.match.probe import QueryCache, check_line, compile_query, text_entry
from monitor.match.query import QueryError
from monitor.netguard import AddressPolicy
from monitor.parse import parse_feed
from monitor.text import one_line


@cli.command("match")
@click.argument("query", required=False)
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Match the entries of a saved RSS or Atom file.",
)
@click.option("--url", help="Fetch this feed now and match its entries.")
@click.option(
    "--allow",
    multiple=True,
    help="A non-public host or network --url may fetch from (like [network] allow).",
)
@click.option(
    "--exact", is_flag=True, help="No spelling variants or inflection (like exact = true)."
)
@click.option("--all", "show_all", is_flag=True, help="List the entries that do not match too.")
@click.option(
    "--jsonl",
    is_flag=True,
    help='Read JSON lines {"query", "title", "summary", "content"} on standard input and '
    'write one {"match", "terms", "snippet", ...} line for each.',
)
@click.pass_context
def match(
    ctx: click.Context,
    query: str | None,
    file: Path | None,
    url: str | None,
    allow: tuple[str, ...],
    exact: bool,
    show_all: bool,
    jsonl: bool,
) -> None:
    """Show what QUERY matches and why: the terms found, the field, the snippet.

    Reads a text on standard input (its first line is the title), or the entries of a
    feed with --file or --url. Needs no config file and no database. The matched text
    is shown between [ and ] (highlighted on a terminal).

    With --jsonl, each input line is checked on its own ("query" may be left out when
    QUERY is given); a line that is not valid, or whose query does not parse, gets
    {"error": "..."} and the next line is read.

    \b
    Example:
      echo "Обстріл у Дніпропетровській області" | newsmonitor match Dnipropetrovsk
      newsmonitor match --file saved.rss 'title:(Kyiv OR Kharkiv) -football'
      newsmonitor match --url https://example.org/feed.xml '"peace talks" NEAR/5 Geneva'
      echo '{"query": "ceasefir*", "title": "Ceasefire holds"}' | newsmonitor match --jsonl
    """
    if jsonl:
        _jsonl(query)
        return
    if query is None:
        raise click.UsageError("give a QUERY (or --jsonl)")
    if file and url:
        raise click.UsageError("give --file or --url, not both")
    try:
        matcher = compile_query(query, exact)
    except QueryError as exc:
        click.echo(f"error: {exc}.", err=True)
        ctx.exit(2)
    if file is not None:
        entries = list(parse_feed(file.read_bytes(), file.resolve().as_uri()).entries)
    elif url is not None:
        entries = list(parse_feed(*_fetch(url, allow)).entries)
    else:
        entries = [text_entry(sys.stdin.read())]
    terminal = sys.stdout.isatty()
    matched = 0
    for e in entries:
        found = matcher.match(e)
        title = one_line(e.title or "(untitled entry)", 100)
        if not found:
            if show_all or len(entries) == 1:
                click.echo(f"no match: {title}" if file or url else "no match")
            continue
        matched += 1
        (m,) = found
        if file or url:
            click.echo(f"match: {title}")
        click.echo(f"  terms: {', '.join(m.terms)}")
        click.echo(f"  {m.field}: {marked(m.snippet, m.marks, terminal)}")
    if file or url:
        click.echo(f"{matched} of {len(entries)} entries match")


def _fetch(url: str, allow: tuple[str, ...]) -> tuple[bytes, str, str | None]:
    async def get() -> tuple[bytes, str, str | None]:
        policy = AddressPolicy.allowing(allow)
        async with fetch.Fetcher(Connections(1), fetch.FetchLimits(), policy) as fetcher:
            result = await fetcher.fetch(url)
        return result.body, url, result.content_type

    return asyncio.run(get())


def _jsonl(default_query: str | None) -> None:
    cache = QueryCache()
    for line in sys.stdin:
        answer = check_line(line, cache, default_query)
        click.echo(json.dumps(answer, ensure_ascii=False))
