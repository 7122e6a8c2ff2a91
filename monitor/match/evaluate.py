"""Evaluating a compiled query against one prepared entry, and reporting the match.

A node evaluates to ``None`` (false) or to its *witnesses*: the occurrences of the terms
that made it true (``NOT x`` is true with none). The witnesses give the terms reported,
the field, the snippet and the marks. Where the occurrences of a word come from is the
caller's business (:class:`Context`): the compiled matcher reads them from its shared
index, the naive one scans the words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

import regex

from monitor.match.normalise import APOSTROPHES, TOKEN, display_of
from monitor.records import ParsedEntry, RuleMatch

log = logging.getLogger(__name__)

FIELD_NAMES: Final = ("title", "summary", "content", "author", "category", "feed", "domain")
TITLE, SUMMARY, CONTENT, AUTHOR, CATEGORY, FEED, DOMAIN = range(7)
WORD_FIELDS: Final = (TITLE, SUMMARY, CONTENT, AUTHOR, CATEGORY, FEED)
DEFAULT_FIELDS: Final = frozenset({TITLE, SUMMARY, CONTENT})
SCOPES: Final = {
    "title": frozenset({TITLE}),
    "summary": frozenset({SUMMARY, CONTENT}),
    "author": frozenset({AUTHOR}),
    "category": frozenset({CATEGORY}),
    "feed": frozenset({FEED}),
}
SNIPPET_CHARS = 200
# A pattern gets this long per field and entry; past it, it counts as not found.
REGEX_TIMEOUT = 0.05
REGEX_MAX_HITS = 20
# Apostrophe and hyphen variants read as ' and - by /patterns/ (one character for one,
# so positions still point into the display text).
_UNIFY = str.maketrans(
    {**dict.fromkeys(APOSTROPHES + "\u02bc", "'"), **dict.fromkeys("‐‑‒–—―−﹣－", "-")}
)

# field, first, last, term, chars: a run of words [first, last], or with chars=True a
# character range [first, last) (patterns, domains).
Occ = tuple[int, int, int, int, bool]


@dataclass(slots=True)
class Prepared:
    """One entry's fields as display texts and words (spans and pattern texts on demand)."""

    texts: tuple[str, ...]
    words: tuple[list[str], ...]
    host: str
    _starts: dict[int, list[int]] = field(default_factory=dict)
    _unified: dict[int, str] = field(default_factory=dict)

    def span(self, f: int, i: int) -> tuple[int, int]:
        """Where the ``i``-th word of field ``f`` is (all of a field's found at once)."""
        if f not in self._starts:
            # Found again only for the few fields a rule matched: most are never asked.
            self._starts[f] = [m.start() for m in TOKEN.finditer(self.texts[f])]
        start = self._starts[f][i]
        return start, start + len(self.words[f][i])

    def unified(self, f: int) -> str:
        if f not in self._unified:
            self._unified[f] = self.texts[f].translate(_UNIFY)
        return self._unified[f]


def host_of(link: str | None) -> str:
    """The link's host in lower case, without ``www.``; empty when there is none."""
    if not link:
        return ""
    try:
        host = urlsplit(link.strip()).hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


def prepare(entry: ParsedEntry, fields: frozenset[int] = frozenset(range(7))) -> Prepared:
    """Display texts and words of an entry's ``fields`` (the others are left empty)."""
    raw = (
        entry.title,
        entry.summary,
        entry.content,
        entry.author,
        ", ".join(entry.categories),
        entry.feed_title,
    )
    texts = tuple(display_of(t) if f in fields else "" for f, t in enumerate(raw))
    link = (entry.link or "") if DOMAIN in fields else ""
    words = [TOKEN.findall(t) if t else [] for t in texts]
    return Prepared((*texts, link), (*words, []), host_of(link))


# -- compiled nodes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CWord:
    atom: int
    term: int
    fields: frozenset[int]


@dataclass(frozen=True, slots=True)
class CPhrase:
    atoms: tuple[int, ...]
    term: int
    fields: frozenset[int]


@dataclass(frozen=True, slots=True)
class CRegex:
    pattern: regex.Pattern[str]
    term: int
    fields: frozenset[int]


@dataclass(frozen=True, slots=True)
class CDomain:
    atom: int
    name: str
    term: int


@dataclass(frozen=True, slots=True)
class CNot:
    child: CNode


@dataclass(frozen=True, slots=True)
class CAnd:
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True)
class COr:
    children: tuple[CNode, ...]


@dataclass(frozen=True, slots=True)
class CNear:
    left: CNode
    right: CNode
    distance: int


CNode = CWord | CPhrase | CRegex | CDomain | CNot | CAnd | COr | CNear


@dataclass(slots=True)
class Context:
    """What evaluation needs of one entry: its fields, and where each word atom occurs."""

    prepared: Prepared
    occurrences: Callable[[int], Sequence[tuple[int, int]]]
    domain_hit: Callable[[CDomain], bool]
    _sets: dict[int, set[tuple[int, int]]] = field(default_factory=dict)

    def occurrence_set(self, atom: int) -> set[tuple[int, int]]:
        if atom not in self._sets:
            self._sets[atom] = set(self.occurrences(atom))
        return self._sets[atom]


