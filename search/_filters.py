"""The filters of a query a results page shows as chips: ``kind:``, ``speaker:`` and ``date:``
clauses standing on their own at the top of the query (not under NOT, OR or parentheses, where
taking one out would change what the rest means), each removable by itself.

A chip is named by its position among the query's filters, so a page that removes one sends
that number, never the query (which stays in the server's search record).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE"}
# a top-level piece of a query: a quoted phrase, a range, a parenthesised group (one level is
# enough to skip it: a filter inside is not offered), or a run of other characters
_PIECE = re.compile(r'(?:[^\s"(\[]*(?:"[^"]*"|\[[^\]]*\]|\([^()]*(?:\([^()]*\)[^()]*)*\)))+[^\s"(\[]*|\S+')
_FILTER = re.compile(r'^(kind|speaker|date):("[^"]*"|\[[^\]]*\]|[^\s"()\[\]]+)$')
_YEAR = re.compile(r"^\[(\d{4})-01-01 TO (\d{4})-12-31\]$")


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter of a query: its field, its value as typed (quotes removed) and where it stands."""

    field: str
    value: str
    start: int
    end: int

    @property
    def label(self) -> str:
        """The filter as a person reads it: "Kind: Court record", "Year: 2024", "Speaker: H"."""
        if self.field == "kind":
            return "Kind: " + self.value.replace("_", " ").capitalize()
        year = _YEAR.match(self.value)
        if self.field == "date" and year and year.group(1) == year.group(2):
            return f"Year: {year.group(1)}"
        if self.field == "date":
            return "Date: " + self.value.strip("[]").replace(" TO ", " to ")
        return f"{self.field.capitalize()}: {self.value}"


def query_filters(text: str) -> list[Filter]:
    """The filters of ``text`` that stand on their own at its top level, in order."""
    pieces = [(m.group(), m.start(), m.end()) for m in _PIECE.finditer(text)]
    found = []
    for i, (piece, start, end) in enumerate(pieces):
        match = _FILTER.match(piece)
        if not match:
            continue
        neighbours = {pieces[j][0] for j in (i - 1, i + 1) if 0 <= j < len(pieces)}
        if neighbours & _OPERATORS or piece.startswith("-"):
            continue
        value = match.group(2)
        found.append(Filter(match.group(1), value[1:-1] if value.startswith('"') else value, start, end))
    return found


def without_filter(text: str, number: int) -> str:
    """``text`` without its filter number ``number`` (counted from 0 in ``query_filters``); the text
    itself when there is no such filter."""
    found = query_filters(text)
    if not 0 <= number < len(found):
        return text
    chosen = found[number]
    return " ".join((text[:chosen.start] + " " + text[chosen.end:]).split())
