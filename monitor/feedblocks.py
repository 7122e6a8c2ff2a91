"""The ``[[feeds]]`` blocks of a config's text, added and removed with tomlkit.

tomlkit keeps a TOML file as it was written, so everything outside the edited block
stays byte for byte. A new block goes after the last one, and the comments that
followed that block (the next section's heading, say) move below the new one, so they
stay above what they describe. A removed block takes with it the comments inside it and
those directly above its header (no blank line between); every other comment stays.
Each edit is checked: the new text must hold exactly the old data with the feed list
changed (and, for an addition, be the old text with one piece inserted), or it is
refused with a :class:`LayoutError`.

Pure: text in, text out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, Comment, Item, Key, Null, Table, Whitespace
from tomlkit.toml_document import TOMLDocument

_Body = list[tuple[Key | None, Item]]
_TRIVIA = (Whitespace, Comment, Null)


class LayoutError(ValueError):
    """The file's feed list cannot be edited safely; ``str()`` says why and what to do."""


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A feed to write into the config: the values of its ``[[feeds]]`` block."""

    url: str
    name: str | None = None
    interval: str | None = None

    def values(self) -> dict[str, str]:
        """The block's keys and values as written: a literal ``${`` doubled to ``$${``, so
        that the value is not taken for an environment variable when the file is read."""
        raw = {"url": self.url, "name": self.name, "interval": self.interval}
        return {k: v.replace("${", "$${") for k, v in raw.items() if v is not None}


def add_feeds(text: str, new: Sequence[NewFeed]) -> str:
    """``text`` with a ``[[feeds]]`` block for each of ``new`` after the last one.

    Raises:
        LayoutError: the text is not TOML, its feeds are not ``[[feeds]]`` blocks in one
            place, or the edit would change anything but the feed list.
    """
    doc, text = _parse(text)
    feeds = _feeds(doc)
    tables = [_table(f) for f in new]
    if not tables:
        return text
    for previous in tables[:-1]:
        previous.value.body.append((None, Whitespace("\n")))
    if feeds is None:
        # No feed yet: the first block goes at the end, after a blank line.
        tables[0].trivia.indent = "\n" if text.strip() else ""
        aot = tomlkit.aot()
        for table in tables:
            aot.append(table)
        doc.append("feeds", aot)
    else:
        tail = _tail(feeds[-1])
        start = _after_start(tail)
        moved = tail[start:]
        del tail[start:]
        tail.append((None, Whitespace("\n")))
        for table in tables:
            feeds.append(table)
        tables[-1].value.body.extend(moved)
    expected = _data(text)
    expected["feeds"] = [*expected.get("feeds", []), *(f.values() for f in new)]
    result = _checked(doc, text, expected)
    # Nothing but an insertion: the old text is the new one with one piece left out.
    same = next((i for i, (a, b) in enumerate(zip(text, result, strict=False)) if a != b), None)
    if same is not None and not result.endswith(text[same:]):
        raise LayoutError("the new block cannot be added without changing the text around it")
    return result


def remove_feed(text: str, index: int) -> str:
    """``text`` without its ``index``-th ``[[feeds]]`` block.

    Raises:
        LayoutError: as :func:`add_feeds`, or there is no such block.
    """
    doc, text = _parse(text)
    feeds = _feeds(doc)
    if feeds is None or not 0 <= index < len(feeds):
        raise LayoutError(f"there is no feed number {index + 1} in the file")
    position = _position(doc)
    gap_body, gap_start, gap_stop = _gap_before(doc, feeds, index, position)
    gap = [item for _, item in gap_body[gap_start:gap_stop]]
    keep, blank = _split_gap(gap)
    tail = _tail(feeds[index])
    after = [item for _, item in tail[_after_start(tail) :]]
    # What stood between the previous block and this one goes, but for the comments
    # that are not this block's; what followed this block (the next section's
    # comments) takes its place. With nothing after it, the blank line that set the
    # block apart goes with it.
    fill = after or _without_last_line(blank)
    emptied = len(feeds) == 1
    if emptied:
        doc.remove("feeds")
    else:
        del feeds[index]
    if gap_body is not doc.body:
        del gap_body[gap_start:]
        gap_body.extend((None, item) for item in [*keep, *fill])
    else:
        # Trivia at the top level, before the first block: items there cannot be
        # inserted without renumbering the document, so the slots of the removed ones
        # are emptied and the fill is written just before what comes next.
        for i in range(gap_start + len(keep), gap_stop):
            gap_body[i] = (None, Null())
        filler = "".join(item.as_string() for item in fill)
        if not emptied:
            feeds[0].trivia.indent = filler + feeds[0].trivia.indent
        elif filler:
            gap_body[position] = (None, Whitespace(filler))
    expected = _data(text)
    expected["feeds"] = [f for i, f in enumerate(expected["feeds"]) if i != index]
    if not expected["feeds"]:
        del expected["feeds"]
    return _checked(doc, text, expected)


def _parse(text: str) -> tuple[TOMLDocument, str]:
    if text and not text.endswith("\n"):
        text += "\n"
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise LayoutError(f"not valid TOML ({exc})") from None
    if doc.as_string() != text:
        # tomlkit gathers [[feeds]] blocks scattered among other tables into one place.
        raise LayoutError(
            "the file cannot be edited without moving parts of it; put all the [[feeds]]"
            " blocks in one place, one after another"
        )
    return doc, text


def _data(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(f"not valid TOML ({exc})") from None


def _checked(doc: TOMLDocument, text: str, expected: dict[str, Any]) -> str:
    result = doc.as_string()
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        result = result.replace("\r\n", "\n").replace("\n", "\r\n")
    if _data(result) != expected:
        raise LayoutError(
            "the edit would change more than the feed list; edit the [[feeds]] blocks by hand"
        )
    return result


def _feeds(doc: TOMLDocument) -> AoT | None:
    where = [item for key, item in doc.body if key is not None and key.key == "feeds"]
    if not where:
        return None
    if isinstance(where[0], Array):
        raise LayoutError(
            "feeds is written as an inline array; write one [[feeds]] block per feed instead"
        )
    if len(where) > 1 or not isinstance(where[0], AoT):
        raise LayoutError("feeds is not a list of [[feeds]] blocks in one place")
    return where[0]


def _position(doc: TOMLDocument) -> int:
    return next(i for i, (k, _) in enumerate(doc.body) if k is not None and k.key == "feeds")


def _table(feed: NewFeed) -> Table:
    table = tomlkit.table()
    for key, value in feed.values().items():
        table.add(key, value)
    return table


def _tail(table: Table) -> _Body:
    """The body that ends where ``table``'s text ends (its last sub-table's, if any)."""
    body = table.value.body
    while body and body[-1][0] is not None and isinstance(body[-1][1], Table | AoT):
        last = body[-1][1]
        body = (last if isinstance(last, Table) else last.body[-1]).value.body
    return body


def _is_blank(item: Item) -> bool:
    return isinstance(item, Whitespace) and "\n" in item.as_string()


def _after_start(body: _Body) -> int:
    """Where what follows a block's text begins: the first blank line after its last key.

    Comments right under the last key (no blank line between) are the block's own, such
    as a commented-out setting; from the first blank line on, they are the next part's.
    """
    start = len(body)
    while start and body[start - 1][0] is None and isinstance(body[start - 1][1], _TRIVIA):
        start -= 1
    return next((i for i in range(start, len(body)) if _is_blank(body[i][1])), len(body))


def _gap_before(doc: TOMLDocument, feeds: AoT, index: int, position: int) -> tuple[_Body, int, int]:
    """The blank lines and comments between the block before ``feeds[index]`` and its
    header, as (body, start, stop): in a table's body, or at the document's top level."""
    if index > 0:
        tail = _tail(feeds[index - 1])
        return tail, _after_start(tail), len(tail)
    if position > 0:
        key, before = doc.body[position - 1]
        if key is not None and isinstance(before, Table | AoT):
            tail = _tail(before if isinstance(before, Table) else before.body[-1])
            return tail, _after_start(tail), len(tail)
    start = position
    while start and doc.body[start - 1][0] is None and isinstance(doc.body[start - 1][1], _TRIVIA):
        start -= 1
    return doc.body, start, position


def _split_gap(gap: list[Item]) -> tuple[list[Item], list[Item]]:
    """The gap as (kept, blank): the comments directly above the header (no blank line
    between) belong to the block and are dropped, with the blank lines before them."""
    end = len(gap)
    while end and isinstance(gap[end - 1], Comment | Null):
        end -= 1
    keep = end
    while keep and (_is_blank(gap[keep - 1]) or isinstance(gap[keep - 1], Null)):
        keep -= 1
    return gap[:keep], gap[keep:end]


def _without_last_line(blank: list[Item]) -> list[Item]:
    lines = "".join(item.as_string() for item in blank).splitlines(keepends=True)
    rest = "".join(lines[:-1])
    return [Whitespace(rest)] if rest else []
