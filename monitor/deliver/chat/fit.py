"""Fitting a rendered message into a service's limits without breaking its markup (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

ELLIPSIS = "…"
Size = Callable[[str], int]

# A tag, an entity, a run of text, or a stray < or & (none in escaped output; kept whole).
_HTML_TOKEN = re.compile(r"<[^<>]*>|&#?\w+;|[^<&]+|[<&]")
_VOID = frozenset({"br", "hr", "img"})
# What a hard cut must not leave behind: trailing backslashes (a markdown escape would
# swallow the ellipsis) or half an entity (&am).
_DANGLING = re.compile(r"\\+$|&#?\w*$")


def utf16_units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    return len(text.encode())


def split_title(text: str) -> tuple[str, str]:
    """A rendered template's first line (the title) and the rest (the body)."""
    title, _, body = text.partition("\n")
    return title.strip(), body.strip("\n")


def cut_text(text: str, limit: int, size: Size = len) -> str:
    """``text`` cut to ``limit`` with an ellipsis, never mid-escape or mid-entity."""
    if size(text) <= limit:
        return text
    budget, used, out = limit - size(ELLIPSIS), 0, list[str]()
    for char in text:
        used += size(char)
        if used > budget:
            break
        out.append(char)
    return _DANGLING.sub("", "".join(out)).rstrip() + ELLIPSIS


def cut_lines(text: str, limit: int, size: Size = len) -> str:
    """``text`` cut at a line end to fit ``limit``, so no markup construct (a link, a list
    item) is split; one over-long first line is cut by :func:`cut_text`."""
    if size(text) <= limit:
        return text
    budget, used, kept = limit - size("\n" + ELLIPSIS), 0, list[str]()
    for line in text.split("\n"):
        cost = size(line) + (1 if kept else 0)
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    if not kept:
        return cut_text(text.split("\n", 1)[0], limit, size)
    return "\n".join(kept).rstrip() + "\n" + ELLIPSIS


def cut_html(text: str, limit: int, size: Size = len) -> str:
    """HTML cut to fit ``limit``: never inside a tag or an entity, and every element left
    open is closed again (a dangling ``<b>`` or ``<a href=`` would be rejected or spill)."""
    if size(text) <= limit:
        return text
    out: list[str] = []
    stack: list[str] = []
    used = 0

    def room(extra: int = 0) -> int:
        closers = sum(size(f"</{name}>") for name in stack)
        return limit - used - closers - extra - size(ELLIPSIS)

    for token in (m.group() for m in _HTML_TOKEN.finditer(text)):
        if token.startswith("</") and len(token) > 2:
            name = token[2:-1].strip().lower()
            if stack and stack[-1] == name:
                stack.pop()
        elif token.startswith("<") and len(token) > 1:
            name = re.split(r"[\s/>]", token[1:], maxsplit=1)[0].lower()
            void = name in _VOID or token.endswith("/>")
            if size(token) > room(0 if void else size(f"</{name}>")):
                break
            if not void:
                stack.append(name)
        elif size(token) > room():
            if not token.startswith("&"):  # text: keep the characters that fit
                budget = room()
                for char in token:
                    budget -= size(char)
                    if budget < 0:
                        break
                    out.append(char)
            break
        out.append(token)
        used += size(token)
    closers = "".join(f"</{name}>" for name in reversed(stack))
    return "".join(out).rstrip() + ELLIPSIS + closers
