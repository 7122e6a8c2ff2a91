"""Precision and recall of matching on a labelled set of queries and entries.

``tests/data/labelled_queries.jsonl`` holds (query, entry, should match) cases in English,
Ukrainian and Russian, in four categories: ``plain`` (words, phrases, operators in one
script), ``normalisation`` (HTML, entities, NFKC, joiners, accents, look-alikes,
apostrophes, hyphens), ``cross-script`` (Latin and Cyrillic spellings, romanisations)
and ``inflection`` (inflected forms in one script). Hard negatives are cases that look
close but should not match; a ``note`` tells why a case is there or that it is a known
miss. Run this file as a script to print the table that docs/queries.md reports:

    .venv/bin/python -m tests.test_query_labelled
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitor.match.probe import compile_query, entry

DATA = Path(__file__).parent / "data" / "labelled_queries.jsonl"
CASES: list[dict[str, Any]] = [
    json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()
]
# (precision, recall) at least, per category.
TARGETS = {
    "plain": (1.0, 1.0),
    "normalisation": (1.0, 1.0),
    "cross-script": (0.97, 0.95),
    "inflection": (0.97, 0.95),
}


def outcome(case: dict[str, Any]) -> str:
    found = compile_query(case["query"]).match(entry(title=case["title"], summary=case["summary"]))
    if case["match"]:
        return "tp" if found else "fn"
    return "fp" if found else "tn"


def scores() -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = {}
    for case in CASES:
        table.setdefault(case["category"], Counter())[outcome(case)] += 1
    return table


def precision(c: Counter[str]) -> float:
    return c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0


def recall(c: Counter[str]) -> float:
    return c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0


def test_the_set_is_large_and_covers_three_languages_and_hard_negatives() -> None:
    assert len(CASES) >= 300
    assert {c["lang"] for c in CASES} == {"en", "uk", "ru"}
    assert set(Counter(c["category"] for c in CASES)) == set(TARGETS)
    for category in TARGETS:
        negatives = [c for c in CASES if c["category"] == category and not c["match"]]
        assert len(negatives) >= 8, category
    for c in CASES:
        assert set(c) <= {"category", "lang", "query", "title", "summary", "match", "note"}


@pytest.mark.parametrize("category", sorted(TARGETS))
def test_precision_and_recall_meet_the_targets(category: str) -> None:
    counts = scores()[category]
    want_p, want_r = TARGETS[category]
    misses = [
        (c["query"], c["title"], outcome(c))
        for c in CASES
        if c["category"] == category and outcome(c) in ("fp", "fn")
    ]
    assert precision(counts) >= want_p, misses
    assert recall(counts) >= want_r, misses


def test_every_miss_is_a_known_one() -> None:
    # A case that fails must say so in its note; a new failure is a regression.
    unexplained = [
        (c["query"], c["title"])
        for c in CASES
        if outcome(c) in ("fp", "fn") and "known" not in c.get("note", "")
    ]
    assert unexplained == []


def main() -> None:
    print("| category | cases | positives | hard negatives | precision | recall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for category, c in sorted(scores().items()):
        total = sum(c.values())
        print(
            f"| {category} | {total} | {c['tp'] + c['fn']} | {c['tn'] + c['fp']} "
            f"| {precision(c):.3f} | {recall(c):.3f} |"
        )


if __name__ == "__main__":
    main()
