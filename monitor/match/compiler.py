"""All rules compiled together, once: a shared index from word keys to the rules using them.

Matching is on whole words, so the shared "automaton" is a hash index rather than a
string automaton: each word of an entry is looked up once (its keys, and its prefixes
when some rule has a ``prefix*``), whatever the number of rules; only the rules one of
whose words occurs are then evaluated exactly (:mod:`.evaluate`). The atoms a word hits
are remembered per distinct word, so the keys of a word (transliteration, stemming) are
computed once per process, not once per entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

from monitor.match.evaluate import (
    DEFAULT_FIELDS,
    DOMAIN,
    SCOPES,
    WORD_FIELDS,
    CAnd,
    CDomain,
    CNear,
    CNode,
    CNot,
    Context,
    COr,
    CPhrase,
    CRegex,
    CWord,
    evaluate,
    prepare,
    report,
)
from monitor.match.normalise import exact_key
from monitor.match.query import (
    And,
    Domain,
    Near,
    Node,
    Not,
    Phrase,
    Prefix,
    Regex,
    Scope,
    Word,
    term_text,
)
from monitor.match.variants import exact_forms, query_keys, text_keys
from monitor.records import ParsedEntry, RuleMatch

# Distinct words remembered with the atoms they hit; past this the memory starts afresh.
WORD_CACHE = 200_000


@dataclass(frozen=True, slots=True)
class Atom:
    """What one word of a query is compared with: ``keys`` (tagged, see :mod:`.variants`),
    a ``prefix`` of exact keys, or a ``domain``."""

    keys: tuple[str, ...] = ()
    prefix: str = ""
    domain: str = ""


class Atoms:
    """The atoms of all rules, each distinct one stored once."""

    def __init__(self) -> None:
        self.ids: dict[Atom, int] = {}
        self.list: list[Atom] = []

    def add(self, atom: Atom) -> int:
        if atom not in self.ids:
            self.ids[atom] = len(self.list)
            self.list.append(atom)
        return self.ids[atom]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    node: CNode
    terms: tuple[str, ...]
    fields: frozenset[int]


def compile_rule(name: str, query: Node, atoms: Atoms) -> CompiledRule:
    """One rule's query as evaluable nodes over shared atoms."""
    terms: list[str] = []
    used: set[int] = set()
    node = _compile(query, atoms, terms, DEFAULT_FIELDS, used)
    return CompiledRule(name, node, tuple(terms), frozenset(used))


def _compile(
    node: Node, atoms: Atoms, terms: list[str], fields: frozenset[int], used: set[int]
) -> CNode:
    if isinstance(node, Word | Prefix | Phrase | Regex | Domain):
        terms.append(term_text(node))
        term = len(terms) - 1
        used.update(fields)
        if isinstance(node, Word):
            return CWord(atoms.add(Atom(keys=query_keys(node.text, node.literal))), term, fields)
        if isinstance(node, Prefix):
            return CWord(atoms.add(Atom(prefix=exact_key(node.text))), term, fields)
        if isinstance(node, Phrase):
            ids = tuple(atoms.add(Atom(keys=query_keys(w.text, w.literal))) for w in node.words)
            return CPhrase(ids, term, fields)
        if isinstance(node, Regex):
            pattern = regex.compile(node.pattern, regex.IGNORECASE | regex.V0)
            return CRegex(pattern, term, fields)
        used.add(DOMAIN)
        return CDomain(atoms.add(Atom(domain=node.name)), node.name, term)
    if isinstance(node, Scope):
        return _compile(node.child, atoms, terms, SCOPES[node.field], used)
    if isinstance(node, Not):
        return CNot(_compile(node.child, atoms, terms, fields, used))
    if isinstance(node, Near):
        left = _compile(node.left, atoms, terms, fields, used)
        return CNear(left, _compile(node.right, atoms, terms, fields, used), node.distance)
    children = tuple(_compile(c, atoms, terms, fields, used) for c in node.children)
    return CAnd(children) if isinstance(node, And) else COr(children)


def _atoms_of(node: CNode) -> list[int]:
    if isinstance(node, CWord | CDomain):
        return [node.atom]
    if isinstance(node, CPhrase):
        return list(node.atoms)
    if isinstance(node, CRegex):
        return []
    if isinstance(node, CNot):
        return _atoms_of(node.child)
    if isinstance(node, CNear):
        return _atoms_of(node.left) + _atoms_of(node.right)
    return [a for c in node.children for a in _atoms_of(c)]


Rarity = Callable[[int], tuple[int, int]]


