"""The query language's parser: the tree it builds, and one clear error for the rest."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match.query import (
    And,
    Domain,
    Near,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryError,
    Regex,
    Scope,
    Word,
    parse,
)
from monitor.match.rules import keyword_term


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("Kyiv", Word("Kyiv")),
        ("=Kyiv", Word("Kyiv", literal=True)),
        ("ceasefir*", Prefix("ceasefir")),
        ('"peace talks"', Phrase("peace talks", (Word("peace"), Word("talks")))),
        ('"Kyiv"', Word("Kyiv")),
        ("post-war", Phrase("post-war", (Word("post"), Word("war")))),
        ("Dnipropetrovs'k", Word("Dnipropetrovs'k")),
        ("a b", And((Word("a"), Word("b")))),
        ("a AND b", And((Word("a"), Word("b")))),
        ("a OR b c", Or((Word("a"), And((Word("b"), Word("c")))))),
        ("a b OR c", Or((And((Word("a"), Word("b"))), Word("c")))),
        ("NOT a b", And((Not(Word("a")), Word("b")))),
        ("-a b", And((Not(Word("a")), Word("b")))),
        ("NOT (a OR b) c", And((Not(Or((Word("a"), Word("b")))), Word("c")))),
        ("a NEAR/3 b", Near(Word("a"), Word("b"), 3)),
        ("a NEAR b", Near(Word("a"), Word("b"), 5)),
        ("NOT a NEAR/1 b c", And((Not(Near(Word("a"), Word("b"), 1)), Word("c")))),
        ("title:Kyiv", Scope("title", Word("Kyiv"))),
        ("TITLE:(a OR b)", Scope("title", Or((Word("a"), Word("b"))))),
        ('summary:"a b"', Scope("summary", Phrase("a b", (Word("a"), Word("b"))))),
        ("domain:www.BBC.co.uk", Domain("bbc.co.uk")),
        ("/\\d+ drones/", Regex("\\d+ drones")),
        ("/a\\/b/", Regex("a/b")),
        ("and or not", And((Word("and"), Word("or"), Word("not")))),
        ("10:30", Phrase("10:30", (Word("10"), Word("30")))),
        ("a -b -c", And((Word("a"), Not(Word("b")), Not(Word("c"))))),
        ("((a))", Word("a")),
    ],
)
def test_trees(query: str, tree: object) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize(
    ("query", "position", "expected"),
    [
        ("", 1, "a word"),
        ("Kyiv AND", 9, "after AND"),
        ("Kyiv OR", 8, "a word"),
        ("(Kyiv OR Kharkiv", 17, '")" to close the "(" at character 1'),
        ("Kyiv)", 5, 'this ")" has no "("'),
        ("()", 2, "inside the parentheses"),
        ('"peace talks', 1, 'a closing "'),
        ("/abc", 1, "a closing /"),
        ("/(a/", 1, "a valid regular expression"),
        ("ab*", 1, "at least 3 letters before *"),
        ("cea*fire", 1, "* only at the end"),
        ("titel:Kyiv", 1, "a field name"),
        ("title:", 7, "after title:"),
        ("title:author:x", 7, "cannot hold another field"),
        ("domain:not_a_domain", 8, "a domain name"),
        ("a NEAR/3 (b AND c)", 3, "on both sides of NEAR/3"),
        ("a NEAR/500 b", 3, "at most 100"),
        ("AND a", 1, "before AND"),
        ("NOT", 4, "after NOT"),
        ("!!!", 1, "a word with letters or digits"),
        ('""', 1, "a phrase with letters or digits"),
    ],
)
def test_errors_name_the_position_and_what_was_expected(
    query: str, position: int, expected: str
) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    message = str(caught.value)
    assert message.startswith(f"the query does not parse at character {position}: expected ")
    assert expected in message
    assert "\n" not in message


def test_a_query_that_only_excludes_is_refused() -> None:
    for query in ("-football", "NOT football", "Kyiv OR -football", "NOT (a AND b)"):
        with pytest.raises(QueryError, match="only excludes"):
            parse(query)


def test_deep_nesting_and_long_queries_are_refused_clearly() -> None:
    with pytest.raises(QueryError, match="levels of nesting"):
        parse("(" * 60 + "a" + ")" * 60)
    with pytest.raises(QueryError, match="at most 5000 characters"):
        parse("a " * 3000)
    with pytest.raises(QueryError, match="at most 300 characters"):
        parse("/" + "a" * 301 + "/")


@pytest.mark.parametrize(
    ("keyword", "term"),
    [
        ("Kyiv", Word("Kyiv")),
        ("peace talks", Phrase("peace talks", (Word("peace"), Word("talks")))),
        ('"peace talks"', Phrase("peace talks", (Word("peace"), Word("talks")))),
        ("U.S.", Phrase("U.S.", (Word("U"), Word("S")))),
        ("AND", Word("AND")),
        ("-war", Word("war")),
        ("ceasefir*", Prefix("ceasefir")),
        ("=Kyiv", Word("Kyiv", literal=True)),
        ("/\\d+ drones/", Regex("\\d+ drones")),
        ("title:Kyiv", Phrase("title:Kyiv", (Word("title"), Word("Kyiv")))),
    ],
)
def test_a_keyword_is_one_term(keyword: str, term: object) -> None:
    assert keyword_term(keyword) == term


PIECES = [
    "a", "Київ", "AND", "OR", "NOT", "-", "(", ")", '"', "/", "*", "=", ":",
    "title:", "domain:", "NEAR/2", "NEAR", " ", "\\", "x*", "=y", "[", "+",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.lists(st.sampled_from(PIECES), max_size=14).map("".join),
    )
)
def test_the_parser_raises_only_its_own_clear_error(query: str) -> None:
    try:
        parse(query)
    except QueryError as exc:
        message = str(exc)
        assert message.startswith("the query ")
        assert "\n" not in message.strip()
