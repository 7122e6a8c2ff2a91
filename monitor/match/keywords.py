"""Keyword and phrase matching: whole words, case-insensitive, on normalised text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config import RuleConfig
from monitor.records import ParsedEntry, RuleMatch
from monitor.text import normalise

FIELDS = ("title", "summary", "content")
SNIPPET_CHARS = 200
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Term:
    """One keyword or phrase; ``text`` is how the rule wrote it (quotes removed)."""

    text: str
    pattern: re.Pattern[str]


def compile_term(keyword: str) -> Term:
    """A keyword as a whole-word pattern; several words form a phrase.

    The words of a phrase may be separated by any run of spaces, punctuation or line
    breaks, so ``"peace talks"`` finds "peace\\ntalks" and "peace-talks".

    Raises:
        ValueError: the keyword has no word characters.
    """
    text = keyword.strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1].strip()
    words = _WORD.findall(normalise(text))
    if not words:
        raise ValueError(f"the term {keyword!r} has no letters or digits")
    body = r"\W+".join(re.escape(w) for w in words)
    return Term(text=text, pattern=re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE))


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    terms: tuple[Term, ...]
    exclude: tuple[Term, ...]


class KeywordMatcher:
    """Matches each rule's keywords (any) and exclusions (none) against an entry."""

    def __init__(self, rules: Sequence[RuleConfig]) -> None:
        self._rules = tuple(
            _Rule(
                name=rule.name,
                terms=tuple(compile_term(k) for k in rule.keywords),
                exclude=tuple(compile_term(k) for k in rule.exclude),
            )
            for rule in rules
        )

    def match(self, entry: ParsedEntry) -> list[RuleMatch]:
        """Every rule the entry matches, with the terms found and a snippet."""
        fields = {name: normalise(getattr(entry, name)) for name in FIELDS}
        results = []
        for rule in self._rules:
            if any(t.pattern.search(text) for t in rule.exclude for text in fields.values()):
                continue
            found: list[str] = []
            first: tuple[int, int, int, str] | None = None  # field order, start, end, field
            for term in rule.terms:
                for order, name in enumerate(FIELDS):
                    m = term.pattern.search(fields[name])
                    if m is None:
                        continue
                    if term.text not in found:
                        found.append(term.text)
                    hit = (order, m.start(), m.end(), name)
                    if first is None or hit[:2] < first[:2]:
                        first = hit
                    break
            if first is not None:
                order, start, end, name = first
                results.append(
                    RuleMatch(
                        rule=rule.name,
                        terms=tuple(found),
                        field=name,
                        snippet=snippet(fields[name], start, end),
                    )
                )
        return results


def snippet(text: str, start: int, end: int, size: int = SNIPPET_CHARS) -> str:
    """About ``size`` characters of ``text`` around ``[start, end)``, cut at spaces."""
    if len(text) <= size:
        return text
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
    return ("…" if left > 0 else "") + text[left:right].strip() + ("…" if right < len(text) else "")
