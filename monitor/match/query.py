"""The query language: a lexer and a recursive-descent parser to a small tree of records.

Grammar, loosest binding first (NOT binds tighter than AND, AND tighter than OR)::

    query   := or EOF
    or      := and ( "OR" and )*
    and     := unary ( ["AND"] unary )*          adjacent terms are ANDed
    unary   := ("NOT" | "-") unary | near
    near    := primary ( "NEAR/n" primary )*     n words or fewer between
    primary := FIELD ":" primary | "(" or ")" | term
    term    := word | =word | prefix* | "a phrase" | /regex/

Operators are upper case; ``and``, ``or``, ``not`` in lower case are words. Every error
is a :class:`QueryError` whose message is one sentence naming the character position and
what was expected there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import regex

from monitor.match.normalise import TOKEN

Field = Literal["title", "summary", "author", "category", "feed"]
FIELDS: tuple[str, ...] = ("title", "summary", "author", "category", "feed", "domain")
NEAR_DEFAULT = 5
NEAR_MAX = 100
MIN_PREFIX = 3
# Guards against patterns that could stall polling: the length is checked here, and each
# search runs under a timeout (see evaluate.REGEX_TIMEOUT).
MAX_REGEX = 300
MAX_QUERY = 5000
MAX_DEPTH = 50

_OPERATORS = {"AND", "OR", "NOT"}
_NEAR = re.compile(r"NEAR(?:/(\d+))?")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


class QueryError(ValueError):
    """A query that does not parse; ``str()`` is one sentence with the position."""

    def __init__(self, position: int, expected: str, found: str, *, sentence: str = "") -> None:
        self.position = position
        self.expected = expected
        self.found = found
        self.sentence = sentence
        super().__init__(self.describe("the query"))

    def describe(self, subject: str) -> str:
        """The error as one sentence about ``subject`` (``the query``, ``the term 'x'``)."""
        if self.sentence:
            return f"{subject} {self.sentence}"
        return (
            f"{subject} does not parse at character {self.position + 1}: "
            f"expected {self.expected}, found {self.found}"
        )


# -- the tree ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    """One word; ``literal`` turns off spelling variants and inflection."""

    text: str
    literal: bool = False


@dataclass(frozen=True, slots=True)
class Prefix:
    """Every word that begins with ``text`` (written ``text*``)."""

    text: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words in this order with only spaces or punctuation between them."""

    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class Regex:
    """A regular expression searched in the normalised text, case-insensitively."""

    pattern: str


@dataclass(frozen=True, slots=True)
class Domain:
    """The entry link's host is ``name`` or one of its subdomains."""

    name: str


@dataclass(frozen=True, slots=True)
class Scope:
    """``child`` looked for only in one field (``summary`` covers summary and content)."""

    field: Field
    child: Node


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """``left`` and ``right`` in the same field with at most ``distance`` words between."""

    left: Node
    right: Node
    distance: int


Term = Word | Prefix | Phrase | Regex | Domain
Node = Word | Prefix | Phrase | Regex | Domain | Scope | Not | And | Or | Near


def term_text(term: Term) -> str:
    """How a matched term is reported: as the query wrote it, quotes removed."""
    if isinstance(term, Word | Phrase):
        return term.text
    if isinstance(term, Prefix):
        return term.text + "*"
    if isinstance(term, Regex):
        return f"/{term.pattern}/"
    return term.name


def words_term(text: str, literal: bool = False) -> Word | Phrase | None:
    """A word, or a phrase when ``text`` holds several words (``post-war``, ``U.S.``)."""
    words = TOKEN.findall(text)
    if not words:
        return None
    if len(words) == 1:
        return Word(words[0], literal)
    return Phrase(" ".join(text.split()), tuple(Word(w, literal) for w in words))


def has_positive(node: Node) -> bool:
    """Whether the query can only match when something is present (not only exclusions)."""
    if isinstance(node, Not):
        return False
    if isinstance(node, Scope):
        return has_positive(node.child)
    if isinstance(node, And):
        return any(has_positive(c) for c in node.children)
    if isinstance(node, Or):
        return all(has_positive(c) for c in node.children)
    return True


# -- lexing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "(" ")" "word" "phrase" "regex" "op" "near" "not-" "field" "end"
    text: str
    pos: int
    value: int = 0


