"""Hits: which rule matched which entry, and listing them for users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from monitor.records import RuleMatch
from monitor.store.tables import Entry, Feed, Hit


@dataclass(frozen=True, slots=True)
class StoredHit:
    """A hit joined with its entry and feed, as ``newsmonitor hits`` shows it."""

    id: int
    rule: str
    terms: tuple[str, ...]
    field: str
    snippet: str
    marks: tuple[tuple[int, int], ...]
    title: str
    link: str | None
    published: datetime | None
    feed: str
    feed_name: str | None
    found_at: datetime


def add(session: Session, found: Sequence[tuple[int, Sequence[RuleMatch]]], now: datetime) -> None:
    """Store the rules entries matched: (entry id, its matches) pairs, one row per rule,
    in one statement."""
    rows = [
        {
            "entry_id": entry_id,
            "rule": m.rule,
            "terms": list(m.terms),
            "field": m.field,
            "snippet": m.snippet,
            "marks": [list(mark) for mark in m.marks],
            "found_at": now,
        }
        for entry_id, matches in found
        for m in matches
    ]
    if rows:
        session.connection().execute(insert(Hit), rows)  # Core, as entries.add


def for_entry(session: Session, entry_id: int, rules: Sequence[str]) -> list[RuleMatch]:
    """The stored matches of one entry for the given rules, in that order."""
    rows = {
        h.rule: h
        for h in session.scalars(
            select(Hit).where(Hit.entry_id == entry_id, Hit.rule.in_(list(rules)))
        )
    }
    return [_rule_match(rows[r]) for r in rules if r in rows]


def _marks(hit: Hit) -> tuple[tuple[int, int], ...]:
    return tuple((int(a), int(b)) for a, b in hit.marks or ())


def _rule_match(hit: Hit) -> RuleMatch:
    return RuleMatch(
        rule=hit.rule,
        terms=tuple(hit.terms),
        field=hit.field,
        snippet=hit.snippet,
        marks=_marks(hit),
    )


def search(
    session: Session,
    *,
    rule: str | None = None,
    feed: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[StoredHit]:
    """Stored hits, newest first; ``feed`` is a feed's URL, configured name or own title."""
    query = (
        select(Hit, Entry, Feed)
        .join(Entry, Hit.entry_id == Entry.id)
        .join(Feed, Entry.feed_id == Feed.id)
    )
    if rule is not None:
        query = query.where(Hit.rule == rule)
    if feed is not None:
        query = query.where(or_(Feed.url == feed, Feed.name == feed, Feed.title == feed))
    if since is not None:
        query = query.where(Hit.found_at >= since)
    query = query.order_by(Hit.found_at.desc(), Hit.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [
        StoredHit(
            id=h.id,
            rule=h.rule,
            terms=tuple(h.terms),
            field=h.field,
            snippet=h.snippet,
            marks=_marks(h),
            title=e.title,
            link=e.link,
            published=e.published,
            feed=f.url,
            feed_name=f.name or f.title,
            found_at=h.found_at,
        )
        for h, e, f in session.execute(query).all()
    ]
