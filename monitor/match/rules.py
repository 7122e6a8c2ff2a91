"""A configured rule as one query: ``query``, or its ``keywords`` and ``exclude`` lists.

``keywords = ["a", "b c"]`` with ``exclude = ["x"]`` is the query ``(a OR "b c") AND NOT
x``; each keyword is one term of the query language, and a keyword with spaces is a
phrase whether it is quoted or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from monitor.match.query import (
    MAX_REGEX,
    MIN_PREFIX,
    And,
    Domain,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryError,
    Regex,
    Scope,
    Word,
    parse,
    words_term,
)

if TYPE_CHECKING:
    from monitor.config import RuleConfig


def keyword_term(keyword: str) -> Node:
    """One keyword as a term: ``"a phrase"``, ``/pattern/``, ``=literal``, ``prefix*``,
    a word, or several words (a phrase).

    Raises:
        QueryError: the keyword has no letters or digits, or is a bad prefix or pattern.
    """
    text = keyword.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    elif len(text) >= 3 and text[0] == text[-1] == "/":
        # Parsed as a one-term query so the pattern gets the same checks.
        node = parse(text)
        if len(text) - 2 > MAX_REGEX or not isinstance(node, Regex):
            raise QueryError(0, "one /pattern/", repr(keyword))
        return node
    elif text.startswith("=") or (text.endswith("*") and " " not in text):
        node = parse(text)
        if isinstance(node, Word | Phrase | Prefix):
            return node
        raise QueryError(0, f"one word, or one prefix of {MIN_PREFIX}+ letters", repr(keyword))
    term = words_term(text)
    if term is None:
        raise QueryError(0, "a keyword with letters or digits", repr(keyword))
    return term


def _any(nodes: Sequence[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))


def rule_query(rule: RuleConfig) -> Node:
    """The query a rule stands for.

    Raises:
        QueryError: as :func:`parse` and :func:`keyword_term` (config validation has
            already refused such rules).
    """
    node = parse(rule.query) if rule.query else _any([keyword_term(k) for k in rule.keywords])
    if rule.exclude:
        node = And((node, Not(_any([keyword_term(k) for k in rule.exclude]))))
    return literal(node) if rule.exact else node


def literal(node: Node) -> Node:
    """The query with every word literal: no spelling variants, no inflection."""
    if isinstance(node, Word):
        return replace(node, literal=True)
    if isinstance(node, Phrase):
        return replace(node, words=tuple(replace(w, literal=True) for w in node.words))
    if isinstance(node, Prefix | Regex | Domain):
        return node
    if isinstance(node, Scope):
        return replace(node, child=literal(node.child))
    if isinstance(node, Not):
        return Not(literal(node.child))
    if isinstance(node, Near):
        return Near(literal(node.left), literal(node.right), node.distance)
    if isinstance(node, And):
        return And(tuple(literal(c) for c in node.children))
    return Or(tuple(literal(c) for c in node.children))