def _describe(tok: _Tok) -> str:
    if tok.kind == "end":
        return "the end of the query"
    if tok.kind == "phrase":
        return f'the phrase "{tok.text}"'
    if tok.kind == "regex":
        return f"the pattern /{tok.text}/"
    if tok.kind == "field":
        return f"the field {tok.text}:"
    return repr(tok.text)


_SPECIAL = '()"'


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok(c, c, i))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end == -1:
                raise QueryError(i, 'a closing " for the phrase that starts here', "none")
            toks.append(_Tok("phrase", query[i + 1 : end], i))
            i = end + 1
        elif c == "/":
            j = i + 1
            while j < n and query[j] != "/":
                j += 2 if query[j] == "\\" else 1
            if j >= n:
                raise QueryError(i, "a closing / for the pattern that starts here", "none")
            toks.append(_Tok("regex", query[i + 1 : j].replace("\\/", "/"), i))
            i = j + 1
        elif c == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != "-":
            toks.append(_Tok("not-", "-", i))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _SPECIAL:
                j += 1
            word = query[i:j]
            head, colon, _ = word.partition(":")
            if colon and head.isalpha():
                if head.lower() not in FIELDS:
                    raise QueryError(i, "a field name (" + ", ".join(FIELDS) + ")", repr(head))
                toks.append(_Tok("field", head.lower(), i))
                i += len(head) + 1
                continue
            near = _NEAR.fullmatch(word)
            if near:
                distance = int(near.group(1)) if near.group(1) else NEAR_DEFAULT
                if distance > NEAR_MAX:
                    raise QueryError(i, f"a NEAR distance of at most {NEAR_MAX}", word)
                toks.append(_Tok("near", word, i, distance))
            elif word in _OPERATORS:
                toks.append(_Tok("op", word, i))
            else:
                toks.append(_Tok("word", word, i))
            i = j
    toks.append(_Tok("end", "", n))
    return toks


# -- parsing ----------------------------------------------------------------------------


_STARTS = ("word", "phrase", "regex", "(", "field", "not-")
_A_TERM = 'a word, a "phrase", a /pattern/, a field: or "("'


class _Parser:
    def __init__(self, query: str) -> None:
        self.toks = _lex(query)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, expected: str) -> QueryError:
        return QueryError(self.tok.pos, expected, _describe(self.tok))

    def starts_unary(self) -> bool:
        return self.tok.kind in _STARTS or (self.tok.kind == "op" and self.tok.text == "NOT")

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.fail(_A_TERM)
        node = self.or_()
        if self.tok.kind != "end":
            if self.tok.kind == ")":
                raise self.fail('an operator or the end of the query (this ")" has no "(")')
            raise self.fail("an operator, a term or the end of the query")
        return node

    def or_(self) -> Node:
        children = [self.and_()]
        while self.tok.kind == "op" and self.tok.text == "OR":
            self.take()
            children.append(self.and_())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_(self) -> Node:
        children = [self.unary()]
        while True:
            if self.tok.kind == "op" and self.tok.text == "AND":
                op = self.take()
                if not self.starts_unary():
                    raise self.fail(f"{_A_TERM} after {op.text}")
                children.append(self.unary())
            elif self.starts_unary():
                children.append(self.unary())
            else:
                break
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        if self.tok.kind == "not-" or (self.tok.kind == "op" and self.tok.text == "NOT"):
            op = self.take()
            if not self.starts_unary():
                raise self.fail(f"{_A_TERM} after {op.text}")
            return Not(self.nested(self.unary))
        return self.near()

    def near(self) -> Node:
        left = self.primary()
        while self.tok.kind == "near":
            op = self.take()
            _check_positional(left, op)
            right = self.primary()
            _check_positional(right, op)
            left = Near(left, right, op.value)
        return left

    def nested(self, parse: Callable[[], Node]) -> Node:
        # Bounded so that a hostile query cannot exhaust the stack.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"at most {MAX_DEPTH} levels of nesting")
        node = parse()
        self.depth -= 1
        return node

    def primary(self, in_scope: bool = False) -> Node:
        tok = self.tok
        if tok.kind == "(":
            self.take()
            if self.tok.kind == ")":
                raise self.fail(f"{_A_TERM} inside the parentheses")
            node = self.nested(self.or_)
            if self.tok.kind != ")":
                raise self.fail('")" to close the "(" at character ' + str(tok.pos + 1))
            self.take()
            return node
        if tok.kind == "field":
            if in_scope:
                raise self.fail("a term (a field: cannot hold another field:)")
            self.take()
            if tok.text == "domain":
                return self.domain()
            if self.tok.kind in ("end", ")") or self.tok.kind in ("op", "near"):
                raise self.fail(f"{_A_TERM} after {tok.text}:")
            field: Field = tok.text  # type: ignore[assignment]
            return Scope(field, self.primary(in_scope=True))
        if tok.kind == "phrase":
            self.take()
            term = words_term(tok.text)
            if term is None:
                raise QueryError(tok.pos, "a phrase with letters or digits", _describe(tok))
            return term
        if tok.kind == "regex":
            self.take()
            return _regex(tok)
        if tok.kind == "word":
            self.take()
            return _word(tok)
        if tok.kind in ("op", "near"):
            raise self.fail(f"{_A_TERM} before {tok.text}")
        raise self.fail(_A_TERM)

    def domain(self) -> Domain:
        tok = self.tok
        name = tok.text.lower().removeprefix("www.") if tok.kind == "word" else ""
        if not _DOMAIN.fullmatch(name):
            raise self.fail("a domain name like bbc.co.uk after domain:")
        self.take()
        return Domain(name)