def evaluate(node: CNode, ctx: Context) -> list[Occ] | None:
    """The witnesses of ``node`` in the entry, or None when it does not hold."""
    if isinstance(node, CWord):
        found: list[Occ] = [
            (f, p, p, node.term, False) for f, p in ctx.occurrences(node.atom) if f in node.fields
        ]
        return found or None
    if isinstance(node, CPhrase):
        return _phrase(node, ctx) or None
    if isinstance(node, CAnd):
        out: list[Occ] = []
        for child in node.children:
            got = evaluate(child, ctx)
            if got is None:
                return None
            out += got
        return out
    if isinstance(node, COr):
        result: list[Occ] | None = None
        for child in node.children:
            got = evaluate(child, ctx)
            if got is not None:
                result = (result or []) + got
        return result
    if isinstance(node, CNot):
        return [] if evaluate(node.child, ctx) is None else None
    if isinstance(node, CNear):
        return _near(node, ctx) or None
    if isinstance(node, CRegex):
        return _regex(node, ctx) or None
    return (
        [(DOMAIN, 0, len(ctx.prepared.texts[DOMAIN]), node.term, True)]
        if (ctx.domain_hit(node))
        else None
    )


def _phrase(node: CPhrase, ctx: Context) -> list[Occ]:
    first, *rest = node.atoms
    out: list[Occ] = []
    if not all(ctx.occurrences(a) for a in rest):
        return out
    for f, p in ctx.occurrences(first):
        if f in node.fields and all(
            (f, p + i) in ctx.occurrence_set(a) for i, a in enumerate(rest, 1)
        ):
            out.append((f, p, p + len(rest), node.term, False))
    return out


def _near(node: CNear, ctx: Context) -> list[Occ]:
    left, right = evaluate(node.left, ctx) or [], evaluate(node.right, ctx) or []
    out: dict[Occ, None] = {}
    for a in left:
        for b in right:
            if a[0] != b[0]:
                continue
            gap = b[1] - a[2] - 1 if b[1] > a[2] else a[1] - b[2] - 1
            if 0 <= gap <= node.distance:
                out[a] = out[b] = None
    return list(out)


def _regex(node: CRegex, ctx: Context) -> list[Occ]:
    out: list[Occ] = []
    for f in sorted(node.fields):
        text = ctx.prepared.unified(f)
        if not text:
            continue
        try:
            for m in node.pattern.finditer(text, timeout=REGEX_TIMEOUT):
                if m.end() > m.start():
                    out.append((f, m.start(), m.end(), node.term, True))
                    if len(out) >= REGEX_MAX_HITS:
                        return out
        except TimeoutError:
            log.warning(
                "the pattern /%s/ took too long and counts as not found", node.pattern.pattern
            )
    return out


# -- reporting --------------------------------------------------------------------------


def report(rule: str, terms: Sequence[str], witnesses: list[Occ], prep: Prepared) -> RuleMatch:
    """The hit: terms in query order, the field and snippet of the first match, marks."""
    found: list[str] = []
    for term in sorted({w[3] for w in witnesses}):
        if terms[term] not in found:
            found.append(terms[term])
    places: set[tuple[int, int, int]] = set()
    span = prep.span
    for f, a, b, _, chars in witnesses:
        places.add((f, a, b) if chars else (f, span(f, a)[0], span(f, b)[1]))
    located = sorted(places)
    f, start, end = located[0]
    text = prep.texts[f]
    left, right = window(text, start, end)
    lead = "…" if left > 0 else ""
    snippet = lead + text[left:right] + ("…" if right < len(text) else "")
    marks: list[tuple[int, int]] = []
    for g, s, e in located:
        s, e = max(s, left), min(e, right)
        if g != f or s >= e:
            continue
        s, e = s - left + len(lead), e - left + len(lead)
        if marks and s <= marks[-1][1]:
            marks[-1] = (marks[-1][0], max(marks[-1][1], e))
        else:
            marks.append((s, e))
    return RuleMatch(
        rule=rule, terms=tuple(found), field=FIELD_NAMES[f], snippet=snippet, marks=tuple(marks)
    )


def window(text: str, start: int, end: int, size: int = SNIPPET_CHARS) -> tuple[int, int]:
    """About ``size`` characters of ``text`` around ``[start, end)``, cut at spaces."""
    if len(text) <= size:
        return 0, len(text)
    room = max(size - (end - start), 0)
    left = max(start - room // 3, 0)
    right = min(left + size, len(text))
    left = max(min(left, right - size), 0)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    while left < right and text[left] == " ":
        left += 1
    while right > left and text[right - 1] == " ":
        right -= 1
    return left, right


def snippet(text: str, start: int, end: int, size: int = SNIPPET_CHARS) -> str:
    """The text of :func:`window`, with … where it was cut."""
    left, right = window(text, start, end, size)
    return ("…" if left > 0 else "") + text[left:right] + ("…" if right < len(text) else "")
