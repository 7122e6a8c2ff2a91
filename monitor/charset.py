"""Pure: which character encoding a feed body is in, and its text.

The encodings are tried in this order (RFC 7303 puts the HTTP charset first; feeds get
it wrong often enough that each one is checked before it is believed):

1. the ``charset`` of the HTTP Content-Type;
2. the XML declaration (``<?xml version="1.0" encoding="windows-1251"?>``);
3. a byte order mark (or the UTF-16/32 pattern of a leading ``<``);
4. UTF-8, the default of XML and JSON;
5. detection (charset-normalizer), for a body that says nothing or says it wrongly.

A candidate is believed when the body decodes with it without error and, for a legacy
single-byte or CJK encoding, the text does not look garbled: the words with non-ASCII
letters are scored with charset-normalizer's mess detector, and a candidate is passed
over when another encoding reads them clearly better. That catches a Ukrainian
windows-1251 feed sent as ``charset=iso-8859-1`` ("Îáñòð³ë"), a KOI8-R one declared as
windows-1251, and a UTF-8 body declared as windows-1252 ("Ã©").

Short texts are ambiguous to any detector: when the detector's guess is no clearer
than windows-1251, KOI8-U (a superset of KOI8-R) or windows-1252, those win, in that
order, as the encodings a Ukrainian or Russian feed is most likely to be in.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import cached_property

_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)
_XML_DECLARATION = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._:-]*)[\"']"
)
BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    # No BOM, but the first character is "<" (XML 1.0, appendix F).
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
# Codecs that are not a text encoding of a document, or that rewrite it (escapes).
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined", "utf-7"}
)
_UNICODE = frozenset({"utf-8", "utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-32-be"})
_UNICODE |= {"utf-32-le", "ascii"}
PREFERRED = ("cp1251", "koi8-u", "cp1252")
# A mess ratio below this is clean text; an encoding must beat another by this much.
CLEAN = 0.05
# Words with non-ASCII bytes: what tells encodings apart (markup would only dilute it).
_FOREIGN_WORD = re.compile(rb"[^\s<>\"'&=/]*[\x80-\xff][^\s<>\"'&=/]*")
_SAMPLE_BYTES = 16 * 1024
# With fewer non-ASCII bytes than this, the detector's language guess is not trusted.
_LONG_ENOUGH = 200


@dataclass(frozen=True, slots=True)
class Decoded:
    """A body's text, the codec it was read with and where that came from
    (``http``, ``declaration``, ``bom``, ``default``, ``detected`` or ``fallback``)."""

    text: str
    encoding: str
    source: str


def http_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, if any."""
    match = _CHARSET_PARAM.search(content_type or "")
    return match.group(1) if match else None


def declared_charset(body: bytes) -> str | None:
    """The encoding named by an XML declaration in an ASCII-compatible body, if any."""
    match = _XML_DECLARATION.match(body[:1024])
    return match.group(1).decode("ascii") if match else None


def bom_charset(body: bytes) -> str | None:
    """The Unicode encoding a byte order mark (or a UTF-16/32 ``<``) shows, if any."""
    for mark, name in BOMS:
        if body.startswith(mark):
            return name
    return None


def codec_name(label: str | None) -> str | None:
    """The Python codec for a charset label ("Windows-1251" -> "cp1251"), or None."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return None
    return None if name in _NOT_CHARSETS else name


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """The body's text, read with the first encoding that fits (see the module docstring).

    Never raises: a body no encoding fits is read as UTF-8 with replacement characters.
    """
    judge = _Judge(body)
    candidates = (
        (http_charset(content_type), "http"),
        (declared_charset(body), "declaration"),
        (bom_charset(body), "bom"),
        ("utf-8", "default"),
    )
    for label, source in candidates:
        codec = codec_name(label)
        if codec is None:
            continue
        text = _strict(body, codec)
        if text is None or not _starts_plausibly(codec, text):
            continue
        if codec not in _UNICODE and judge.garbled(codec):
            continue
        return Decoded(text.removeprefix("\ufeff"), codec, source)
    detected = judge.detect()
    if detected is not None:
        text = _strict(body, detected)
        if text is not None:
            return Decoded(text.removeprefix("\ufeff"), detected, "detected")
    text = body.decode("utf-8", errors="replace")
    return Decoded(text.removeprefix("\ufeff"), "utf-8", "fallback")


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _starts_plausibly(codec: str, text: str) -> bool:
    # A feed starts with "<" or "{". An ASCII body "decodes" as UTF-16 into CJK text,
    # so a UTF-16/32 label on it (a wrong header or declaration) is refused here.
    if not codec.startswith(("utf-16", "utf-32")):
        return True
    return text.lstrip("\ufeff \t\r\n")[:1] in ("<", "{")


class _Judge:
    """Scores decodings of one body; charset-normalizer is imported only when needed."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._scores: dict[str, float] = {}
        self._guesses: list[str] | None = None

    @cached_property
    def sample(self) -> bytes:
        """The body's words that have non-ASCII bytes (up to 16 KiB of them)."""
        return b" ".join(_FOREIGN_WORD.findall(self.body[: 8 * _SAMPLE_BYTES]))[:_SAMPLE_BYTES]

    def mess(self, codec: str) -> float:
        """How garbled the non-ASCII words read in ``codec`` (0 is clean; 1.0 unreadable)."""
        if codec not in self._scores:
            # A word cut inside a multi-byte character may not decode; judge the rest.
            text = self.sample.decode(codec, errors="replace")
            from charset_normalizer.md import mess_ratio

            self._scores[codec] = mess_ratio(text, maximum_threshold=1.0) if text else 1.0
        return self._scores[codec]

    def garbled(self, codec: str) -> bool:
        """Whether ``codec`` reads the body clearly worse than another encoding would."""
        if not self.sample:
            return False  # pure ASCII reads the same in every ASCII-compatible encoding
        own = self.mess(codec)
        if own < CLEAN:
            return False
        others = [c for c in (*self._alternatives(), "utf-8") if c != codec]
        return any(self.mess(c) + CLEAN <= own for c in others if self._decodes(c))

    def detect(self) -> str | None:
        """The encoding that reads the body best, for a body that says nothing usable."""
        if not self.sample:
            return None
        candidates = [c for c in self._alternatives() if self._decodes(c)]
        if not candidates:
            return None
        guess = candidates[0] if candidates[0] not in PREFERRED else None
        best = min(self.mess(c) for c in candidates)
        if guess is not None and len(self.sample) >= _LONG_ENOUGH and self.mess(guess) <= best:
            return guess
        # Preferred first on ties (short texts), then the guess.
        ordered = [c for c in PREFERRED if c in candidates] + candidates
        return min(ordered, key=self.mess)

    def _alternatives(self) -> list[str]:
        """The detector's guess (if any) first, then the preferred encodings."""
        if self._guesses is None:
            from charset_normalizer import from_bytes

            match = from_bytes(self.body).best()
            guess = codec_name(match.encoding) if match is not None else None
            found = [guess] if guess is not None else []
            self._guesses = found + [c for c in PREFERRED if c != guess]
        return self._guesses

    def _decodes(self, codec: str) -> bool:
        return _strict(self.body, codec) is not None