def _check_positional(node: Node, op: _Tok) -> None:
    """NEAR measures word distances, so both sides must be words, phrases or prefixes."""
    if isinstance(node, Word | Prefix | Phrase):
        return
    if isinstance(node, Or) and all(isinstance(c, Word | Prefix | Phrase) for c in node.children):
        return
    raise QueryError(
        op.pos,
        f"words, phrases or prefixes (or an OR of them) on both sides of {op.text}",
        "AND, NOT, a field or a pattern there",
    )


def _word(tok: _Tok) -> Node:
    text, literal = tok.text, False
    if text.startswith("="):
        text, literal = text[1:], True
    if text.endswith("*"):
        stem = text[:-1]
        words = TOKEN.findall(stem)
        if literal or len(words) != 1 or words[0] != stem or "*" in stem:
            raise QueryError(tok.pos, "letters or digits before a final * (like ceasefir*)", text)
        if len(stem) < MIN_PREFIX:
            raise QueryError(tok.pos, f"at least {MIN_PREFIX} letters before *", repr(text))
        return Prefix(stem)
    if "*" in text:
        raise QueryError(tok.pos, "* only at the end of a word (like ceasefir*)", repr(tok.text))
    term = words_term(text, literal)
    if term is None:
        raise QueryError(tok.pos, "a word with letters or digits", repr(tok.text))
    return term


def _regex(tok: _Tok) -> Regex:
    if not tok.text:
        raise QueryError(tok.pos, "a pattern between the slashes", "//")
    if len(tok.text) > MAX_REGEX:
        raise QueryError(tok.pos, f"a pattern of at most {MAX_REGEX} characters", "a longer one")
    try:
        regex.compile(tok.text, regex.IGNORECASE | regex.V0)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise QueryError(tok.pos, "a valid regular expression", f"{exc}") from None
    return Regex(tok.text)


def parse(query: str) -> Node:
    """The tree of a query.

    Raises:
        QueryError: the query does not parse, is too long, or only excludes.
    """
    if len(query) > MAX_QUERY:
        raise QueryError(MAX_QUERY, f"a query of at most {MAX_QUERY} characters", "more")
    node = _Parser(query).parse()
    if not has_positive(node):
        raise QueryError(
            0,
            "a term that must be present",
            "only exclusions",
            sentence="only excludes: it needs at least one term that must be present",
        )
    return node


def terms(node: Node) -> list[Term]:
    """The terms of a query in the order they are written."""
    if isinstance(node, Word | Prefix | Phrase | Regex | Domain):
        return [node]
    if isinstance(node, Scope | Not):
        return terms(node.child)
    if isinstance(node, Near):
        return terms(node.left) + terms(node.right)
    return [t for c in node.children for t in terms(c)]
