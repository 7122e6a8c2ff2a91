"""The matcher: keyword rules as before, queries, fields, snippets and marks, and the
compiled matcher checked against a straightforward reference evaluation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import RuleConfig
from monitor.match import compile_rules
from monitor.match.compiler import CompiledMatcher
from monitor.match.evaluate import REGEX_TIMEOUT
from monitor.match.naive import NaiveMatcher
from monitor.match.normalise import display_text, exact_key, words
from monitor.match.probe import entry as probe_entry
from monitor.match.query import (
    And,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryError,
    Scope,
    Word,
    parse,
    term_text,
)
from monitor.match.variants import exact_forms, query_keys, text_keys
from monitor.records import ParsedEntry, RuleMatch


def entry(title: str = "", summary: str = "", content: str = "", **extra: Any) -> ParsedEntry:
    return probe_entry(title, summary, content, **extra)


def rule(
    name: str, *keywords: str, exclude: tuple[str, ...] = (), exact: bool = False
) -> RuleConfig:
    return RuleConfig(name=name, keywords=keywords, exclude=exclude, exact=exact)


def qrule(name: str, query: str, exact: bool = False) -> RuleConfig:
    return RuleConfig(name=name, query=query, exact=exact)


def match(rules: list[RuleConfig], **fields: Any) -> list[RuleMatch]:
    return compile_rules(rules).match(entry(**fields))


def matches(keyword: str, text: str) -> bool:
    return bool(match([rule("r", keyword)], title=text))


def query_matches(query: str, **fields: Any) -> bool:
    return bool(match([qrule("r", query)], **fields))


def marked(m: RuleMatch) -> list[str]:
    return [m.snippet[a:b] for a, b in m.marks]


# -- keywords: whole words, case, phrases (the first version's behaviour) -----------------


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("Dnipro", "Strikes on Dnipro overnight", True),
        ("Dnipro", "Strikes on Dnipropetrovsk overnight", False),
        ("Dnipropetrovsk", "Strikes on Dnipro overnight", False),
        ("Dnipropetrovsk", "Strikes on Dnipropetrovsk overnight", True),
        ("Dnipro", "Dnipro's mayor said", True),
        ("Dnipro", "(Dnipro)", True),
        ("Dnipro", "NovoDnipro", False),
        ("Dnipro", "Dnipro2", False),
        ("Dnipro", "Dnipro_city", False),
        ("war", "warning signs", False),
        ("war", "post-war plans", True),
        ("G7", "The G7 summit", True),
        ("G7", "The G77 group", False),
        ("ceasefire", "Ceasefires collapse", False),
    ],
)
def test_whole_words_only(keyword: str, text: str, expected: bool) -> None:
    assert matches(keyword, text) is expected


@pytest.mark.parametrize("text", ["DNIPRO", "dnipro", "DnIpRo", "Dnipro"])
def test_case_insensitive(text: str) -> None:
    assert matches("dnipro", f"News from {text} today")
    assert matches("DNIPRO", f"News from {text} today")


@pytest.mark.parametrize(
    "text",
    [
        "the peace talks began",
        "the peace-talks began",
        "the peace\ntalks began",
        "the peace   \t talks began",
        "the Peace, talks began",
        "the PEACE — TALKS began",
        "the peace…talks began",
    ],
)
def test_phrase_across_spaces_punctuation_and_line_breaks(text: str) -> None:
    assert matches('"peace talks"', text)
    assert matches("peace talks", text)


@pytest.mark.parametrize(
    "text",
    ["peace and talks", "peacetalks", "peace talksmith", "apeace talks", "talks peace"],
)
def test_phrase_needs_its_words_in_order_and_whole(text: str) -> None:
    assert not matches('"peace talks"', text)


def test_quoted_term_is_reported_without_quotes() -> None:
    (m,) = match([rule("r", '"peace talks"')], title="Peace talks now")
    assert m.terms == ("peace talks",)


@pytest.mark.parametrize("joiner", ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_invisible_character_inside_a_word(joiner: str) -> None:
    text = f"Shelling in Dnipro{joiner}petrovsk region"
    assert matches("Dnipropetrovsk", text)
    assert not matches("Dnipro", text)


def test_compatibility_forms_are_normalised() -> None:
    assert matches("Kyiv", "News from Ｋｙｉｖ")
    assert matches("first", "The ﬁrst convoy")


def test_accents_are_folded_on_both_sides() -> None:
    text = "Le cafe\u00ad\u0301 du coin"
    assert matches("café", text)
    assert matches("cafe", text)
    assert matches("Zurich", "Talks in Zürich")


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("Дніпро", "Обстріл у ДНІПРО вночі", True),
        ("Дніпро", "Обстріл у Дніпрі вночі", True),
        ("дніпро", "Обстріл у Дніпрі вночі", True),
        ("Дніпро", "Дніпропетровська область", False),
        ("Дніпропетровська область", "у Дніпропетровська\nобласть", True),
        ("Київ", "київ, вечір", True),
        ("Київ", "Київщина", False),
        ("Київ", "Київстар", False),
    ],
)
def test_cyrillic_keywords(keyword: str, text: str, expected: bool) -> None:
    assert matches(keyword, text) is expected


def test_keyword_forms_of_the_query_language() -> None:
    assert matches("ceasefir*", "Ceasefires collapse")
    assert matches("=Kyiv", "Kyiv")
    assert not matches("=Kyiv", "Kiev")
    assert matches("/\\d+ drones/", "45 drones shot down")
    assert matches("AND", "war and peace")  # a keyword is a word, never an operator


# -- variants: scripts, romanisations, inflection ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Обстріл у Дніпропетровській області",
        "Удар по Днепропетровской области",
        "Shelling in Dnipropetrovs'k oblast",
        "Dnepropetrovsk region",
        "Дніпропетровщина",
    ],
)
def test_dnipropetrovsk_in_every_writing(text: str) -> None:
    assert matches("Dnipropetrovsk", text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Kyiv", "Kiev"),
        ("Kharkiv", "Kharkov"),
        ("Zaporizhzhia", "Zaporozhye"),
        ("Odesa", "Odessa"),
        ("Київ", "Talks in Kiev"),
        ("Харків", "Kharkiv"),
    ],
)
def test_romanisations_and_the_other_script(query: str, text: str) -> None:
    assert matches(query, text)


def test_exact_rule_and_literal_word_turn_variants_off() -> None:
    assert not match([rule("r", "Kyiv", exact=True)], title="Київ")
    assert match([rule("r", "Kyiv", exact=True)], title="KYIV")
    assert not query_matches("=Dnipropetrovsk", title="Дніпропетровській")
    assert query_matches('"Dnipropetrovsk"', title="Дніпропетровській")


def test_english_words_get_no_variants() -> None:
    assert not matches("better", "Bitter cold")
    assert not matches("war", "Вар")


# -- rules, terms, fields, exclusions ----------------------------------------------------


def test_exclude_vetoes_the_rule_in_any_field() -> None:
    rules = [rule("dnipro", "Dnipropetrovsk", exclude=("football",))]
    assert match(rules, title="Dnipropetrovsk shelling") != []
    assert match(rules, title="Dnipropetrovsk football club wins") == []
    assert match(rules, title="Dnipropetrovsk club wins", content="A Football final.") == []
    assert match(rules, title="Dnipropetrovsk shelling", summary="footballer hurt") != []


def test_exclude_vetoes_only_its_own_rule() -> None:
    rules = [rule("a", "ceasefire", exclude=("football",)), rule("b", "ceasefire")]
    assert [m.rule for m in match(rules, title="Football ceasefire")] == ["b"]


def test_all_found_terms_in_rule_order() -> None:
    rules = [rule("r", "Kyiv", "ceasefire", "Dnipro", '"peace talks"', "absent")]
    (m,) = match(
        rules,
        title="Peace talks in Dnipro",
        summary="Ceasefire holds",
        content="Kyiv welcomes the peace talks. Dnipro again.",
    )
    assert m.terms == ("Kyiv", "ceasefire", "Dnipro", "peace talks")


def test_same_term_twice_is_listed_once() -> None:
    (m,) = match([rule("r", "Kyiv", '"Kyiv"', "snow", "Kyiv")], title="Snow in Kyiv")
    assert m.terms == ("Kyiv", "snow")


def test_rules_are_reported_in_rule_order() -> None:
    rules = [rule("z", "snow"), rule("a", "Kyiv"), rule("m", "nothing")]
    assert [m.rule for m in match(rules, title="First snow in Kyiv")] == ["z", "a"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": "Kyiv", "summary": "Kyiv", "content": "Kyiv"}, "title"),
        ({"title": "x", "summary": "Kyiv", "content": "Kyiv"}, "summary"),
        ({"title": "x", "summary": "y", "content": "Kyiv"}, "content"),
    ],
)
def test_field_is_the_first_one_in_title_summary_content_order(
    fields: dict[str, str], expected: str
) -> None:
    (m,) = match([rule("r", "Kyiv")], **fields)
    assert m.field == expected


def test_field_is_earliest_over_all_terms() -> None:
    (m,) = match([rule("r", "ceasefire", "Kyiv")], title="Kyiv news", content="ceasefire")
    assert m.field == "title"
    assert marked(m) == ["Kyiv"]
    assert m.terms == ("ceasefire", "Kyiv")


def test_no_match_gives_nothing() -> None:
    assert match([rule("r", "Kyiv")], title="Lviv", summary="Odesa", content="Kharkiv") == []


# -- the query language ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("Kyiv AND ceasefire", "Kyiv ceasefire", True),
        ("Kyiv AND ceasefire", "Kyiv", False),
        ("Kyiv ceasefire", "ceasefire in Kyiv", True),
        ("Kyiv OR Kharkiv", "Kharkiv", True),
        ("Kyiv OR Kharkiv ceasefire", "Kyiv", True),
        ("Kyiv OR Kharkiv ceasefire", "Kharkiv", False),
        ("(Kyiv OR Kharkiv) ceasefire", "Kharkiv ceasefire", True),
        ("NOT football Kyiv", "Kyiv", True),
        ("-football Kyiv", "Kyiv football", False),
        ("NOT football AND Kyiv OR Lviv", "Lviv football", True),
        ("ceasefire NEAR/0 talks", "ceasefire talks", True),
        ("ceasefire NEAR/0 talks", "talks ceasefire", True),
        ("ceasefire NEAR/0 talks", "ceasefire and talks", False),
        ("ceasefire NEAR/1 talks", "ceasefire and talks", True),
        ("ceasefire NEAR talks", "ceasefire a b c d e talks", True),
        ("ceasefire NEAR talks", "ceasefire a b c d e f talks", False),
        ('"peace talks" NEAR/2 Geneva', "peace talks in Geneva", True),
        ("(truce OR ceasefire) NEAR/1 holds", "the truce holds", True),
        ("ceasefir*", "Ceasefires", True),
        ("ceasefir*", "cease", False),
        ("/\\bU\\.?N\\.?\\b/", "U.N. envoy", True),
        ("/peace-talks/", "peace\u2011talks", True),
        ("/Dnipro's/", "Dnipro’s mayor", True),
    ],
)
def test_queries(query: str, title: str, expected: bool) -> None:
    assert query_matches(query, title=title) is expected


def test_field_scopes() -> None:
    e = {
        "title": "Morning report",
        "summary": "Summary text",
        "content": "Content about Kharkiv",
        "author": "Olena Kovalenko",
        "categories": ["Russia-Ukraine war", "Energy"],
        "feed_title": "Kyiv Independent",
        "link": "https://news.bbc.co.uk/world/1",
    }
    assert query_matches("summary:Kharkiv", **e)
    assert not query_matches("title:Kharkiv", **e)
    assert query_matches("author:Kovalenko", **e)
    assert not query_matches("Kovalenko", **e)  # unscoped terms look in title and text only
    assert query_matches('category:"Ukraine war"', **e)
    assert query_matches("category:energy Kharkiv", **e)
    assert query_matches("feed:Independent", **e)
    assert query_matches("domain:bbc.co.uk", **e)
    assert query_matches("domain:www.bbc.co.uk", **e)
    assert query_matches("domain:co.uk", **e)  # whole labels from the end
    assert not query_matches("domain:co", **e)
    assert not query_matches("domain:c.co.uk", **e)
    assert not query_matches("domain:bbc.co.uk", title="x", link="javascript:alert(1)")
    assert query_matches("title:(Morning OR Evening) -category:sport", **e)


def test_field_of_a_scoped_match() -> None:
    (m,) = match([qrule("r", "author:Kovalenko")], title="x", author="Olena Kovalenko")
    assert (m.field, marked(m)) == ("author", ["Kovalenko"])
    (m,) = match([qrule("r", "domain:bbc.co.uk")], title="x", link="https://bbc.co.uk/a")
    assert m.field == "domain"
    assert m.snippet == "https://bbc.co.uk/a"


def test_a_slow_pattern_counts_as_not_found(caplog: pytest.LogCaptureFixture) -> None:
    # Catastrophic backtracking: without the timeout this runs for minutes.
    evil = "/(a|aa)+$/"
    text = "a" * 40 + "!"
    with caplog.at_level(logging.WARNING):
        found = match([qrule("r", f"{evil} OR Kyiv")], title=text)
    assert found == []
    assert "took too long" in caplog.text
    assert REGEX_TIMEOUT <= 0.1


def test_bad_queries_are_refused_when_the_rule_is_made() -> None:
    with pytest.raises(ValueError, match="character 9"):
        qrule("r", "Kyiv AND")


# -- snippets and marks ------------------------------------------------------------------

FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"


def test_short_field_is_the_whole_snippet() -> None:
    (m,) = match([rule("r", "Kyiv")], summary="  Snow   in\nKyiv  ")
    assert m.snippet == "Snow in Kyiv"
    assert marked(m) == ["Kyiv"]


def test_long_field_snippet_is_cut_around_the_match() -> None:
    text = " ".join([FILLER] * 5) + " ceasefire declared " + " ".join([FILLER] * 5)
    (m,) = match([rule("r", "ceasefire")], content=text)
    assert m.field == "content"
    assert "ceasefire declared" in m.snippet
    assert m.snippet.startswith("…") and m.snippet.endswith("…")
    assert 100 <= len(m.snippet) <= 202
    inner = m.snippet.strip("…")
    assert inner in text
    assert inner.split()[0] in FILLER.split()
    assert inner.split()[-1] in FILLER.split()
    assert marked(m) == ["ceasefire"]


def test_snippet_at_start_and_end_has_one_ellipsis() -> None:
    long_tail = " ".join([FILLER] * 6)
    (m,) = match([rule("r", "ceasefire")], content="Ceasefire first. " + long_tail)
    assert m.snippet.startswith("Ceasefire first.")
    assert m.snippet.endswith("…") and len(m.snippet) <= 202
    assert m.marks == ((0, 9),)
    (m,) = match([rule("r", "ceasefire")], content=long_tail + " at last a ceasefire")
    assert m.snippet.startswith("…")
    assert m.snippet.endswith("at last a ceasefire")
    assert marked(m) == ["ceasefire"]


def test_snippet_is_readable_text() -> None:
    text = "<p>Dnipro\u00adpetrovsk\n\n   under   <b>fire</b></p>"
    (m,) = match([rule("r", "Dnipropetrovsk")], summary=text)
    assert m.snippet == "Dnipropetrovsk under fire"


def test_marks_cover_every_matched_term_in_the_snippet() -> None:
    rules = [qrule("r", '"peace talks" OR Київ OR ceasefir*')]
    (m,) = match(rules, title="Peace-talks in Kiev; ceasefires hold; Kyiv's plan; peace talks")
    assert marked(m) == ["Peace-talks", "Kiev", "ceasefires", "Kyiv's", "peace talks"]
    assert m.terms == ("peace talks", "Київ", "ceasefir*")


def test_excluded_and_unmatched_terms_are_not_marked() -> None:
    (m,) = match([qrule("r", "Kyiv -football OR Lviv")], title="Kyiv news, Lviv weather")
    assert marked(m) == ["Kyiv", "Lviv"]
    (m,) = match([qrule("r", "(Kyiv AND Lviv) OR Odesa")], title="Kyiv and Odesa")
    assert marked(m) == ["Odesa"]
    assert m.terms == ("Odesa",)


def test_near_marks_the_close_pair() -> None:
    (m,) = match([qrule("r", "ceasefire NEAR/1 talks")], title="talks, then a ceasefire and talks")
    assert marked(m) == ["ceasefire", "talks"]
    assert m.marks[0][0] > 10


# -- the compiled matcher agrees with a reference evaluation ------------------------------

VOCAB = [
    "Kyiv", "Kiev", "Київ", "Києві", "kyiv", "Dnipro", "Дніпрі", "Dnipropetrovsk",
    "Дніпропетровській", "Днепропетровской", "peace", "talks", "Peace", "ceasefire",
    "ceasefires", "переговори", "переговорів", "Lviv", "x", "7", "war", "Odessa", "Одеса",
]  # fmt: skip
GLUE = [" ", "  ", "-", ", ", ".\n", "\u00ad", "'", "’", " — "]
FIELDS = ("title", "summary", "content", "author")
SCOPE_FIELDS = {
    "title": ("title",),
    "summary": ("summary", "content"),
    "author": ("author",),
}


def ref_positions(node: Word | Prefix, toks: list[str]) -> list[int]:
    if isinstance(node, Prefix):
        want = exact_key(node.text)
        return [
            i
            for i, t in enumerate(toks)
            if any(f.startswith(want) for f in exact_forms(text_keys(t)))
        ]
    keys = set(query_keys(node.text, node.literal))
    return [i for i, t in enumerate(toks) if keys & set(text_keys(t))]


Ref = list[tuple[str, int, int, str]] | None


def reference(node: Node, fields: dict[str, str], scope: tuple[str, ...]) -> Ref:
    """A straightforward evaluation: word by word, field by field, no index."""
    toks = {f: words(display_text(fields[f])) for f in FIELDS}
    if isinstance(node, Word | Prefix):
        found = [(f, i, i, term_text(node)) for f in scope for i in ref_positions(node, toks[f])]
        return found or None
    if isinstance(node, Phrase):
        found = []
        for f in scope:
            starts = [set(ref_positions(w, toks[f])) for w in node.words]
            for i in starts[0]:
                if all(i + k in s for k, s in enumerate(starts)):
                    found.append((f, i, i + len(node.words) - 1, node.text))
        return found or None
    if isinstance(node, Scope):
        return reference(node.child, fields, SCOPE_FIELDS[node.field])
    if isinstance(node, Not):
        return [] if reference(node.child, fields, scope) is None else None
    if isinstance(node, And):
        out: list[tuple[str, int, int, str]] = []
        for c in node.children:
            got = reference(c, fields, scope)
            if got is None:
                return None
            out += got
        return out
    if isinstance(node, Or):
        results = [r for r in (reference(c, fields, scope) for c in node.children) if r is not None]
        return [o for r in results for o in r] if results else None
    assert isinstance(node, Near)
    left = reference(node.left, fields, scope) or []
    right = reference(node.right, fields, scope) or []
    pairs = [
        (a, b)
        for a in left
        for b in right
        if a[0] == b[0] and 0 <= max(b[1] - a[2], a[1] - b[2]) - 1 <= node.distance
    ]
    return [o for p in pairs for o in p] or None


def _word() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(VOCAB),
        st.sampled_from(VOCAB).map(lambda w: "=" + w),
        st.sampled_from(["ceasefir*", "Дніпр*", "переговор*", "Kyi*"]),
        st.lists(st.sampled_from(VOCAB), min_size=2, max_size=3).map(
            lambda ws: f'"{" ".join(ws)}"'
        ),
    )


def _query(depth: int = 2) -> st.SearchStrategy[str]:
    if depth == 0:
        return _word()
    inner = _query(depth - 1)
    return st.one_of(
        _word(),
        st.tuples(inner, st.sampled_from([" AND ", " OR ", " "]), inner).map("".join),
        inner.map(lambda q: f"NOT ({q})"),
        inner.map(lambda q: f"-({q})"),
        inner.map(lambda q: f"({q})"),
        st.tuples(st.sampled_from(["title:", "summary:", "author:"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(_word(), st.integers(0, 3), _word()).map(lambda t: f"{t[0]} NEAR/{t[1]} {t[2]}"),
    )


texts = st.lists(st.tuples(st.sampled_from(VOCAB), st.sampled_from(GLUE)), max_size=10).map(
    lambda parts: "".join(w + g for w, g in parts)
)


def _parsed(queries: list[str]) -> list[tuple[str, Node]]:
    out = []
    for i, q in enumerate(queries):
        try:
            out.append((f"r{i}", parse(q)))
        except QueryError:
            continue
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_query(), min_size=1, max_size=4),
    st.fixed_dictionaries({f: texts for f in FIELDS}),
)
def test_compiled_matcher_agrees_with_the_reference(
    queries: list[str], fields: dict[str, str]
) -> None:
    rules = _parsed(queries)
    e = entry(**fields)
    got = {m.rule: m for m in CompiledMatcher(rules).match(e)}
    assert list(got.values()) == NaiveMatcher(rules).match(e)
    for name, node in rules:
        want = reference(node, fields, ("title", "summary", "content"))
        if not want:
            assert name not in got
            continue
        m = got[name]
        assert set(m.terms) == {t for *_, t in want}
        assert m.field == min(want, key=lambda w: (FIELDS.index(w[0]), w[1]))[0]
        assert m.marks and all(0 <= a < b <= len(m.snippet) for a, b in m.marks)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=6), texts)
def test_many_keyword_rules_at_once_agree_with_each_rule_alone(
    keywords: list[str], text: str
) -> None:
    rules = [rule(f"r{i}", k) for i, k in enumerate(keywords)]
    together = compile_rules(rules).match(entry(title=text))
    alone = [m for r in rules for m in compile_rules([r]).match(entry(title=text))]
    assert together == alone


def test_domain_and_pattern_rules_are_evaluated_without_index_words() -> None:
    rules = [("d", parse("domain:example.org")), ("p", parse("/dro+ne/"))]
    e = entry(title="A drooone", link="http://sub.example.org/x")
    assert CompiledMatcher(rules).match(e) == NaiveMatcher(rules).match(e)
    assert [m.rule for m in CompiledMatcher(rules).match(e)] == ["d", "p"]