def triggers(node: CNode, rarity: Rarity) -> frozenset[int] | None:
    """Atoms of which at least one occurs whenever ``node`` holds; None if there are none.

    Where any of several would do (the words of a phrase, the sides of an AND), the set
    most likely to be rare is chosen: fewer atoms, then longer words.
    """
    if isinstance(node, CWord | CDomain):
        return frozenset({node.atom})
    if isinstance(node, CPhrase):
        return frozenset({max(node.atoms, key=rarity)})
    if isinstance(node, CNear):
        left, right = triggers(node.left, rarity), triggers(node.right, rarity)
        assert left is not None and right is not None  # NEAR sides are words or phrases
        return _rarest([left, right], rarity)
    if isinstance(node, CRegex | CNot):
        return None
    found = [triggers(c, rarity) for c in node.children]
    if isinstance(node, CAnd):
        known = [t for t in found if t is not None]
        return _rarest(known, rarity) if known else None
    if any(t is None for t in found):
        return None
    return frozenset().union(*(t for t in found if t is not None))


def _rarest(sets: list[frozenset[int]], rarity: Rarity) -> frozenset[int]:
    # Fewer atoms first, then the one whose most common atom is the least common.
    return min(
        sets, key=lambda t: (len(t), max(-r[0] for r in map(rarity, t)), -min(map(rarity, t))[1])
    )


class CompiledMatcher:
    """Every rule at once; the cost per entry grows with the words, hardly with the rules."""

    def __init__(self, rules: Sequence[tuple[str, Node]]) -> None:
        atoms = Atoms()
        self._rules = tuple(compile_rule(name, query, atoms) for name, query in rules)
        self._fields = frozenset().union(*(r.fields for r in self._rules))
        self._index: dict[str, list[int]] = {}
        self._prefixes: dict[str, list[int]] = {}
        self._domains: dict[str, list[int]] = {}
        for i, atom in enumerate(atoms.list):
            if atom.prefix:
                self._prefixes.setdefault(atom.prefix, []).append(i)
            elif atom.domain:
                self._domains.setdefault(atom.domain, []).append(i)
            for key in atom.keys:
                self._index.setdefault(key, []).append(i)
        self._prefix_lengths = sorted({len(p) for p in self._prefixes})
        self._atom_rules: list[list[int]] = [[] for _ in atoms.list]
        always = []
        # A word many rules use is likely a common one (a place, a topic); a word of one
        # rule is likely a name: the latter makes the better trigger. Longer breaks ties.
        uses = Counter(a for rule in self._rules for a in set(_atoms_of(rule.node)))

        def rarity(a: int) -> tuple[int, int]:
            atom = atoms.list[a]
            return -uses[a], len(atom.keys[0]) if atom.keys else len(atom.prefix or atom.domain)

        for r, rule in enumerate(self._rules):
            needed = triggers(rule.node, rarity)
            if needed is None:
                always.append(r)
            else:
                for a in needed:
                    self._atom_rules[a].append(r)
        self._always = frozenset(always)
        # Every distinct word met, and those that hit an atom with the atoms they hit.
        self._seen: set[str] = set()
        self._hits: dict[str, tuple[int, ...]] = {}
        self._hitting: set[str] = set()  # the keys of _hits, as a set for C-speed "&"

    def match(self, entry: ParsedEntry) -> list[RuleMatch]:
        """Every rule the entry matches, in rule order, with terms, field, snippet, marks."""
        prep = prepare(entry, self._fields)
        occ: dict[int, list[tuple[int, int]]] = {}
        hits, seen, hitting = self._hits, self._seen, self._hitting
        for f in WORD_FIELDS:
            words = prep.words[f]
            if not words:
                continue
            # Set operations run in C: most words of most fields hit nothing, and a word
            # seen before is not looked at again.
            distinct = set(words)
            for word in distinct - seen:
                self._learn(word)
            for word in distinct & hitting:
                # .get: another thread may have just emptied a full word memory.
                ids, pos = hits.get(word, ()), -1
                for _ in range(words.count(word)):
                    pos = words.index(word, pos + 1)
                    for a in ids:
                        if a in occ:
                            occ[a].append((f, pos))
                        else:
                            occ[a] = [(f, pos)]
        if self._domains and prep.host:
            labels = prep.host.split(".")
            for i in range(len(labels)):
                for a in self._domains.get(".".join(labels[i:]), ()):
                    occ[a] = [(DOMAIN, 0)]
        candidates = set(self._always)
        for a in occ:
            candidates.update(self._atom_rules[a])
        if not candidates:
            return []
        ctx = Context(prep, lambda a: occ.get(a, ()), lambda d: d.atom in occ)
        results = []
        for r in sorted(candidates):
            rule = self._rules[r]
            witnesses = evaluate(rule.node, ctx)
            if witnesses:
                results.append(report(rule.name, rule.terms, witnesses, prep))
        return results

    def _learn(self, word: str) -> None:
        ids: list[int] = []
        keys = text_keys(word)
        for key in keys:
            ids += self._index.get(key, ())
        if self._prefix_lengths:
            for form in exact_forms(keys):
                for n in self._prefix_lengths:
                    if n > len(form):
                        break
                    ids += self._prefixes.get(form[:n], ())
        if len(self._seen) >= WORD_CACHE:
            self._seen.clear()
            self._hits.clear()
            self._hitting.clear()
        self._seen.add(word)
        if ids:
            self._hits[word] = tuple(dict.fromkeys(ids))
            self._hitting.add(word)
