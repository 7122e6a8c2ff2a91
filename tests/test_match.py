"""The keyword matcher: whole words, case, phrases, exclusions, fields and snippets."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import RuleConfig
from monitor.match import compile_rules
from monitor.records import ParsedEntry, RuleMatch
from monitor.text import normalise


def entry(title: str = "", summary: str = "", content: str = "") -> ParsedEntry:
    return ParsedEntry(
        identity="e1",
        title=title,
        link=None,
        author=None,
        published=None,
        summary=summary,
        content=content,
    )


def rule(name: str, *keywords: str, exclude: tuple[str, ...] = ()) -> RuleConfig:
    return RuleConfig(name=name, keywords=keywords, exclude=exclude)


def match(rules: list[RuleConfig], **fields: str) -> list[RuleMatch]:
    return compile_rules(rules).match(entry(**fields))


def matches(keyword: str, text: str) -> bool:
    return bool(match([rule("r", keyword)], title=text))


# -- words --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("Dnipro", "Strikes on Dnipro overnight", True),
        ("Dnipro", "Strikes on Dnipropetrovsk overnight", False),
        ("Dnipropetrovsk", "Strikes on Dnipro overnight", False),
        ("Dnipropetrovsk", "Strikes on Dnipropetrovsk overnight", True),
        ("Dnipro", "Dnipro's mayor said", True),
        ("Dnipro", "(Dnipro)", True),
        ("Dnipro", "Dnipro", True),
        ("Dnipro", "NovoDnipro", False),
        ("Dnipro", "Dnipro2", False),
        ("Dnipro", "Dnipro_city", False),
        ("war", "warning signs", False),
        ("war", "post-war plans", True),
        ("G7", "The G7 summit", True),
        ("G7", "The G77 group", False),
    ],
)
def test_whole_words_only(keyword: str, text: str, expected: bool) -> None:
    assert matches(keyword, text) is expected


@pytest.mark.parametrize("text", ["DNIPRO", "dnipro", "DnIpRo", "Dnipro"])
def test_case_insensitive(text: str) -> None:
    assert matches("dnipro", f"News from {text} today")
    assert matches("DNIPRO", f"News from {text} today")


# -- phrases ------------------------------------------------------------------------------


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


# -- invisible characters and scripts -----------------------------------------------------


@pytest.mark.parametrize("joiner", ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_invisible_character_inside_a_word(joiner: str) -> None:
    text = f"Shelling in Dnipro{joiner}petrovsk region"
    assert matches("Dnipropetrovsk", text)
    assert not matches("Dnipro", text)


def test_compatibility_forms_are_normalised() -> None:
    # Fullwidth letters and the "fi" ligature match their plain spelling.
    assert matches("Kyiv", "News from Ｋｙｉｖ")
    assert matches("first", "The ﬁrst convoy")


def test_accented_keyword_matches_text_with_a_soft_hyphen_before_the_accent() -> None:
    text = "Le cafe\u00ad\u0301 du coin"
    assert matches("café", text)
    # ...and the accent-less word is not a whole word of that text.
    assert not matches("cafe", text)


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("Дніпро", "Обстріл у ДНІПРО вночі", True),
        ("дніпро", "Обстріл у Дніпрі вночі", False),
        ("Дніпро", "Дніпропетровська область", False),
        ("Дніпропетровська область", "у Дніпропетровська\nобласть", True),
        ("Київ", "київ, вечір", True),
        ("Київ", "Київщина", False),
    ],
)
def test_cyrillic_keywords(keyword: str, text: str, expected: bool) -> None:
    assert matches(keyword, text) is expected


# -- rules, terms, fields, exclusions -----------------------------------------------------


def test_exclude_vetoes_the_rule_in_any_field() -> None:
    rules = [rule("dnipro", "Dnipropetrovsk", exclude=("football",))]
    assert match(rules, title="Dnipropetrovsk shelling") != []
    assert match(rules, title="Dnipropetrovsk football club wins") == []
    assert match(rules, title="Dnipropetrovsk club wins", content="A Football final.") == []
    # An exclusion is a whole word too.
    assert match(rules, title="Dnipropetrovsk shelling", summary="footballer hurt") != []


def test_exclude_vetoes_only_its_own_rule() -> None:
    rules = [
        rule("a", "ceasefire", exclude=("football",)),
        rule("b", "ceasefire"),
    ]
    result = match(rules, title="Football ceasefire")
    assert [m.rule for m in result] == ["b"]


def test_all_found_terms_in_rule_order() -> None:
    rules = [rule("r", "Kyiv", "ceasefire", "Dnipro", '"peace talks"', "absent")]
    (m,) = match(
        rules,
        title="Peace talks in Dnipro",
        summary="Ceasefire holds",
        content="Kyiv welcomes the peace talks. Dnipro again.",
    )
    assert m.rule == "r"
    assert m.terms == ("Kyiv", "ceasefire", "Dnipro", "peace talks")


def test_same_term_twice_is_listed_once() -> None:
    (m,) = match([rule("r", "Kyiv", '"Kyiv"', "snow", "Kyiv")], title="Snow in Kyiv")
    assert m.terms == ("Kyiv", "snow")


def test_rules_are_reported_in_rule_order() -> None:
    rules = [rule("z", "snow"), rule("a", "Kyiv"), rule("m", "nothing")]
    result = match(rules, title="First snow in Kyiv")
    assert [m.rule for m in result] == ["z", "a"]


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
    # The first keyword only appears in the content, the second in the title.
    (m,) = match([rule("r", "ceasefire", "Kyiv")], title="Kyiv news", content="ceasefire")
    assert m.field == "title"
    assert "Kyiv" in m.snippet
    assert m.terms == ("ceasefire", "Kyiv")


def test_no_match_gives_nothing() -> None:
    assert match([rule("r", "Kyiv")], title="Lviv", summary="Odesa", content="Kharkiv") == []


# -- snippets -----------------------------------------------------------------------------

FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"


def test_short_field_is_the_whole_snippet() -> None:
    (m,) = match([rule("r", "Kyiv")], summary="  Snow   in\nKyiv  ")
    assert m.snippet == "Snow in Kyiv"


def test_long_field_snippet_is_cut_around_the_match() -> None:
    text = " ".join([FILLER] * 5) + " ceasefire declared " + " ".join([FILLER] * 5)
    (m,) = match([rule("r", "ceasefire")], content=text)
    assert m.field == "content"
    assert "ceasefire declared" in m.snippet
    assert m.snippet.startswith("…") and m.snippet.endswith("…")
    assert 100 <= len(m.snippet) <= 202
    inner = m.snippet.strip("…")
    assert inner in text
    # Cut at spaces: whole words at both ends.
    assert inner.split()[0] in FILLER.split()
    assert inner.split()[-1] in FILLER.split()


def test_snippet_at_start_and_end_has_one_ellipsis() -> None:
    long_tail = " ".join([FILLER] * 6)
    (m,) = match([rule("r", "ceasefire")], content="Ceasefire first. " + long_tail)
    assert m.snippet.startswith("Ceasefire first.")
    assert m.snippet.endswith("…") and len(m.snippet) <= 202
    (m,) = match([rule("r", "ceasefire")], content=long_tail + " at last a ceasefire")
    assert m.snippet.startswith("…")
    assert m.snippet.endswith("at last a ceasefire")
    assert len(m.snippet) <= 202


def test_snippet_is_normalised_text() -> None:
    text = "Dnipro\u00adpetrovsk\n\n   under   fire"
    (m,) = match([rule("r", "Dnipropetrovsk")], summary=text)
    assert m.snippet == "Dnipropetrovsk under fire"


# -- compared with a simple reference -----------------------------------------------------

WORDS = ["peace", "Peace", "PEACE", "talks", "Talks", "dnipro", "Dnipro", "київ", "Київ", "x", "7"]
GLUE = [" ", "  ", "-", ", ", ".\n", "\t", "_", "\u00ad", "'", ""]
FIELD_NAMES = ("title", "summary", "content")


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", normalise(text)).casefold())


def contains(text: str, keyword: str) -> bool:
    words, needle = tokens(text), tokens(keyword)
    return any(words[i : i + len(needle)] == needle for i in range(len(words) - len(needle) + 1))


def reference(keywords: list[str], excludes: list[str], fields: dict[str, str]) -> RuleMatch | None:
    if any(contains(fields[f], x) for x in excludes for f in FIELD_NAMES):
        return None
    found: list[str] = []
    for k in keywords:
        text = k[1:-1] if len(k) >= 2 and k[0] == k[-1] == '"' else k
        if any(contains(fields[f], k) for f in FIELD_NAMES) and text not in found:
            found.append(text)
    if not found:
        return None
    field = next(f for f in FIELD_NAMES if any(contains(fields[f], k) for k in found))
    return RuleMatch(rule="r", terms=tuple(found), field=field, snippet="")


texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(GLUE)), max_size=12).map(
    lambda parts: "".join(w + g for w, g in parts)
)
keywords = st.lists(st.sampled_from(WORDS[:-2]), min_size=1, max_size=2).map(" ".join)
quoted = st.one_of(keywords, keywords.map(lambda k: f'"{k}"'))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(quoted, min_size=1, max_size=3),
    st.lists(keywords, max_size=1),
    st.fixed_dictionaries({f: texts for f in FIELD_NAMES}),
)
def test_matches_the_reference(kws: list[str], excludes: list[str], fields: dict[str, str]) -> None:
    rules = [RuleConfig(name="r", keywords=tuple(kws), exclude=tuple(excludes))]
    got = compile_rules(rules).match(entry(**fields))
    want = reference(kws, excludes, fields)
    if want is None:
        assert got == []
        return
    (m,) = got
    assert (m.rule, m.terms, m.field) == (want.rule, want.terms, want.field)
    # The snippet is a piece of the reported field that holds one of the terms.
    assert m.snippet.strip("…") in normalise(fields[m.field])
    assert any(contains(m.snippet, t) for t in m.terms)
