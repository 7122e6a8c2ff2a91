"""Pure: cut the entries already known out of an RSS or Atom document before feedparser
reads it.

A changed feed usually brings one to five new entries among dozens, and feedparser's
cost grows with every element it reads. A skim with expat (C, no object per element)
finds each ``<item>`` of an RSS channel and each ``<entry>`` of an Atom feed with its
one ``<guid>`` (or Atom ``<id>``); an item whose guid is already known is cut out, and
its identity returned, so the poller can still count it as present.

Only an item that is surely the entry already stored is cut: one guid or id element
and no other identifier among its children, and no ``xml:base`` anywhere in the
document (which could make feedparser's id differ from the element's text). Anything
else, or a body expat cannot read, is left whole, for feedparser as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

ATOM = "http://www.w3.org/2005/Atom"
_XML_BASE = "http://www.w3.org/XML/1998/namespace base"
_SEP = " "  # expat's separator between namespace URI and local name
_IDENTIFIERS = frozenset({"guid", "id", "identifier"})
_FEED = f"{ATOM}{_SEP}feed"
_ENTRY = f"{ATOM}{_SEP}entry"


@dataclass(slots=True)
class _Item:
    start: int  # byte offset of its start tag
    depth: int  # elements open above it
    id_element: str  # the identifier it should have: "guid", or Atom's "<ns> id"
    ids: int = 0  # identifier-like children seen (more than one: not cut)
    text: list[str] = field(default_factory=list)
    in_id: bool = False


class _Skim:
    def __init__(self, known: frozenset[str]) -> None:
        self.known = known
        self.cuts: list[tuple[int, int, str]] = []  # (start, end tag offset, identity)
        self.stack: list[str] = []
        self.item: _Item | None = None
        self.unsafe = False
        self.parser = expat.ParserCreate(namespace_separator=_SEP)
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if _XML_BASE in attrs:
            self.unsafe = True
        item, depth = self.item, len(self.stack)
        if item is not None:
            if item.in_id:
                item.ids += 2  # markup inside the identifier: not cut
            elif depth == item.depth + 1:
                item.ids += name.rpartition(_SEP)[2] in _IDENTIFIERS
                item.in_id = name == item.id_element
        elif name == "item" and depth == 2 and self.stack[1] == "channel":
            self.item = _Item(self.parser.CurrentByteIndex, depth, "guid")
        elif name == _ENTRY and depth == 1 and self.stack[0] == _FEED:
            self.item = _Item(self.parser.CurrentByteIndex, depth, f"{ATOM}{_SEP}id")
        self.stack.append(name)

    def end(self, name: str) -> None:
        self.stack.pop()
        item = self.item
        if item is None:
            return
        depth = len(self.stack)
        if depth == item.depth + 1:
            item.in_id = False
        elif depth == item.depth:
            self.item = None
            at = self.parser.CurrentByteIndex
            identity = "".join(item.text).strip()
            if at > item.start and item.ids == 1 and identity in self.known:
                self.cuts.append((item.start, at, identity))

    def text(self, data: str) -> None:
        if self.item is not None and self.item.in_id:
            self.item.text.append(data)


def skip_known(body: bytes, known: frozenset[str]) -> tuple[bytes, tuple[str, ...]]:
    """``body`` without its items whose identity is in ``known``, and the identities of
    those cut out, in document order; ``body`` itself and ``()`` when nothing can be cut.
    """
    if not known:
        return body, ()
    skim = _Skim(known)
    try:
        skim.parser.Parse(body, True)
    except expat.ExpatError:
        return body, ()
    if skim.unsafe or not skim.cuts:
        return body, ()
    kept, last = [], 0
    for begin, end_tag, _ in skim.cuts:
        kept.append(body[last:begin])
        last = body.index(b">", end_tag) + 1  # past the item's end tag
    kept.append(body[last:])
    return b"".join(kept), tuple(identity for _, _, identity in skim.cuts)
