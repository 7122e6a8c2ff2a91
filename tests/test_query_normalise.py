"""Normalisation of both sides, and the keys that make spellings of a name meet."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match.normalise import (
    cased,
    display_text,
    exact_key,
    fix_lookalikes,
    fold_marks,
    words,
)
from monitor.match.variants import is_english, stem, text_keys, variant_key
from monitor.text import normalise


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("<p>Strikes on <b>Kharkiv</b></p>", "Strikes on Kharkiv"),
        ('<a title="Kharkiv" href="/k">more</a>', "more"),
        ("Kharkiv&#8217;s mayor &amp; aides", "Kharkiv’s mayor & aides"),
        ("a < b and c > d", "a < b and c > d"),
        ("Dnipro\u00adpetrovsk\u200b region", "Dnipropetrovsk region"),
        ("Ｋｙｉｖ  \n ﬁrst", "Kyiv first"),
    ],
)
def test_display_text(raw: str, display: str) -> None:
    assert display_text(raw) == display


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Дні\u0301про і Київ", ["Дні\u0301про", "і", "Київ"]),
        ("Dnipro's mayor, Dnipropetrovs’k", ["Dnipro's", "mayor", "Dnipropetrovs’k"]),
        ("Словʼянськ post-war U.S.", ["Словʼянськ", "post", "war", "U", "S"]),
    ],
)
def test_words_keep_accents_and_apostrophes_inside(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Dnipropetrovs'k", "dnipropetrovsk"),
        ("Dnipropetrovs’k", "DNIPROPETROVSK"),
        ("Словʼянськ", "слов'янськ"),
        ("Café", "cafe"),
        ("Łódź", "lodz"),
        ("Королёв", "королев"),
        ("Дні\u0301про", "дніпро"),
        ("Kиїв", "київ"),
        ("Куiv", "kyiv"),
        ("Oдеса", "одеса"),
        ("STRASSE", "straße"),
    ],
)
def test_same_exact_key(a: str, b: str) -> None:
    assert exact_key(a) == exact_key(b)


@pytest.mark.parametrize(
    ("a", "b"), [("мій", "мии"), ("її", "іі"), ("Kyiv", "Kiev"), ("мир", "мер")]
)
def test_different_exact_keys(a: str, b: str) -> None:
    assert exact_key(a) != exact_key(b)


def test_lookalikes_only_when_every_letter_has_one() -> None:
    assert fix_lookalikes("kиїв") == "київ"
    assert fix_lookalikes("kyїv") == "kyїv"  # ї has no Latin look-alike, y and v no Cyrillic
    assert fix_lookalikes("hello") == "hello"


@pytest.mark.parametrize(
    "group",
    [
        [
            "Dnipropetrovsk",
            "Dnepropetrovsk",
            "Дніпропетровській",
            "Днепропетровской",
            "Дніпропетровщина",
        ],
        ["Kyiv", "Kiev", "Київ", "Києві", "Киеве", "Kijów"],
        ["Kharkiv", "Kharkov", "Харків", "Харкова", "Харькове"],
        ["Zaporizhzhia", "Zaporozhye", "Запоріжжя", "Запорожье", "Запорізька"],
        ["Odesa", "Odessa", "Одеса", "Одессе"],
        ["Zelensky", "Zelenskyy", "Зеленський", "Зеленского"],
        ["Donetsk", "Донецьк", "Донеччина"],
        ["Rih", "Ріг", "Розі", "Rog"],
    ],
)
def test_spellings_of_a_name_share_a_variant_key(group: list[str]) -> None:
    keys = {k for w in group for k in text_keys(w) if k.startswith("~")}
    head = "~" + variant_key(cased(group[0]))
    assert head in keys
    assert all(head in text_keys(w) for w in group[1:])


@pytest.mark.parametrize(
    ("a", "b"),
    [("Dnipro", "Dnipropetrovsk"), ("Zelensky", "Зелений"), ("Kyiv", "Київстар"), ("G7", "G77")],
)
def test_different_names_have_different_variant_keys(a: str, b: str) -> None:
    assert not set(text_keys(a)) & set(text_keys(b))


def test_variant_keys_only_for_names() -> None:
    assert not any(k.startswith("~") for k in text_keys("сума"))  # lower case: a common word
    assert any(k.startswith("~") for k in text_keys("Сума"))
    assert not any(k.startswith("~") for k in text_keys("Bitter"))  # an English word
    assert is_english("bitter") and not is_english("kiev")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("переговорів", "переговор"),
        ("переговорами", "переговор"),
        ("війною", "війн"),
        ("мир", "мир"),
    ],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


LETTERS = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(
            list("абвгґдеєжзиіїйклмнопрстуфхцчшщьюяёыэъ AaCcEeKkOoPpXxYy'’ʼ-\u0301\u00ad")
        ),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(LETTERS)
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    for word in words(once):
        key = exact_key(word)
        assert exact_key(key) == key
        assert fold_marks(fold_marks(word)) == fold_marks(word)
        assert fix_lookalikes(fix_lookalikes(cased(word))) == fix_lookalikes(cased(word))


@settings(max_examples=300, deadline=None)
@given(LETTERS)
def test_keys_of_any_word_are_computed(text: str) -> None:
    for word in words(normalise(text)):
        keys = text_keys(word)
        assert keys and keys[0].startswith("=")
        assert all(len(k) > 1 for k in keys)
