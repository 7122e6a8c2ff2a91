"""Pure text helpers: HTML to plain text, whitespace and Unicode normalisation."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

# Characters that join a word rather than split it (soft hyphen, zero-width space/joiners,
# word joiner, BOM): removed before matching so "Dnipro\u00adpetrovsk" is one word.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_HAS_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6"
    " header hr li main nav ol p pre section table td th tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Text of an HTML fragment: tags and attributes dropped, entities decoded, spaces folded."""
    if "<" not in html and "&" not in html:
        return collapse_spaces(html)
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return collapse_spaces("".join(parser.parts))


# A tag, a comment or a character reference: enough to send a field through the HTML
# parser. Feeds often escape their HTML twice, so even "plain" fields can hold tags.
_HTML_HINT = re.compile(r"<[A-Za-z/!?]|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def looks_like_html(text: str) -> bool:
    """Whether the text holds a tag or a character reference (``&amp;``, ``&#8217;``)."""
    return ("<" in text or "&" in text) and _HTML_HINT.search(text) is not None


def collapse_spaces(text: str) -> str:
    """Fold every run of white space (line breaks included) to one space, and trim."""
    # str.split() and \s agree on what white space is; split is several times faster.
    return " ".join(text.split())


def normalise(text: str) -> str:
    """Text as matching sees it: NFKC, invisible joiners removed, spaces folded.

    Case is left alone so positions still point into readable text; matching is
    case-insensitive on its own.
    """
    # Invisible joiners go first: left in, they keep a letter and its accent from composing.
    # (Looked for before translating: translate copies the text even when nothing changes.)
    if _HAS_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    return collapse_spaces(unicodedata.normalize("NFKC", text))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 feed``, ``2 feeds``."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def one_line(text: str, limit: int | None = 300) -> str:
    """Text safe for one line (logs, headers, terminals): control characters (escape
    sequences, CR/LF) become spaces, spaces are folded, and it is cut at ``limit``."""
    cleaned = collapse_spaces(_CONTROL.sub(" ", text))
    if limit is None or len(cleaned) <= limit:
        return cleaned
    return cleaned[: limit - 1] + "…"
