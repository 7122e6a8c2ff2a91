"""Matching entries against rules: a pure package behind the :class:`Matcher` protocol.

``compile_rules`` is the one entry point for the pipeline. Inside: :mod:`.query` parses
the query language, :mod:`.normalise` and :mod:`.variants` turn words into keys (case,
accents, look-alikes, scripts, inflection), :mod:`.rules` reads a configured rule as a
query, :mod:`.compiler` indexes all rules together and :mod:`.evaluate` evaluates one
rule and builds the hit; :mod:`.naive` is the rule-by-rule reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from monitor.match.compiler import CompiledMatcher
from monitor.match.query import Node, QueryError, parse
from monitor.match.rules import keyword_term, rule_query
from monitor.records import ParsedEntry, RuleMatch

if TYPE_CHECKING:
    from monitor.config import RuleConfig


class Matcher(Protocol):
    """Tells which rules an entry matches."""

    def match(self, entry: ParsedEntry) -> list[RuleMatch]:
        """Every rule the entry matches, in rule order."""
        ...


RuleQueries = tuple[tuple[str, Node], ...]


def rule_queries(rules: Sequence[RuleConfig]) -> RuleQueries:
    """Each rule's name and query: what a matcher is compiled from (here, or in a parser
    process, where the config's models are not imported)."""
    return tuple((rule.name, rule_query(rule)) for rule in rules)


def compile_rules(rules: Sequence[RuleConfig]) -> Matcher:
    """Compile all rules together, once, to match many entries."""
    return CompiledMatcher(rule_queries(rules))


__all__ = [
    "Matcher",
    "QueryError",
    "RuleQueries",
    "compile_rules",
    "keyword_term",
    "parse",
    "rule_queries",
    "rule_query",
]
