"""The words of a search, highlighted in a document as its reader sees it.

The spans are found in the masked text (where every identity is a token, as the index holds
it) and carried over to the text of the reader's view: a plain word at the same place, shifted
by what each token renders as; a token as the whole of what it renders as, and only when the
query itself was rewritten to that token, which the reader's own vocabulary alone does (the
label they typed, or a name the policy shows them). A real name typed by someone who may not
see it stays an ordinary word: it occurs nowhere in the masked text, so nothing lights up, and
least of all the pseudonym standing where the name was. Where the view and the masked form do
not line up (re-masked in between), the unit gets no highlight rather than a wrong one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from redaction import TOKEN_PATTERN
from search._engine import term_spans
from vault import DocumentView, MaskedDocument, MaskedUnit, ViewUnit

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class DocumentHighlights:
    """Where the search words stand in each unit of a view (unit position -> spans in its text,
    in order); the hits of the document are these spans, numbered from 1 in reading order."""

    units: dict[int, tuple[Span, ...]]

    @property
    def count(self) -> int:
        return sum(len(spans) for spans in self.units.values())

    def first_number(self, position: int) -> int:
        """The number of the first hit of unit ``position`` (or of the first unit after it)."""
        number = 1
        for unit, spans in self.units.items():
            if unit >= position and spans:
                return number
            number += len(spans)
        return min(number, self.count) if self.count else 0


def highlights(view: DocumentView, masked: MaskedDocument, terms: frozenset[str]) -> DocumentHighlights:
    by_position = {unit.position: unit for unit in masked.units}
    found: dict[int, tuple[Span, ...]] = {}
    for unit in view.units:
        source = by_position.get(unit.position)
        spans = _unit_spans(unit, source, terms) if source is not None and terms else ()
        if spans:
            found[unit.position] = spans
    return DocumentHighlights(found)


def _unit_spans(unit: ViewUnit, source: MaskedUnit, terms: frozenset[str]) -> tuple[Span, ...]:
    tokens = list(TOKEN_PATTERN.finditer(source.text))
    if len(tokens) != len(unit.marks):
        return ()
    masked_at = view_at = 0
    for token, (start, end, _real) in zip(tokens, unit.marks):
        if source.text[masked_at:token.start()] != unit.text[view_at:start]:
            return ()  # the view is not this masked form
        masked_at, view_at = token.end(), end
    if source.text[masked_at:] != unit.text[view_at:]:
        return ()
    marks = {token.start(): mark for token, mark in zip(tokens, unit.marks)}
    spans: list[Span] = []
    for start, end, term in term_spans(source.text):
        if term not in terms:
            continue
        if start in marks and TOKEN_PATTERN.fullmatch(source.text, start, end):
            spans.append((marks[start][0], marks[start][1]))
            continue
        if any(t.start() < end and start < t.end() for t in tokens):
            continue  # part of a token: never a word of its own
        offset = _shift_before(tokens, unit.marks, start)
        spans.append((start + offset, end + offset))
    return tuple(spans)


def _shift_before(tokens: list[re.Match[str]], marks: tuple[tuple[int, int, bool], ...], at: int) -> int:
    """How far the view has moved text at masked offset ``at``: the tokens before it, each
    replaced by what it renders as."""
    return sum((m_end - m_start) - (t.end() - t.start()) for t, (m_start, m_end, _) in zip(tokens, marks) if t.end() <= at)
