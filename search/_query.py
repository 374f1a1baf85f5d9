"""The query language's rules on the text a user types, and the orders of an answer.

Allowed: words, "phrases", AND / OR / NOT, parentheses, the fields ``speaker:``,
``kind:``, ``date:`` (the document's own date: a year, a day, or ``date:[2023-01-01 TO 2023-06-30]``)
and ``uploaded:`` (the day it came in, written the same ways); ``text:``, where words are
searched anyway, is let through), trailing wildcards after at least three letters
(``tight*``), and fuzzy words up to two edits away (``Quilon~`` or ``Quilon~2``). Everything
else is refused with an error that names the rule: leading or inner wildcards, ``?``, regular
expressions, other fields, too long, too deep, too many clauses. The raw text is checked here,
before any other work; the parsed tree is checked where it is parsed (``search._engine._parse``:
Whoosh's parser never refuses anything, and recurses on nesting).

Before parsing, what the user may type for an identity (its pseudonym label; for users who may
see it, its real name and aliases) is replaced by the identity's token, the only form in which
an identity is indexed. A real name typed by anyone else stays an ordinary word: it was never
indexed, so it matches nothing, like any word that does not occur.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from redaction import Alias, AliasMatcher
from search.errors import QueryNotAllowed, QueryTooComplex, QueryTooLong
from vault.errors import InvalidInput

MAX_QUERY_BYTES = 1024
MAX_DEPTH = 16
MAX_CLAUSES = 64
MIN_PREFIX = 3
MAX_EXPANSIONS = 128
MAX_FUZZY_EDITS = 2
KINDS = ("court_record", "transcript")
SEARCHABLE_FIELDS = {"text": "text", "pairs": "text", "speaker": "speaker", "kind": "kind", "date": "date",
                     "uploaded": "uploaded"}
OFFERED_FIELDS = ("speaker", "kind", "date", "uploaded", "text")  # what a user may type before a colon
DATE_FIELDS = ("date", "uploaded")  # a year, a day or a range of days
FIELDS_HINT = "use speaker:, kind:, date: or uploaded:"
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE"}
_REGEX = re.compile(r"(?:^|[\s:(])(?:r\"|/[^/\s]+/)")
_QUOTED = re.compile(r'"[^"]*"')
# a field as Whoosh's FieldsPlugin reads one: a name and a colon (a time, "10:30", is no field)
_FIELD = re.compile(r"(?<![\w:])([^\W\d]\w*):")


class Sort(StrEnum):
    """The orders of a search: by relevance, or by each document's own date, newest or oldest
    first (within a day, the more relevant first; a document without a date counts as the oldest)."""

    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"

    @classmethod
    def named(cls, value: str) -> Sort:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput("sort is one of " + ", ".join(cls)) from None

    @property
    def day_sign(self) -> int:
        """How the day weighs in the order: 1 newest first, -1 oldest first, 0 not at all."""
        return {Sort.NEWEST: 1, Sort.OLDEST: -1}.get(self, 0)


def check_text(text: str) -> str:
    """The checks on the raw text, before anything else is done for a query."""
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise QueryNotAllowed("EMPTY_QUERY", "type something to search for")
    if len(text.encode()) > MAX_QUERY_BYTES:
        raise QueryTooLong(f"a query holds at most {MAX_QUERY_BYTES} bytes; shorten it")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise QueryNotAllowed("QUERY_INVALID", "the query contains control or invisible characters; retype it")
    depth = deepest = 0
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                raise QueryNotAllowed("QUERY_INVALID", "a ')' has no '(' before it")
        if deepest > MAX_DEPTH:
            raise QueryTooComplex(f"parentheses nest at most {MAX_DEPTH} deep")
    if quoted:
        raise QueryNotAllowed("QUERY_INVALID", 'a quotation mark (") is not closed')
    if depth:
        raise QueryNotAllowed("QUERY_INVALID", "a '(' is not closed")
    if _REGEX.search(text):
        raise QueryNotAllowed("QUERY_NOT_ALLOWED", "regular expressions are not supported; use words, phrases and a trailing *")
    for word in re.findall(r'"[^"]*"|\S+', text):
        if word.startswith('"'):
            continue
        bare = word.split(":", 1)[-1].lstrip("(").rstrip(")")
        if bare.startswith("*") or (bare.startswith("?")):
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", "a word cannot start with a wildcard; type at least "
                                                       f"{MIN_PREFIX} letters before the *")
        if "?" in bare:
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", "'?' wildcards are not supported; use a trailing *")
    for field in _FIELD.finditer(_QUOTED.sub(" ", text)):
        if field.group(1) not in OFFERED_FIELDS:
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", f"the field {field.group(1)!r} cannot be searched; "
                                                       + FIELDS_HINT)
    return text


def vocabulary_matcher(vocabulary: tuple[tuple[str, str], ...]) -> AliasMatcher | None:
    """A matcher of what may be typed for each identity, pointing at its token."""
    if not vocabulary:
        return None
    return AliasMatcher(Alias(token, phrase) for phrase, token in vocabulary)


def rewrite(text: str, vocabulary: AliasMatcher | None) -> tuple[str, dict[str, set[str]]]:
    """The text with every identity typed replaced by its token, and what was typed for each token."""
    typed_for: dict[str, set[str]] = {}
    if vocabulary is None:
        return text, typed_for
    out = []
    cursor = 0
    for mention in vocabulary.find(text):
        typed = text[mention.start:mention.end]
        if typed in _OPERATORS or text[mention.end:mention.end + 1] == ":":
            continue  # an operator or a field name, not an identity
        out.append(text[cursor:mention.start])
        out.append(mention.identity_id)  # the token
        typed_for.setdefault(mention.identity_id.lower(), set()).add(typed)
        cursor = mention.end
    out.append(text[cursor:])
    return "".join(out), typed_for
