"""The naive matcher: each rule evaluated in turn, each of its words looked for by scanning
the entry's words. The compiled matcher must agree with it; the benchmark measures how
much faster the shared index is. Not used in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from monitor.match.compiler import Atom, Atoms, compile_rule
from monitor.match.evaluate import WORD_FIELDS, CDomain, Context, evaluate, prepare, report
from monitor.match.query import Node
from monitor.match.variants import exact_forms, text_keys
from monitor.records import ParsedEntry, RuleMatch


@lru_cache(maxsize=100_000)
def _keys(word: str) -> tuple[frozenset[str], tuple[str, ...]]:
    # Keys are computed once per distinct word here too: the comparison is about the
    # per-rule evaluation, not about the cost of normalising.
    keys = text_keys(word)
    return frozenset(keys), exact_forms(keys)


class NaiveMatcher:
    """Evaluates every rule on its own; same results as :class:`CompiledMatcher`."""

    def __init__(self, rules: Sequence[tuple[str, Node]]) -> None:
        self._atoms = Atoms()
        self._rules = tuple(compile_rule(name, query, self._atoms) for name, query in rules)

    def match(self, entry: ParsedEntry) -> list[RuleMatch]:
        """Every rule the entry matches, in rule order."""
        prep = prepare(entry)
        keyed = [[_keys(w) for w in prep.words[f]] for f in WORD_FIELDS]
        results = []
        for rule in self._rules:
            # Nothing is shared between rules: each scans the words for its own atoms.
            found: dict[int, list[tuple[int, int]]] = {}

            def occurrences(
                a: int, found: dict[int, list[tuple[int, int]]] = found
            ) -> list[tuple[int, int]]:
                if a not in found:
                    found[a] = _scan(self._atoms.list[a], keyed)
                return found[a]

            def domain_hit(d: CDomain) -> bool:
                return prep.host == d.name or prep.host.endswith("." + d.name)

            witnesses = evaluate(rule.node, Context(prep, occurrences, domain_hit))
            if witnesses:
                results.append(report(rule.name, rule.terms, witnesses, prep))
        return results


def _scan(
    atom: Atom, keyed: list[list[tuple[frozenset[str], tuple[str, ...]]]]
) -> list[tuple[int, int]]:
    out = []
    for f, words in zip(WORD_FIELDS, keyed, strict=True):
        for pos, (keys, exact) in enumerate(words):
            if atom.prefix:
                if any(e.startswith(atom.prefix) for e in exact):
                    out.append((f, pos))
            elif not keys.isdisjoint(atom.keys):
                out.append((f, pos))
    return out
