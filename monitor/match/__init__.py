"""Matching entries against rules: a pure module behind the :class:`Matcher` protocol.

``compile_rules`` is the one entry point; the keyword matcher in :mod:`.keywords` is the
current implementation and can be replaced without touching the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitor.config import RuleConfig
from monitor.match.keywords import KeywordMatcher
from monitor.records import ParsedEntry, RuleMatch


class Matcher(Protocol):
    """Tells which rules an entry matches."""

    def match(self, entry: ParsedEntry) -> list[RuleMatch]:
        """Every rule the entry matches, in rule order."""
        ...


def compile_rules(rules: Sequence[RuleConfig]) -> Matcher:
    """Compile all rules once, at start, to match many entries."""
    return KeywordMatcher(rules)


__all__ = ["Matcher", "compile_rules"]
