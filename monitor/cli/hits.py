"""``hits``: list what the rules found."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from monitor.cli import cli, config_option, format_option, load_config
from monitor.config import parse_duration
from monitor.store import hits as hits_store
from monitor.store.db import open_database
from monitor.store.hits import StoredHit
from monitor.text import one_line

FIELDS = (
    "id",
    "rule",
    "terms",
    "snippet",
    "marks",
    "title",
    "link",
    "published",
    "feed",
    "feed_name",
    "found_at",
)


def parse_since(value: str, now: datetime) -> datetime:
    """``2d`` (a duration back from now) or a date / ISO 8601 time (UTC unless it says).

    Raises:
        click.BadParameter: neither.
    """
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a duration like 2d nor a date like 2026-11-20",
            param_hint="--since",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_record(hit: StoredHit) -> dict[str, Any]:
    """A hit as the JSON and CSV outputs show it (times in ISO 8601)."""
    return {
        "id": hit.id,
        "rule": hit.rule,
        "terms": list(hit.terms),
        "field": hit.field,
        "snippet": hit.snippet,
        "marks": [list(m) for m in hit.marks],
        "title": hit.title,
        "link": hit.link,
        "published": hit.published.isoformat() if hit.published else None,
        "feed": hit.feed,
        "feed_name": hit.feed_name,
        "found_at": hit.found_at.isoformat(),
    }


@cli.command("hits")
@config_option
@click.option("--rule", help="Only hits of this rule.")
@click.option("--feed", help="Only hits from this feed (its URL, configured name or own title).")
@click.option("--since", help="Only hits found since: a duration (2d, 12h) or a date (2026-11-20).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (default: all).")
@format_option("table", "json", "csv")
@click.pass_context
def hits(
    ctx: click.Context,
    rule: str | None,
    feed: str | None,
    since: str | None,
    limit: int | None,
    fmt: str,
) -> None:
    """List stored hits, newest first.

    \b
    Examples:
      newsmonitor hits --rule dnipro --since 2d
      newsmonitor hits --format json --limit 20 | jq '.[].title'
    """
    since_at = parse_since(since, datetime.now(UTC)) if since else None
    _, cfg = load_config(ctx)
    with open_database(cfg.database.url) as db, db.transaction() as s:
        found = hits_store.search(s, rule=rule, feed=feed, since=since_at, limit=limit)
    records = [as_record(h) for h in found]
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=[*FIELDS, "field"], extrasaction="ignore")
        writer.writeheader()
        for r in records:
            marks = "; ".join(f"{a}-{b}" for a, b in r["marks"])
            writer.writerow({**r, "terms": "; ".join(r["terms"]), "marks": marks})
    else:
        _table(found)


def _table(found: list[StoredHit]) -> None:
    if not found:
        click.echo("no hits")
        return
    for h in found:
        when = h.found_at.strftime("%Y-%m-%d %H:%M")
        source = one_line(h.feed_name or h.feed, 30)
        click.echo(f"{when}  {one_line(h.rule, 20):<12} {source:<24} {one_line(h.title, 90)}")
        click.echo(
            f"{'':18}terms: {one_line(', '.join(h.terms), 80)}   {one_line(h.link or '', 100)}"
        )
        if h.snippet:
            click.echo(f"{'':18}{h.field}: {marked(h.snippet, h.marks, sys.stdout.isatty())}")


def marked(snippet: str, marks: tuple[tuple[int, int], ...], terminal: bool) -> str:
    """The snippet on one line with the matched text shown: bold and underlined on a
    terminal, else between [ and ]."""
    out, at = [], 0
    for start, end in sorted(marks):
        start, end = max(start, at), min(end, len(snippet))
        if start >= end:
            continue
        word = _clean(snippet[start:end])
        out.append(_clean(snippet[at:start]))
        out.append(click.style(word, bold=True, underline=True) if terminal else f"[{word}]")
        at = end
    out.append(_clean(snippet[at:]))
    return "".join(out)


def _clean(text: str) -> str:
    # Control characters (escape sequences) out, one for one, so marks stay in place.
    return "".join(" " if not c.isprintable() else c for c in text)
