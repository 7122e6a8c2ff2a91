"""Spelling variants: the keys that let a name match across scripts, romanisations and
inflected forms, and the keys of a word as the matcher looks it up.

A word has up to three keys, each tagged by its first character:

- ``=`` the exact key (:func:`normalise.exact_key`): always;
- ``^`` the *stem* of a Cyrillic word, its inflection ending removed with the vowels kept
  (``переговорів`` -> ``переговор``): Ukrainian and Russian common words match their
  inflected forms;
- ``~`` the *variant key* of a name, the same for its Latin and Cyrillic spellings, the
  Ukrainian and Russian forms and their inflections: the word is transliterated to a
  small phonetic alphabet (х and kh -> x, ж and zh -> ʒ, г, ґ and h -> g ...), vowels
  are reduced to three classes (a; u; e, i, o, y), doubled letters and soft signs
  dropped, and a case ending removed (``Дніпропетровській`` and ``Dnepropetrovsk`` ->
  ``dnIprIpItrIvsk``). ``-щина`` reads as ``-ськ`` (``Дніпропетровщина``).

Variant keys are what could make matching noisy, so they are only used where a name is
likely: a text word gets one only when it is capitalised, and a Latin word (in the text or
the query) never gets one when it is an ordinary English word, so ``better`` does not
match *Bitter* while ``Kyiv`` matches *Kiev*, *Київ* and *Киеве*.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib.resources import files

from monitor.match.normalise import cased, exact_of, fold_marks, forms, is_capitalised, script

EXACT, STEM, VARIANT = "=", "^", "~"

# Cyrillic (Ukrainian and Russian) to the phonetic alphabet; j marks iotation and goes
# after it has merged with the following vowel.
_CYRILLIC = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "є": "je",
        "ё": "jo", "ж": "ʒ", "з": "z", "и": "i", "і": "i", "ї": "ji", "й": "j", "к": "k",
        "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "x", "ц": "ʦ", "ч": "ʧ", "ш": "ʃ", "щ": "ɕ", "ъ": "",
        "ы": "i", "ь": "", "э": "e", "ю": "ju", "я": "ja", "ў": "v",
    }
)  # fmt: skip
# Letters with a caron keep their sound before accents are folded.
_CARON = str.maketrans({"ž": "ʒ", "š": "ʃ", "č": "ʧ", "ř": "r", "ć": "ʧ", "ś": "ʃ", "ź": "ʒ"})
# Romanisation digraphs (BGN/PCGN, the Ukrainian national system, ISO 9 without
# diacritics, German and Polish habits), replaced in one pass, longest first.
_LATIN_SOUNDS = {
    "x": "ks", "szcz": "ɕ", "shch": "ɕ", "sch": "ɕ", "kh": "x", "zh": "ʒ", "sz": "ʃ",
    "sh": "ʃ", "cz": "ʧ", "tch": "ʧ", "ch": "ʧ", "ts": "ʦ", "tz": "ʦ", "ph": "f",
    "th": "t", "ck": "k", "q": "k", "gh": "g", "h": "g", "w": "v", "c": "k",
}  # fmt: skip
_LATIN = re.compile("|".join(sorted(_LATIN_SOUNDS, key=len, reverse=True)) + "|y(?=[aeiou])|y")


def _latin_sound(m: re.Match[str]) -> str:
    text = m.group()
    if text == "y":
        return "j" if m.end() < len(m.string) and m.string[m.end()] in "aeiou" else "i"
    return _LATIN_SOUNDS[text]


_IOTA_A = re.compile(r"[ij]+a")
_IOTA_U = re.compile(r"[ij]+u")
_J = re.compile(r"j")
_VOWEL_CLASS = str.maketrans({"a": "A", "u": "U", "e": "I", "i": "I", "o": "I", "y": "I"})
_RUNS = re.compile(r"(\D)\1+")
_TRAILING_VOWELS = re.compile(r"[AIU]+$")
# Case endings left after the final vowels go: -ом/-ем/-им (Im), -ам/-ями (Am),
# -ах/-ях (Ax), -их/-ых (Ix), -ого/-его (Ig).
_ENDING = re.compile(r"(?:Im|Am|Ax|Ix|Ig)$")
# Derivations that change the last consonants of a name, read back to it: the region
# nouns -щина (Дніпропетровщина, from -ськ) and -ччина (Донеччина, from -цьк), and the
# adjectives -зьк-/-жск- of names in -жж-/-ж- (Запорізька, Запорожская).
_DERIVED = [
    (re.compile(r"ɕIn$"), "sk"),
    (re.compile(r"ʧIn$"), "ʦk"),
    (re.compile(r"(?:ʒs|z)k$"), "ʒ"),
]
# Ukrainian dative and locative endings that soften г, к, х to з, ц, с (Ріг -> Розі,
# Прилуки -> Прилуці): a word ending so is also looked up with the hard consonant.
_SOFTENED = {"зі": "гі", "ці": "кі", "сі": "хі"}
MIN_STEM = 3

# Ukrainian and Russian inflection endings, longest first (vowels kept).
_CYR_ENDINGS = sorted(
    (
        "ями ами ими ыми ого его ому ему ові еві ою ею ої ій ий ый ой ей ая яя ое ее ую юю "
        "ом ем им ым ам ям ах ях их ых ів ов ев а я у ю о е и і ї ы є ь й"
    ).split(),
    key=len,
    reverse=True,
)
_CYR_ENDING = re.compile("(?:" + "|".join(_CYR_ENDINGS) + ")$")


@cache
def english_words() -> frozenset[str]:
    """Lower-case English words (SCOWL, see ``data/english-words.NOTICE``)."""
    data = files("monitor.match").joinpath("data/english-words.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("ascii").split())


def is_english(key: str) -> bool:
    """Whether an exact key is an ordinary English word (names are not in the list)."""
    return key.isascii() and key in english_words()


def variant_key(word: str) -> str:
    """The key a name shares with its other spellings and inflected forms.

    ``word`` is a :func:`normalise.cased` form (accents kept, so ž and č still tell).
    """
    s = word.replace("'", "")
    if script(s) == "cyr":
        s = s.translate(_CYRILLIC)
    else:
        s = _LATIN.sub(_latin_sound, fold_marks(s.translate(_CARON)))
    s = _IOTA_A.sub("a", s)
    s = _IOTA_U.sub("u", s)
    s = _J.sub("", s).translate(_VOWEL_CLASS)
    return _stem(_RUNS.sub(r"\1", s))


def _stem(key: str) -> str:
    key = _cut(key, _TRAILING_VOWELS)
    for pattern, repl in _DERIVED:
        if len(key) > MIN_STEM + 2:
            key = pattern.sub(repl, key)
    return _cut(_cut(key, _ENDING), _TRAILING_VOWELS)


def _cut(key: str, pattern: re.Pattern[str]) -> str:
    m = pattern.search(key)
    if m is None or m.start() < MIN_STEM:
        return key
    return key[: m.start()]


def stem(key: str) -> str:
    """A Cyrillic exact key without its inflection ending (at least 3 letters are kept)."""
    m = _CYR_ENDING.search(key)
    if m is None or m.start() < MIN_STEM:
        return key
    return key[: m.start()]


_DIGIT = re.compile(r"\d")


def _name_like(word: str) -> bool:
    # Names have no digits: G7 must not match G77 through a collapsed double letter.
    return _DIGIT.search(word) is None


def text_keys(word: str) -> tuple[str, ...]:
    """The tagged keys a word of the text is found by (see the module docstring)."""
    keys: list[str] = []
    name = is_capitalised(word) and _name_like(word)
    for form in forms(word):
        exact = exact_of(form)
        keys.append(EXACT + exact)
        kind = script(exact)
        if kind == "cyr":
            keys.append(STEM + stem(exact))
            if name:
                keys.append(VARIANT + variant_key(form))
                hard = _SOFTENED.get(form[-2:])
                if hard:
                    keys.append(VARIANT + variant_key(form[:-2] + hard))
        elif kind == "lat" and name and not is_english(exact):
            keys.append(VARIANT + variant_key(form))
    return tuple(dict.fromkeys(keys))


def query_keys(word: str, literal: bool) -> tuple[str, ...]:
    """The tagged keys a query word matches; a literal word only its exact key.

    A Latin word that is not English gets variants; a Cyrillic word gets them when it is
    written with a capital (a name), else only its inflected forms (a common word: there
    is no list of Ukrainian and Russian words to tell them apart otherwise).
    """
    form = cased(word).replace("'", "")
    exact = exact_of(form)
    keys = [EXACT + exact]
    if literal or not _name_like(word):
        return tuple(keys)
    kind = script(exact)
    if kind == "cyr":
        keys.append(VARIANT + variant_key(form) if is_capitalised(word) else STEM + stem(exact))
    elif kind == "lat" and not is_english(exact):
        keys.append(VARIANT + variant_key(form))
    return tuple(keys)


def exact_forms(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The exact keys among a word's :func:`text_keys` (what a prefix is compared with)."""
    return tuple(k[1:] for k in keys if k[0] == EXACT)
