"""Trying a query out (``newsmonitor match``): a text as an entry, and one JSON line in,
one JSON object out, with no config and no database."""

from __future__ import annotations

import json
from typing import Any

from monitor.match.compiler import CompiledMatcher
from monitor.match.query import Node, QueryError, parse
from monitor.match.rules import literal
from monitor.records import ParsedEntry, RuleMatch
from monitor.text import html_to_text, looks_like_html

# Distinct queries kept compiled while checking JSON lines.
QUERY_CACHE = 1000
PROBE = "query"


def text_entry(text: str) -> ParsedEntry:
    """A text as an entry: its first line is the title, the rest the summary.

    An HTML text is made plain first and is all summary.
    """
    if looks_like_html(text):
        return entry(summary=html_to_text(text))
    lines = text.strip().splitlines()
    if not lines:
        return entry()
    return entry(title=lines[0], summary="\n".join(lines[1:]))


def entry(title: str = "", summary: str = "", content: str = "", **extra: Any) -> ParsedEntry:
    """A bare entry with these fields (``link``, ``author``, ``categories``, ``feed_title``
    may be given too)."""
    return ParsedEntry(
        identity="probe",
        title=title,
        link=extra.get("link"),
        author=extra.get("author"),
        published=None,
        summary=summary,
        content=content,
        categories=tuple(extra.get("categories") or ()),
        feed_title=extra.get("feed_title"),
    )


def compile_query(query: str, exact: bool = False) -> CompiledMatcher:
    """A matcher for one query.

    Raises:
        QueryError: the query does not parse.
    """
    node: Node = parse(query)
    return CompiledMatcher([(PROBE, literal(node) if exact else node)])


class QueryCache:
    """Compiled queries by text, so a file of lines that share queries compiles each once."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, bool], CompiledMatcher | QueryError] = {}

    def get(self, query: str, exact: bool) -> CompiledMatcher:
        """The compiled query.

        Raises:
            QueryError: the query does not parse (remembered, so it is not parsed again).
        """
        key = (query, exact)
        if key not in self._compiled:
            if len(self._compiled) >= QUERY_CACHE:
                self._compiled.clear()
            try:
                self._compiled[key] = compile_query(query, exact)
            except QueryError as exc:
                self._compiled[key] = exc
        found = self._compiled[key]
        if isinstance(found, QueryError):
            raise found
        return found


def result(found: RuleMatch | None) -> dict[str, Any]:
    """A match as ``newsmonitor match --jsonl`` writes it."""
    if found is None:
        return {"match": False, "terms": [], "snippet": None, "field": None, "marks": []}
    return {
        "match": True,
        "terms": list(found.terms),
        "snippet": found.snippet,
        "field": found.field,
        "marks": [list(m) for m in found.marks],
    }


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be a string')
    return value


def check_line(line: str, cache: QueryCache, default_query: str | None = None) -> dict[str, Any]:
    """One JSON line ``{"query", "title", "summary", "content"}`` checked; never raises."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        return {"error": f"the line is not JSON ({exc})"}
    if not isinstance(data, dict):
        return {"error": "the line is not a JSON object"}
    query = data.get("query", default_query)
    if not isinstance(query, str):
        return {"error": 'the line has no "query" string'}
    exact = data.get("exact", False)
    if not isinstance(exact, bool):
        return {"error": '"exact" must be true or false'}
    try:
        matcher = cache.get(query, exact)
        fields = {k: _text(data, k) for k in ("title", "summary", "content")}
        author = _text(data, "author") or None
        link = _text(data, "link") or None
    except (QueryError, ValueError) as exc:
        return {"error": str(exc)}
    found = matcher.match(entry(**fields, author=author, link=link))
    return result(found[0] if found else None)
