"""Text as matching sees it: the readable display text, its words, and each word's key.

Two layers, so that positions stay meaningful:

- the **display text** of a field (HTML stripped, entities decoded, NFKC, soft hyphens
  and zero-width characters removed, spaces folded) is what snippets and marks point
  into;
- each **word** of it (a run of letters, digits and combining marks; words joined by an
  apostrophe stay one word) gets a **key**: case folded, apostrophes dropped, accents
  folded where the language treats them as the same letter, and Latin look-alike letters
  inside a Cyrillic word read as Cyrillic (and the reverse).

Both sides of a match, the query's words and the text's, go through the same functions.
"""

from __future__ import annotations

import re
import unicodedata

from monitor.text import html_to_text, looks_like_html, normalise

# Combining marks are part of a word (a stress accent must not split "Дні́про"); Python's
# \w does not include them, so their ranges are added to the class. Only the blocks of
# the scripts news is written in, plus the generic combining blocks: a class of every
# mark in Unicode makes the word pattern several times slower.
_MARK_BLOCKS = ((0x300, 0x370), (0x483, 0x48A), (0x591, 0x700), (0x900, 0xE00))
_MARK_GENERIC = ((0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))


def _marks(categories: tuple[str, ...]) -> list[int]:
    found = [
        cp
        for lo, hi in (*_MARK_BLOCKS, *((a, b + 1) for a, b in _MARK_GENERIC))
        for cp in range(lo, hi)
        if unicodedata.category(chr(cp)) in categories
    ]
    return found


def _char_class(points: list[int]) -> str:
    ranges: list[tuple[int, int]] = []
    for cp in points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "".join(
        re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges
    )


_W = rf"[\w{_char_class(_marks(('Mn', 'Mc', 'Me')))}]"
# Apostrophe variants that join a word: ' ’ ‘ ` ´ ′ (ʼ U+02BC is a letter, so already \w).
APOSTROPHES = "'\u2019\u2018`\u00b4\u2032"
TOKEN = re.compile(rf"\w{_W}*(?:[{APOSTROPHES}]{_W}+)*")

_DROP_APOSTROPHES = dict.fromkeys(map(ord, APOSTROPHES + "\u02bc"), None)
_SPLIT_APOSTROPHES = str.maketrans(dict.fromkeys(APOSTROPHES + "\u02bc", "'"))

# Letters that a language treats as letters of their own keep their marks: й and ї in
# Ukrainian, ў in Belarusian. ё is folded to е, as Russian writing commonly does.
_PROTECT = str.maketrans({"й": "\ue000", "ї": "\ue001", "ў": "\ue002"})
_UNPROTECT = str.maketrans({"\ue000": "й", "\ue001": "ї", "\ue002": "ў"})
_DROP_MARKS: dict[int, None] = dict.fromkeys(_marks(("Mn", "Me")), None)
# Latin letters with no decomposition that readers still treat as the plain letter.
_LATIN_EXTRA = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ı": "i", "ħ": "h", "ŀ": "l"})

# Look-alikes after case folding (upper-case В, Н, М, Т look Latin too, and fold to these).
_LAT_TO_CYR = str.maketrans("abcehikmoptxy", "авсенікмортху")
_CYR_TO_LAT = str.maketrans("авсенікмортхујѕ", "abcehikmoptxyjs")
_CYR = re.compile(r"[\u0400-\u04ff]")
_LAT = re.compile(r"[a-z\u00df-\u024f]")
_LAT_LOOKALIKE = set("abcehikmoptxy")
_CYR_LOOKALIKE = set("авсенікмортхујѕ")


def display_text(text: str) -> str:
    """A field as shown in snippets: HTML stripped, NFKC, joiners removed, spaces folded."""
    if looks_like_html(text):
        text = html_to_text(text)
    return normalise(text)


def words(display: str) -> list[str]:
    """The words of a display text, in order."""
    return TOKEN.findall(display)


def spans(display: str) -> list[tuple[int, int]]:
    """Where each word of :func:`words` is in the display text."""
    return [m.span() for m in TOKEN.finditer(display)]


def fold_marks(text: str) -> str:
    """Accents dropped, except those that make a letter of its own (й, ї, ў)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFD", text.translate(_PROTECT)).translate(_DROP_MARKS)
    return unicodedata.normalize("NFC", text.translate(_UNPROTECT)).translate(_LATIN_EXTRA)


def fix_lookalikes(word: str) -> str:
    """A mixed Cyrillic/Latin word written in its main script (``Kиїв`` -> ``київ``).

    The letters of the minority script are replaced when all of them have a look-alike
    (else those of the other script, if they all have one); on a tie the word reads as
    Cyrillic.
    """
    if word.isascii() or not _CYR.search(word) or not _LAT.search(word):
        return word
    cyr, lat = _CYR.findall(word), _LAT.findall(word)
    to_cyr = all(c in _LAT_LOOKALIKE for c in lat)
    to_lat = all(c in _CYR_LOOKALIKE for c in cyr)
    if to_cyr and (len(lat) <= len(cyr) or not to_lat):
        return word.translate(_LAT_TO_CYR)
    if to_lat:
        return word.translate(_CYR_TO_LAT)
    return word


def cased(word: str) -> str:
    """Case folded, apostrophes unified to ', look-alikes fixed; accents kept."""
    return fix_lookalikes(word.casefold().translate(_SPLIT_APOSTROPHES))


def exact_key(word: str) -> str:
    """The key two spellings of the same word share: ``Dnipropetrovs’k`` -> ``dnipropetrovsk``."""
    return exact_of(cased(word).replace("'", ""))


def exact_of(form: str) -> str:
    """The exact key of a :func:`cased` form: accents folded, look-alikes fixed again (a
    folded accent can turn a letter into a look-alike)."""
    return fix_lookalikes(fold_marks(form))


def forms(word: str) -> tuple[str, ...]:
    """The cased forms a text word is matched as: itself, and each apostrophe-joined part.

    ``Dnipro's`` is found by ``Dnipro`` and ``Dnipros``; ``Dnipropetrovs'k`` by
    ``Dnipropetrovsk``.
    """
    c = cased(word)
    if "'" not in c:
        return (c,)
    return (c.replace("'", ""), *(p for p in c.split("'") if p))


def script(key: str) -> str:
    """``cyr``, ``lat`` or ``other``: the script of a (look-alike fixed) word."""
    if _CYR.search(key):
        return "cyr"
    if _LAT.search(key):
        return "lat"
    return "other"


def is_capitalised(word: str) -> bool:
    """Whether a text word begins with a capital letter, as names do."""
    return word[:1].isupper()


def display_of(text: str | None) -> str:
    """:func:`display_text` of an optional field."""
    return display_text(text) if text else ""


__all__ = [
    "TOKEN",
    "cased",
    "display_text",
    "exact_key",
    "fix_lookalikes",
    "fold_marks",
    "forms",
    "is_capitalised",
    "script",
    "spans",
    "words",
]
